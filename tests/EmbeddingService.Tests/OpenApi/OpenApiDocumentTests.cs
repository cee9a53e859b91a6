using System.Text.Json;
using System.Text.Json.Nodes;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.OpenApi;

/// <summary>
/// The committed <c>openapi.json</c> (what clients are generated from) must be the document the service serves.
/// To accept a change: <c>UPDATE_OPENAPI=1 dotnet test tests/EmbeddingService.Tests --filter FullyQualifiedName~OpenApiDocumentTests</c>,
/// then regenerate the client (see src/EmbeddingService.Client/README.md) and commit both.
/// </summary>
public sealed class OpenApiDocumentTests(EmbeddingServiceFactory factory)
{
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true, IndentSize = 2 };

    [Fact]
    public async Task Committed_openapi_json_matches_the_live_document()
    {
        var live = Normalize(await LiveDocumentAsync());
        var path = Path.Combine(RepositoryRoot(), "openapi.json");

        if (Environment.GetEnvironmentVariable("UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(path, live, TestContext.Current.CancellationToken);
            return;
        }

        Assert.True(File.Exists(path), $"{path} is missing. Create it with: UPDATE_OPENAPI=1 dotnet test tests/EmbeddingService.Tests --filter FullyQualifiedName~OpenApiDocumentTests");
        var committed = Normalize(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken));
        if (committed != live)
        {
            Assert.Fail($"""
                The live OpenAPI document (/swagger/v1/swagger.json) differs from the committed {path}.
                First difference: {FirstDifference(committed, live)}
                If the change is intended, refresh the file and the generated client, then commit both:
                  UPDATE_OPENAPI=1 dotnet test tests/EmbeddingService.Tests --filter FullyQualifiedName~OpenApiDocumentTests
                  dotnet tool restore && dotnet nswag run src/EmbeddingService.Client/nswag.json
                """);
        }
    }

    [Fact]
    public async Task Every_operation_has_an_id_responses_and_the_right_security()
    {
        var document = JsonNode.Parse(await LiveDocumentAsync())!;
        Assert.NotNull(document["components"]!["securitySchemes"]!["bearer"]);
        var paths = document["paths"]!.AsObject();
        foreach (var route in new[] { "/embed", "/tokenize", "/similarity", "/info", "/health", "/health/live", "/metrics", "/v1/embeddings", "/v1/models" })
        {
            Assert.True(paths.ContainsKey(route), $"{route} is missing from the document.");
        }

        foreach (var (route, item) in paths)
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                Assert.False(string.IsNullOrEmpty((string?)operation!["operationId"]), $"{method} {route} has no operationId.");
                var isPublic = route.StartsWith("/health", StringComparison.Ordinal) || route == "/metrics";
                Assert.Equal(!isPublic, operation["security"] is not null);
                if (!isPublic)
                {
                    var responses = operation["responses"]!.AsObject();
                    foreach (var status in new[] { "200", "400", "401", "404", "413", "415", "422", "429", "500", "503" })
                    {
                        Assert.True(responses.ContainsKey(status), $"{method} {route} does not declare {status}.");
                    }

                    Assert.NotNull(responses["422"]!["content"]!["application/json"]!["example"]);
                }
            }
        }
    }

    private async Task<string> LiveDocumentAsync()
    {
        using var client = factory.CreateClient();
        return await client.GetStringAsync("/swagger/v1/swagger.json", TestContext.Current.CancellationToken);
    }

    /// <summary>Same bytes for the same document: two-space indentation, LF line ends, a final newline.</summary>
    private static string Normalize(string json) =>
        JsonNode.Parse(json)!.ToJsonString(s_indented).ReplaceLineEndings("\n") + "\n";

    private static string FirstDifference(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var left = i < a.Length ? a[i] : "<end of file>";
            var right = i < b.Length ? b[i] : "<end of file>";
            if (left != right)
            {
                return $"line {i + 1}: committed `{left.Trim()}`, live `{right.Trim()}`";
            }
        }

        return "none found line by line";
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EmbeddingService.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Could not find the repository root (EmbeddingService.sln) above " + AppContext.BaseDirectory);
    }
}
