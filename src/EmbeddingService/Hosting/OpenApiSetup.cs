using System.Reflection;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;
using EmbeddingService.Api.Contracts;
using EmbeddingService.Api.OpenApi;

namespace EmbeddingService.Hosting;

/// <summary>
/// Swashbuckle wiring, in one file: the document at <c>/swagger/v1/swagger.json</c> and the UI at <c>/swagger</c>.
/// The committed copy is <c>openapi.json</c> at the repository root (the client is generated from it); a test fails when they differ.
/// </summary>
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
                Description = "Sentence embeddings from local ONNX models, behind Text Embeddings Inference and OpenAI compatible routes. "
                    + "When the server has API keys configured (`Auth:ApiKeys`), every route except `/health*` and `/metrics` needs `Authorization: Bearer <key>`.",
            });

            var xml = Path.Combine(AppContext.BaseDirectory, $"{Assembly.GetExecutingAssembly().GetName().Name}.xml");
            if (File.Exists(xml))
            {
                options.IncludeXmlComments(xml);
            }

            // Non-nullable reference properties of the responses are always present: say so, so generators make them non-null.
            options.SupportNonNullableReferenceTypes();
            options.NonNullableReferenceTypesAsRequired();

            options.AddSecurityDefinition(OpenApiDocumentation.SecuritySchemeId, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "API key",
                Description = "An API key from the server's `Auth:ApiKeys`, sent as `Authorization: Bearer <key>`. Not needed when the server has no keys configured.",
            });

            MapUnions(options);
            options.SchemaFilter<EmbeddingSchemaFilter>();
            options.OperationFilter<EmbeddingOperationFilter>();
            options.DocumentFilter<OperationsDocumentFilter>();
        });

        // Describe the wire as it is: the same snake_case options the endpoints serialize with (not MVC's camelCase defaults).
        services.AddTransient<ISerializerDataContractResolver>(static provider => new JsonSerializerDataContractResolver(
            provider.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions));
        return services;
    }

    public static WebApplication UseEmbeddingOpenApi(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(options => options.SwaggerEndpoint("/swagger/v1/swagger.json", "EmbeddingService v1"));
        return app;
    }

    /// <summary>
    /// The JSON unions have hand-written converters, so describe them by hand too. The most general variant comes first:
    /// generators without union types (NSwag/NJsonSchema) type the property by the first one, so clients get lists.
    /// </summary>
    private static void MapUnions(SwaggerGenOptions options)
    {
        options.MapType<StringOrList>(() => new OpenApiSchema
        {
            Description = "A list of texts, or one text.",
            OneOf =
            [
                new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                new OpenApiSchema { Type = JsonSchemaType.String },
            ],
        });
        options.MapType<OpenAiInput>(() => new OpenApiSchema
        {
            Description = "A list of strings, a string, a list of token ids (one input), or a list of lists of token ids.",
            OneOf =
            [
                new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                new OpenApiSchema { Type = JsonSchemaType.String },
                new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" } },
                new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    Items = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" } },
                },
            ],
        });
        options.MapType<TokenIdLists>(() => new OpenApiSchema
        {
            Description = "A list of lists of token ids, or one list.",
            OneOf =
            [
                new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    Items = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" } },
                },
                new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" } },
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
    }
}
