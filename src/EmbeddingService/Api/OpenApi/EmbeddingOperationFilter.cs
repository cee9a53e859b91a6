using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;
using EmbeddingService.Api.Errors;

namespace EmbeddingService.Api.OpenApi;

/// <summary>
/// Completes each API operation: a required request body with an example, examples and descriptions for every response,
/// the <c>Retry-After</c> and timing headers, and the bearer requirement (every route the API explorer lists is protected).
/// </summary>
internal sealed class EmbeddingOperationFilter : IOperationFilter
{
    private static readonly string[] s_timingHeaders = ["x-compute-tokens", "x-truncated-inputs", "x-cache-hits", "x-tokenization-time", "x-queue-time", "x-inference-time", "x-total-time"];

    internal const string CacheControlDescription =
        "Pooled vectors are cached by model and token ids (`x-cache-hits` says how many inputs were served from the cache). " +
        "Send `Cache-Control: no-cache` to compute every input afresh and refresh its entry, or `Cache-Control: no-store` to neither read nor write the cache.";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var id = operation.OperationId;
        if (id is "Health" or "Live")
        {
            // Probes: public, and their 503 carries the same health body, not an API error.
            operation.Description = "Public: never needs an API key. Answers 503 with the same body while not healthy.";
            return;
        }

        if (id is "Embed" or "EmbedChunks" or "Similarity" or "CreateEmbeddings")
        {
            // Told here, not as a header parameter: generated clients would grow an argument on every call for it.
            operation.Description = (operation.Description is { Length: > 0 } described ? described + "\n\n" : "") + CacheControlDescription;
        }

        var surface = context.ApiDescription.RelativePath?.StartsWith("v1/", StringComparison.OrdinalIgnoreCase) == true ? ApiSurface.OpenAi : ApiSurface.Tei;

        if (operation.RequestBody is OpenApiRequestBody body)
        {
            body.Required = true;
            body.Description ??= "The request, as JSON.";
            if (OpenApiDocumentation.RequestExample(id) is { } example && body.Content?.TryGetValue("application/json", out var media) == true)
            {
                media.Example = example;
            }
        }

        foreach (var (code, response) in operation.Responses ?? [])
        {
            if (response is not OpenApiResponse concrete || !int.TryParse(code, out var status))
            {
                continue;
            }

            var json = concrete.Content?.TryGetValue("application/json", out var media) == true ? media : null;
            if (status < 300)
            {
                if (json is not null && OpenApiDocumentation.ResponseExample(id) is { } example)
                {
                    json.Example = example;
                }

                if (id is "Embed" or "EmbedChunks" or "EmbedAll" or "Similarity" or "CreateEmbeddings")
                {
                    concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
                    concrete.Headers["x-model-id"] = Header("The model that served the request.", JsonSchemaType.String);
                    foreach (var header in s_timingHeaders)
                    {
                        concrete.Headers[header] = header switch
                        {
                            "x-compute-tokens" => Header("Tokens processed, special tokens and every chunk's included.", JsonSchemaType.Integer),
                            "x-truncated-inputs" => Header("Inputs cut to the model's limit.", JsonSchemaType.Integer),
                            "x-cache-hits" => Header("Model inputs (an input, or each chunk of one) served from the embedding cache.", JsonSchemaType.Integer),
                            _ => Header("Milliseconds spent in this stage.", JsonSchemaType.Number),
                        };
                    }
                }

                continue;
            }

            concrete.Description = OpenApiDocumentation.DescribeError(status);
            if (json is not null)
            {
                json.Example = surface == ApiSurface.OpenAi ? OpenApiDocumentation.OpenAiErrorExample(status) : OpenApiDocumentation.TeiErrorExample(status);
            }

            if (status is 429 or 503)
            {
                concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
                concrete.Headers["Retry-After"] = Header("Seconds to wait before retrying.", JsonSchemaType.Integer);
            }
        }

        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(OpenApiDocumentation.SecuritySchemeId, context.Document)] = [] }];
    }

    private static OpenApiHeader Header(string description, JsonSchemaType type) =>
        new() { Description = description, Schema = new OpenApiSchema { Type = type } };
}
