using System.Net;
using System.Text;
using System.Text.Json;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Hardening;

/// <summary>
/// Every malformed request gets a precise 4xx in its route's error shape (TEI: {error, error_type}; OpenAI: {error:{message,type,...}}):
/// never a 5xx, never an HTML page, never a stack trace.
/// </summary>
public sealed class BadInputBatteryTests(EmbeddingServiceFactory factory)
{
    private const string Json = "application/json";

    public static TheoryData<string, string, string?, string, int> Cases()
    {
        var deep = new string('[', 100) + new string(']', 100);
        var tooMany = JsonSerializer.Serialize(new { inputs = Enumerable.Repeat("x", 2049).ToArray() });
        var tooManyOpenAi = JsonSerializer.Serialize(new { input = Enumerable.Repeat("x", 2049).ToArray(), model = "all-MiniLM-L6-v2" });
        var tooLong = JsonSerializer.Serialize(new { inputs = new string('a', 200_001) });
        var data = new TheoryData<string, string, string?, string, int>
        {
            // route, body, content type, name, status
            { "/embed", "{\"inputs\": [", Json, "truncated JSON", 400 },
            { "/embed", "{inputs: 'x'}", Json, "invalid JSON", 400 },
            { "/embed", "", Json, "empty body", 400 },
            { "/embed", "null", Json, "null body", 400 },
            { "/embed", "{}", Json, "missing inputs", 422 },
            { "/embed", "{\"inputs\": null}", Json, "null inputs", 422 },
            { "/embed", "{\"inputs\": 42}", Json, "number inputs", 422 },
            { "/embed", "{\"inputs\": {\"a\": 1}}", Json, "object inputs", 422 },
            { "/embed", "{\"inputs\": [[\"a\"]]}", Json, "nested list", 422 },
            { "/embed", "{\"inputs\": [\"a\", 1]}", Json, "mixed list", 422 },
            { "/embed", "{\"inputs\": []}", Json, "empty list", 400 },
            { "/embed", "{\"inputs\": \"x\", \"normalize\": \"yes\"}", Json, "string normalize", 422 },
            { "/embed", "{\"inputs\": \"x\", \"dimensions\": 0}", Json, "zero dimensions", 422 },
            { "/embed", "{\"inputs\": \"x\", \"dimensions\": 1000}", Json, "too many dimensions", 422 },
            { "/embed", "{\"inputs\": \"x\", \"dimensions\": 1.5}", Json, "fractional dimensions", 422 },
            { "/embed", "{\"inputs\": \"x\", \"truncation_direction\": \"up\"}", Json, "bad truncation direction", 422 },
            { "/embed", "{\"inputs\": \"x\", \"prompt_name\": \"nope\"}", Json, "unknown prompt", 422 },
            { "/embed", "{\"inputs\": \"x\", \"model\": \"nope\"}", Json, "unknown model", 404 },
            { "/embed", tooMany, Json, "too many inputs", 422 },
            { "/embed", tooLong, Json, "too many characters", 422 },
            { "/embed", "{\"inputs\": " + deep + "}", Json, "absurd nesting", 400 },
            { "/embed", "{\"inputs\": \"x\"}", "text/plain", "wrong content type", 415 },
            { "/embed", "{\"inputs\": \"x\"}", null, "no content type", 415 },
            { "/embed", "{\"inputs\": \"x\", \"long_input\": \"average\"}", Json, "unknown long_input", 422 },
            { "/embed", "{\"inputs\": \"x\", \"long_input\": \"mean\", \"truncate\": true}", Json, "long_input against truncate", 422 },
            { "/embed_chunks", "{\"inputs\": [", Json, "chunks truncated JSON", 400 },
            { "/embed_chunks", "{\"inputs\": 42}", Json, "chunks number", 422 },
            { "/embed_chunks", "{\"inputs\": []}", Json, "chunks empty list", 400 },
            { "/embed_chunks", "{\"inputs\": \"x\", \"chunk_tokens\": 0}", Json, "chunks zero budget", 422 },
            { "/embed_chunks", "{\"inputs\": \"x\", \"chunk_tokens\": 1000}", Json, "chunks budget over the limit", 422 },
            { "/embed_chunks", "{\"inputs\": \"x\", \"chunk_tokens\": 8, \"overlap_tokens\": 8}", Json, "chunks overlap as large as the budget", 422 },
            { "/embed_chunks", "{\"inputs\": \"x\", \"model\": \"nope\"}", Json, "chunks unknown model", 404 },
            { "/embed_chunks", tooLong, Json, "chunks too many characters", 422 },
            { "/embed_all", "{\"inputs\": {\"a\": 1}}", Json, "embed_all object", 422 },
            { "/embed_all", "{\"inputs\": []}", Json, "embed_all empty list", 400 },
            { "/embed_all", "", Json, "embed_all empty body", 400 },
            { "/v1/embeddings", "{\"input\": \"x\", \"model\": \"all-MiniLM-L6-v2\", \"long_input\": \"chop\"}", Json, "openai unknown long_input", 400 },
            { "/tokenize", "{\"inputs\": 42}", Json, "tokenize number", 422 },
            { "/tokenize", "{\"inputs\": []}", Json, "tokenize empty", 400 },
            { "/tokenize", "{", Json, "tokenize truncated", 400 },
            { "/similarity", "{\"inputs\": {\"sentences\": [\"a\"]}}", Json, "similarity without source", 422 },
            { "/similarity", "{\"inputs\": {\"source_sentence\": \"a\", \"sentences\": []}}", Json, "similarity empty", 400 },
            { "/similarity", "{\"inputs\": \"a\"}", Json, "similarity wrong shape", 422 },
            { "/v1/embeddings", "{\"input\": \"\", \"model\": \"all-MiniLM-L6-v2\"}", Json, "openai empty string", 400 },
            { "/v1/embeddings", "{\"input\": [], \"model\": \"all-MiniLM-L6-v2\"}", Json, "openai empty list", 400 },
            { "/v1/embeddings", "{\"input\": [[]], \"model\": \"all-MiniLM-L6-v2\"}", Json, "openai empty id list", 400 },
            { "/v1/embeddings", "{\"input\": 42, \"model\": \"all-MiniLM-L6-v2\"}", Json, "openai number", 422 },
            { "/v1/embeddings", "{\"input\": [1.5], \"model\": \"all-MiniLM-L6-v2\"}", Json, "openai fractional id", 422 },
            { "/v1/embeddings", "{\"input\": [-1], \"model\": \"all-MiniLM-L6-v2\"}", Json, "openai negative id", 400 },
            { "/v1/embeddings", "{\"input\": [100256], \"model\": \"all-MiniLM-L6-v2\"}", Json, "openai special id", 400 },
            { "/v1/embeddings", "{\"input\": \"x\"}", Json, "openai no model", 400 },
            { "/v1/embeddings", "{\"input\": \"x\", \"model\": \"nope\"}", Json, "openai unknown model", 404 },
            { "/v1/embeddings", "{\"input\": \"x\", \"model\": \"all-MiniLM-L6-v2\", \"encoding_format\": \"hex\"}", Json, "openai bad encoding", 400 },
            { "/v1/embeddings", "{\"input\": \"x\", \"model\": \"all-MiniLM-L6-v2\", \"dimensions\": -3}", Json, "openai bad dimensions", 400 },
            { "/v1/embeddings", tooManyOpenAi, Json, "openai too many inputs", 400 },
            { "/v1/embeddings", "{\"input\": \"x\"", Json, "openai truncated JSON", 400 },
            { "/v1/embeddings", "{\"input\": \"x\", \"model\": \"all-MiniLM-L6-v2\"}", "text/xml", "openai wrong content type", 415 },
            { "/v1/embeddings", "{\"input\": " + deep + ", \"model\": \"all-MiniLM-L6-v2\"}", Json, "openai absurd nesting", 400 },
        };

        // TEI's aliases get every bad-input case of the route they alias: POST / and /invocations are /embed, POST
        // /embeddings is /v1/embeddings.
        var aliases = new Dictionary<string, string[]> { ["/embed"] = ["/", "/invocations"], ["/v1/embeddings"] = ["/embeddings"] };
        foreach (var row in data.ToList())
        {
            var (route, body, contentType, name, status) = row.Data;
            foreach (var alias in aliases.GetValueOrDefault(route, []))
            {
                data.Add(alias, body, contentType, $"{name} (on {alias})", status);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Malformed_requests_get_a_4xx_in_the_routes_error_shape(string route, string body, string? contentType, string name, int status)
    {
        using var client = factory.CreateClient();
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null)
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        var response = await client.PostAsync(route, content, TestContext.Current.CancellationToken);
        await AssertErrorShapeAsync(response, route, status, name);
    }

    [Fact]
    public async Task Invalid_utf8_is_a_400()
    {
        using var client = factory.CreateClient();
        var bytes = Encoding.UTF8.GetBytes("{\"inputs\": \"ab\"}");
        bytes[13] = 0xC3; // a lead byte followed by an ASCII byte: invalid UTF-8 inside the string
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(Json);
        var response = await client.PostAsync("/embed", content, TestContext.Current.CancellationToken);
        await AssertErrorShapeAsync(response, "/embed", 400, "invalid UTF-8");
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413()
    {
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?> { ["Limits:MaxRequestBodyBytes"] = "2048" });
        using var client = service.CreateClient();
        foreach (var route in new[] { "/embed", "/v1/embeddings" })
        {
            using var content = new StringContent(JsonSerializer.Serialize(new { inputs = new string('a', 5000), input = "x", model = "all-MiniLM-L6-v2" }), Encoding.UTF8, Json);
            var response = await client.PostAsync(route, content, TestContext.Current.CancellationToken);
            await AssertErrorShapeAsync(response, route, 413, "too large");
        }
    }

    [Fact]
    public async Task Unknown_routes_and_methods_answer_in_the_error_shape()
    {
        using var client = factory.CreateClient();
        await AssertErrorShapeAsync(await client.GetAsync("/nope", TestContext.Current.CancellationToken), "/nope", 404, "unknown route");
        await AssertErrorShapeAsync(await client.GetAsync("/v1/nope", TestContext.Current.CancellationToken), "/v1/nope", 404, "unknown OpenAI route");
        await AssertErrorShapeAsync(await client.GetAsync("/embed", TestContext.Current.CancellationToken), "/embed", 405, "wrong method");
    }

    /// <param name="contains">Text the error message must hold, if given.</param>
    internal static async Task AssertErrorShapeAsync(HttpResponseMessage response, string route, int status, string name, string? contains = null)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(status == (int)response.StatusCode, $"{name}: expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(text);
        string message;
        if (route.StartsWith("/v1", StringComparison.Ordinal) || route == "/embeddings")
        {
            var error = doc.RootElement.GetProperty("error");
            message = error.GetProperty("message").GetString()!;
            Assert.False(string.IsNullOrWhiteSpace(message), name);
            Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("type").GetString()), name);
        }
        else
        {
            message = doc.RootElement.GetProperty("error").GetString()!;
            Assert.False(string.IsNullOrWhiteSpace(message), name);
            Assert.Contains(doc.RootElement.GetProperty("error_type").GetString(), new[] { "Validation", "Empty", "Tokenizer", "Overloaded", "Backend", "Unhealthy", "Unauthorized" });
        }

        if (contains is not null)
        {
            Assert.Contains(contains, message, StringComparison.OrdinalIgnoreCase);
        }
    }
}
