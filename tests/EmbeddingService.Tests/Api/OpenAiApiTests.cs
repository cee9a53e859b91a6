using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Api;

/// <summary>The OpenAI surface end to end on the real model.</summary>
public sealed class OpenAiApiTests(EmbeddingServiceFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonDocument> PostAsync(HttpClient client, object body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await client.PostAsJsonAsync("/v1/embeddings", body, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text);
    }

    private static float[] Floats(JsonElement item) => item.GetProperty("embedding").EnumerateArray().Select(static e => e.GetSingle()).ToArray();

    [Fact]
    public async Task Float_response_has_the_openai_shape_and_real_token_counts()
    {
        using var client = factory.CreateClient();
        using var doc = await PostAsync(client, new { input = new[] { "hello world", "Hello, world!" }, model = "all-MiniLM-L6-v2" });
        var root = doc.RootElement;
        Assert.Equal("list", root.GetProperty("object").GetString());
        Assert.Equal("all-MiniLM-L6-v2", root.GetProperty("model").GetString());
        var data = root.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(new[] { 0, 1 }, data.Select(static d => d.GetProperty("index").GetInt32()).ToArray());
        Assert.All(data, static d => Assert.Equal("embedding", d.GetProperty("object").GetString()));
        // [CLS] hello world [SEP] = 4, [CLS] hello , world ! [SEP] = 6.
        Assert.Equal(10, root.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(10, root.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Base64_decodes_to_the_same_floats()
    {
        using var client = factory.CreateClient();
        using var asFloats = await PostAsync(client, new { input = "The Data Cloud!", model = "snowflake-arctic-embed-xs" });
        using var asBase64 = await PostAsync(client, new { input = "The Data Cloud!", model = "snowflake-arctic-embed-xs", encoding_format = "base64" });
        var floats = Floats(asFloats.RootElement.GetProperty("data")[0]);
        var bytes = Convert.FromBase64String(asBase64.RootElement.GetProperty("data")[0].GetProperty("embedding").GetString()!);
        var decoded = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, decoded, 0, bytes.Length);
        Assert.Equal(floats, decoded);
    }

    [Fact]
    public async Task Cl100k_token_ids_embed_like_the_text_they_encode()
    {
        using var client = factory.CreateClient();
        using var fromIds = await PostAsync(client, new { input = new[] { 15339, 1917 }, model = "all-MiniLM-L6-v2" });
        using var fromIdLists = await PostAsync(client, new { input = new[] { new[] { 15339, 1917 }, new[] { 15339 } }, model = "all-MiniLM-L6-v2" });
        var text = (await client.EmbedAsync(new { inputs = new[] { "hello world", "hello" } }));
        Assert.True(VectorMath.Cosine(Floats(fromIds.RootElement.GetProperty("data")[0]), text[0]) > 0.99999);
        Assert.True(VectorMath.Cosine(Floats(fromIdLists.RootElement.GetProperty("data")[0]), text[0]) > 0.99999);
        Assert.True(VectorMath.Cosine(Floats(fromIdLists.RootElement.GetProperty("data")[1]), text[1]) > 0.99999);
    }

    [Fact]
    public async Task Token_ids_outside_cl100k_are_a_400()
    {
        using var client = factory.CreateClient();
        using var error = await PostAsync(client, new { input = new[] { 15339, 999_999 }, model = "all-MiniLM-L6-v2" }, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("999999", error.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Model_vocabulary_ids_are_used_as_they_are_when_configured()
    {
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?> { ["OpenAi:TokenIdInputs"] = "Model" });
        using var client = service.CreateClient();
        // 7592 2088 = "hello world" in the BERT uncased vocabulary.
        using var fromIds = await PostAsync(client, new { input = new[] { 7592, 2088 }, model = "all-MiniLM-L6-v2" });
        var text = (await client.EmbedAsync(new { inputs = "hello world" }))[0];
        Assert.True(VectorMath.Cosine(Floats(fromIds.RootElement.GetProperty("data")[0]), text) > 0.99999);
        using var error = await PostAsync(client, new { input = new[] { 30522 }, model = "all-MiniLM-L6-v2" }, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Unknown_model_is_404_model_not_found()
    {
        using var client = factory.CreateClient();
        using var error = await PostAsync(client, new { input = "x", model = "text-embedding-3-small" }, HttpStatusCode.NotFound);
        Assert.Equal("model_not_found", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("model", error.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("""{"input":"","model":"all-MiniLM-L6-v2"}""", 400)]
    [InlineData("""{"input":["a",""],"model":"all-MiniLM-L6-v2"}""", 400)]
    [InlineData("""{"input":[],"model":"all-MiniLM-L6-v2"}""", 400)]
    [InlineData("""{"input":"x"}""", 400)]
    [InlineData("""{"model":"all-MiniLM-L6-v2"}""", 400)]
    [InlineData("""{"input":"x","model":"all-MiniLM-L6-v2","encoding_format":"int8"}""", 400)]
    [InlineData("""{"input":"x","model":"all-MiniLM-L6-v2","dimensions":0}""", 400)]
    [InlineData("""{"input":"x","model":"all-MiniLM-L6-v2","dimensions":385}""", 400)]
    [InlineData("""{"input":[[1,2],["a"]],"model":"all-MiniLM-L6-v2"}""", 422)]
    [InlineData("""{"input":{"a":1},"model":"all-MiniLM-L6-v2"}""", 422)]
    [InlineData("""{"input":"x","model":""")]
    public async Task Bad_requests_get_openai_errors(string body, int status = 400)
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/v1/embeddings", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(status == (int)response.StatusCode, $"{(int)response.StatusCode}: {text}");
        using var doc = JsonDocument.Parse(text);
        var error = doc.RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task Models_are_listed_in_the_openai_shape()
    {
        using var client = factory.CreateClient();
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/v1/models", Ct));
        Assert.Equal("list", doc.RootElement.GetProperty("object").GetString());
        var ids = doc.RootElement.GetProperty("data").EnumerateArray().Select(static m => m.GetProperty("id").GetString()).ToArray();
        Assert.Equal(new[] { "all-MiniLM-L6-v2", "snowflake-arctic-embed-xs" }, ids);
        Assert.All(doc.RootElement.GetProperty("data").EnumerateArray(), static m => Assert.Equal("model", m.GetProperty("object").GetString()));
    }
}
