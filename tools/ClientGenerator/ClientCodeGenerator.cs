using NJsonSchema;
using NJsonSchema.CodeGeneration;
using NJsonSchema.CodeGeneration.CSharp;
using NSwag;
using NSwag.CodeGeneration.CSharp;
using NSwag.CodeGeneration.OperationNameGenerators;

namespace EmbeddingService.ClientGenerator;

/// <summary>
/// Turns <c>openapi.json</c> into the NSwag client of <c>src/EmbeddingService.Client</c>. The settings live here, in code, because
/// the wire is snake_case and NSwag's default names keep the underscores (<c>Encoding_format</c>); these make them PascalCase.
/// </summary>
public static class ClientCodeGenerator
{
    public const string DocumentPath = "openapi.json";

    public const string OutputPath = "src/EmbeddingService.Client/Generated/EmbeddingServiceApiClient.g.cs";

    /// <summary>The client's source for the document at <paramref name="openApiPath"/>, with LF line ends.</summary>
    public static async Task<string> GenerateAsync(string openApiPath, CancellationToken cancellationToken = default)
    {
        var document = await OpenApiDocument.FromFileAsync(openApiPath, cancellationToken);
        var settings = new CSharpClientGeneratorSettings
        {
            ClassName = "EmbeddingServiceApiClient",
            OperationNameGenerator = new SingleClientFromOperationIdOperationNameGenerator(),
            GenerateClientInterfaces = true,
            InjectHttpClient = true,
            DisposeHttpClient = false,
            UseBaseUrl = false,
            GenerateBaseUrlProperty = false,
            GenerateOptionalParameters = true,
            ExceptionClass = "EmbeddingServiceApiException",
            ResponseArrayType = "System.Collections.Generic.IList",
            ResponseDictionaryType = "System.Collections.Generic.IDictionary",
            CSharpGeneratorSettings =
            {
                Namespace = "EmbeddingService.Client",
                JsonLibrary = CSharpJsonLibrary.SystemTextJson,
                ClassStyle = CSharpClassStyle.Poco,
                GenerateNullableReferenceTypes = true,
                GenerateOptionalPropertiesAsNullable = true,
                GenerateDataAnnotations = false,
                GenerateDefaultValues = true,
                ArrayType = "System.Collections.Generic.IList",
                ArrayInstanceType = "System.Collections.Generic.List",
                DictionaryType = "System.Collections.Generic.IDictionary",
                DictionaryInstanceType = "System.Collections.Generic.Dictionary",
                PropertyNameGenerator = new PascalCasePropertyNameGenerator(),
                TypeNameGenerator = new PascalCaseTypeNameGenerator(),
                EnumNameGenerator = new DefaultEnumNameGenerator(),
            },
        };

        var code = new CSharpClientGenerator(document, settings).GenerateFile();
        return code.ReplaceLineEndings("\n");
    }

    /// <summary><c>max_input_length</c> → <c>MaxInputLength</c>.</summary>
    public static string ToPascalCase(string name) =>
        string.Concat(name.Split(['_', '-', ' ', '.'], StringSplitOptions.RemoveEmptyEntries)
            .Select(static part => char.ToUpperInvariant(part[0]) + part[1..]));

    private sealed class PascalCasePropertyNameGenerator : IPropertyNameGenerator
    {
        public string Generate(JsonSchemaProperty property)
        {
            var name = ToPascalCase(property.Name);
            return name.Length == 0 || char.IsDigit(name[0]) ? "_" + name : name;
        }
    }

    private sealed class PascalCaseTypeNameGenerator : DefaultTypeNameGenerator
    {
        protected override string Generate(JsonSchema schema, string? typeNameHint) => ToPascalCase(base.Generate(schema, typeNameHint));
    }
}
