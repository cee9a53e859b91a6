using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;
using EmbeddingService.Api.Contracts;

namespace EmbeddingService.Api.OpenApi;

/// <summary>
/// What the C# types cannot say: which request fields the handlers require (the DTOs keep them nullable so a missing
/// field is our 4xx, not the serializer's), and the closed sets of string options.
/// </summary>
internal sealed class EmbeddingSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete || concrete.Properties is null)
        {
            return;
        }

        var type = context.Type;
        if (type == typeof(EmbedRequest) || type == typeof(TokenizeRequest) || type == typeof(SimilarityRequest) || type == typeof(EmbedChunksRequest)
            || type == typeof(EmbedAllRequest))
        {
            Require(concrete, "inputs");
        }
        else if (type == typeof(DecodeRequest))
        {
            Require(concrete, "ids");
        }
        else if (type == typeof(SimilarityInputs))
        {
            Require(concrete, "source_sentence", "sentences");
        }
        else if (type == typeof(OpenAiEmbeddingRequest))
        {
            Require(concrete, "input", "model");
            Enumerate(concrete, "encoding_format", "float", "base64");
        }

        if (type == typeof(EmbedRequest) || type == typeof(SimilarityRequest) || type == typeof(EmbedAllRequest))
        {
            Enumerate(concrete, "truncation_direction", "right", "left");
        }

        if (type == typeof(EmbedRequest) || type == typeof(SimilarityRequest) || type == typeof(OpenAiEmbeddingRequest))
        {
            Enumerate(concrete, "long_input", "truncate", "error", "mean");
        }

        // A field with a default (normalize, add_special_tokens) may be left out, whatever its C# type.
        if (concrete.Required is { Count: > 0 } required)
        {
            foreach (var (name, property) in concrete.Properties)
            {
                if (property.Default is not null)
                {
                    required.Remove(name);
                }
            }
        }
    }

    private static void Require(OpenApiSchema schema, params string[] names)
    {
        schema.Required ??= new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            schema.Required.Add(name);
            if (schema.Properties!.TryGetValue(name, out var property) && property is OpenApiSchema concrete && concrete.Type is { } t)
            {
                concrete.Type = t == JsonSchemaType.Null ? null : t & ~JsonSchemaType.Null;
            }
        }
    }

    private static void Enumerate(OpenApiSchema schema, string name, params string[] values)
    {
        if (schema.Properties!.TryGetValue(name, out var property) && property is OpenApiSchema concrete)
        {
            // Leaving the field out (or null) means the default; generators handle a nullable enum without a null member best.
            concrete.Enum = [.. values.Select(static v => (JsonNode)JsonValue.Create(v))];
        }
    }
}
