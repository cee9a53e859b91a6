using System.Reflection;
using Microsoft.OpenApi;
using EmbeddingService.Api.Contracts;

namespace EmbeddingService.Hosting;

/// <summary>Swashbuckle wiring, in one file: the document at <c>/swagger/v1/swagger.json</c> and the UI at <c>/swagger</c>.</summary>
internal static class OpenApiSetup
{
    public static IServiceCollection AddEmbeddingOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "EmbeddingService",
                Version = "v1",
                Description = "Sentence embeddings from local ONNX models, behind Text Embeddings Inference and OpenAI compatible routes.",
            });

            var xml = Path.Combine(AppContext.BaseDirectory, $"{Assembly.GetExecutingAssembly().GetName().Name}.xml");
            if (File.Exists(xml))
            {
                options.IncludeXmlComments(xml);
            }

            // The JSON unions have hand-written converters, so describe them by hand too.
            options.MapType<StringOrList>(() => new OpenApiSchema
            {
                OneOf =
                [
                    new OpenApiSchema { Type = JsonSchemaType.String },
                    new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                ],
            });
            options.MapType<OpenAiInput>(() => new OpenApiSchema
            {
                OneOf =
                [
                    new OpenApiSchema { Type = JsonSchemaType.String },
                    new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                    new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" } },
                    new OpenApiSchema
                    {
                        Type = JsonSchemaType.Array,
                        Items = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" } },
                    },
                ],
            });
            options.MapType<EmbeddingVector>(() => new OpenApiSchema
            {
                OneOf =
                [
                    new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.Number, Format = "float" } },
                    new OpenApiSchema { Type = JsonSchemaType.String, Format = "byte", Description = "base64 of little-endian float32 values" },
                ],
            });
        });
        return services;
    }

    public static WebApplication UseEmbeddingOpenApi(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(options => options.SwaggerEndpoint("/swagger/v1/swagger.json", "EmbeddingService v1"));
        return app;
    }
}
