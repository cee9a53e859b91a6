using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Api;

/// <summary>The TEI surface end to end on the real model.</summary>
public sealed class EmbedApiTests(EmbeddingServiceFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_single_string_gives_a_list_of_one_vector()
    {
        using var client = factory.CreateClient();
        var vectors = await client.EmbedAsync(new { inputs = "hello world" });
        Assert.Single(vectors);
        Assert.Equal(384, vectors[0].Length);
    }

    [Fact]
    public async Task Order_is_preserved_and_batched_equals_single()
    {
        using var client = factory.CreateClient();
        var texts = new[] { "A man is playing a guitar.", "short", "The quick brown fox jumps over the lazy dog, again and again, for a long time.", "x", "Deep learning" };
        var together = await client.EmbedAsync(new { inputs = texts });
        for (var i = 0; i < texts.Length; i++)
        {
            var alone = (await client.EmbedAsync(new { inputs = texts[i] }))[0];
            Assert.True(VectorMath.Cosine(together[i], alone) > 0.99999, $"input {i}");
            Assert.All(together[i].Zip(alone), pair => Assert.True(Math.Abs(pair.First - pair.Second) < 1e-5));
        }
    }

    [Fact]
    public async Task Concurrent_requests_get_the_results_they_get_alone()
    {
        using var client = factory.CreateClient();
        var texts = EvalData.StsPairs("dev").Take(40).Select(static p => p.First).ToArray();
        var alone = new List<float[]>();
        foreach (var text in texts)
        {
            alone.Add((await client.EmbedAsync(new { inputs = text }))[0]);
        }

        var concurrent = await Task.WhenAll(texts.Select(text => client.EmbedAsync(new { inputs = text })));
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.All(concurrent[i][0].Zip(alone[i]), pair => Assert.True(Math.Abs(pair.First - pair.Second) < 1e-5, texts[i]));
        }
    }

    [Fact]
    public async Task Dimensions_cut_and_renormalize()
    {
        using var client = factory.CreateClient();
        var full = (await client.EmbedAsync(new { inputs = "hello world", normalize = false }))[0];
        var cut = (await client.EmbedAsync(new { inputs = "hello world", dimensions = 64 }))[0];
        Assert.Equal(64, cut.Length);
        Assert.Equal(1.0, VectorMath.Norm(cut), 4);
        Assert.True(VectorMath.Cosine(cut, full.Take(64).ToArray()) > 0.99999);
    }

    [Fact]
    public async Task Truncation_is_on_by_default_and_a_422_when_switched_off()
    {
        using var client = factory.CreateClient();
        var longText = string.Join(' ', Enumerable.Repeat("embedding", 400));
        var right = await client.PostAsJsonAsync("/embed", new { inputs = longText }, Ct);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);

        var refused = await client.PostAsJsonAsync("/embed", new { inputs = longText, truncate = false }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        using var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Ct));
        Assert.Equal("Validation", error.RootElement.GetProperty("error_type").GetString());

        var words = string.Join(' ', Enumerable.Range(0, 400).Select(static i => $"topic{i % 50} word{i}"));
        var left = (await client.EmbedAsync(new { inputs = words, truncation_direction = "left" }))[0];
        var rightCut = (await client.EmbedAsync(new { inputs = words, truncation_direction = "right" }))[0];
        Assert.True(VectorMath.Cosine(left, rightCut) < 0.9999);
    }

    [Fact]
    public async Task The_query_prompt_changes_arctic_vectors_and_unknown_prompts_are_422()
    {
        using var client = factory.CreateClient();
        var plain = (await client.EmbedAsync(new { inputs = "tacos", model = "snowflake-arctic-embed-xs" }))[0];
        var query = (await client.EmbedAsync(new { inputs = "tacos", model = "snowflake-arctic-embed-xs", prompt_name = "query" }))[0];
        var manual = (await client.EmbedAsync(new { inputs = "Represent this sentence for searching relevant passages: tacos", model = "snowflake-arctic-embed-xs" }))[0];
        Assert.True(VectorMath.Cosine(plain, query) < 0.99);
        Assert.True(VectorMath.Cosine(manual, query) > 0.99999);

        var unknown = await client.PostAsJsonAsync("/embed", new { inputs = "x", prompt_name = "query" }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknown.StatusCode);
    }

    [Fact]
    public async Task Unknown_model_is_404_with_the_available_ids()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsJsonAsync("/embed", new { inputs = "x", model = "nope" }, Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains("all-MiniLM-L6-v2", body);
    }

    [Fact]
    public async Task Response_headers_report_timings_and_tokens()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsJsonAsync("/embed", new { inputs = new[] { "Hello, world!" } }, Ct);
        response.EnsureSuccessStatusCode();
        Assert.Equal("6", response.Headers.GetValues("x-compute-tokens").Single());
        foreach (var header in new[] { "x-queue-time", "x-inference-time", "x-total-time", "x-tokenization-time" })
        {
            Assert.True(double.Parse(response.Headers.GetValues(header).Single(), System.Globalization.CultureInfo.InvariantCulture) >= 0, header);
        }
    }

    [Fact]
    public async Task Tokenize_reports_ids_text_offsets_and_special_flags()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/tokenize", new StringContent("""{"inputs":["Hello, world!"]}""", Encoding.UTF8, "application/json"), Ct);
        response.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var tokens = doc.RootElement[0].EnumerateArray().ToArray();
        Assert.Equal(new[] { 101, 7592, 1010, 2088, 999, 102 }, tokens.Select(static t => t.GetProperty("id").GetInt32()).ToArray());
        Assert.True(tokens[0].GetProperty("special").GetBoolean());
        Assert.Equal(JsonValueKind.Null, tokens[0].GetProperty("start").ValueKind);
        Assert.Equal(0, tokens[1].GetProperty("start").GetInt32());
        Assert.Equal(5, tokens[1].GetProperty("stop").GetInt32());
    }

    [Fact]
    public async Task Similarity_returns_one_cosine_per_sentence()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsJsonAsync("/similarity", new
        {
            inputs = new { source_sentence = "A man is playing a guitar.", sentences = new[] { "A man plays the guitar.", "A chef is cooking pasta." } },
        }, Ct);
        response.EnsureSuccessStatusCode();
        var scores = (await response.Content.ReadFromJsonAsync<float[]>(Ct))!;
        Assert.Equal(2, scores.Length);
        Assert.True(scores[0] > 0.8 && scores[1] < scores[0]);
    }

    [Fact]
    public async Task Info_lists_both_models_and_the_limits()
    {
        using var client = factory.CreateClient();
        using var info = JsonDocument.Parse(await client.GetStringAsync("/info", Ct));
        Assert.Equal("all-MiniLM-L6-v2", info.RootElement.GetProperty("model_id").GetString());
        Assert.Equal(256, info.RootElement.GetProperty("max_input_length").GetInt32());
        var models = info.RootElement.GetProperty("models").EnumerateArray().ToDictionary(static m => m.GetProperty("id").GetString()!);
        Assert.Equal("cls", models["snowflake-arctic-embed-xs"].GetProperty("pooling").GetString());
        Assert.Equal(512, models["snowflake-arctic-embed-xs"].GetProperty("max_input_length").GetInt32());
        Assert.Equal("mean", models["all-MiniLM-L6-v2"].GetProperty("pooling").GetString());
        Assert.Equal(2048, info.RootElement.GetProperty("limits").GetProperty("max_inputs_per_request").GetInt32());
    }

    [Fact]
    public async Task Swagger_document_and_ui_are_served()
    {
        using var client = factory.CreateClient();
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json", Ct));
        var paths = doc.RootElement.GetProperty("paths");
        foreach (var path in new[] { "/embed", "/tokenize", "/similarity", "/v1/embeddings", "/v1/models", "/info", "/health" })
        {
            Assert.True(paths.TryGetProperty(path, out _), path);
        }

        var ui = await client.GetAsync("/swagger/index.html", Ct);
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
    }
}
