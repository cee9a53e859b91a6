using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EmbeddingService.Tests.Hardening;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Api;

/// <summary>
/// Every route a Text Embeddings Inference client calls: the aliases (<c>POST /</c> and <c>/invocations</c> for
/// <c>/embed</c>, <c>GET /</c> and <c>/ping</c> for <c>/health</c>, <c>POST /embeddings</c> for <c>/v1/embeddings</c>),
/// <c>/decode</c>, and the routes of other model types, with the middleware of the routes they alias.
/// </summary>
public sealed class TeiDropInTests(EmbeddingServiceFactory factory)
{
    private const string AliasMetricsModel = "alias-metrics-minilm";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/")]
    [InlineData("/invocations")]
    public async Task Embed_aliases_answer_exactly_as_embed(string route)
    {
        using var client = factory.CreateClient();
        var body = new { inputs = new[] { "What is Deep Learning?", "A man is playing a guitar." }, normalize = false, dimensions = 128 };
        using var alias = await client.PostAsJsonAsync(route, body, Ct);
        using var embed = await client.PostAsJsonAsync("/embed", body, Ct);
        Assert.Equal(HttpStatusCode.OK, alias.StatusCode);
        Assert.Equal(await embed.Content.ReadAsStringAsync(Ct), await alias.Content.ReadAsStringAsync(Ct));
        Assert.Equal("all-MiniLM-L6-v2", alias.Headers.GetValues("x-model-id").Single());
        Assert.Equal(embed.Headers.GetValues("x-compute-tokens").Single(), alias.Headers.GetValues("x-compute-tokens").Single());
    }

    [Fact]
    public async Task The_openai_alias_answers_as_v1_embeddings_in_the_openai_shape()
    {
        using var client = factory.CreateClient();
        var body = new { input = new[] { "hello world" }, model = "all-MiniLM-L6-v2" };
        using var alias = await client.PostAsJsonAsync("/embeddings", body, Ct);
        using var v1 = await client.PostAsJsonAsync("/v1/embeddings", body, Ct);
        Assert.Equal(await v1.Content.ReadAsStringAsync(Ct), await alias.Content.ReadAsStringAsync(Ct));

        using var refused = await client.PostAsJsonAsync("/embeddings", new { input = "" , model = "all-MiniLM-L6-v2" }, Ct);
        await BadInputBatteryTests.AssertErrorShapeAsync(refused, "/embeddings", 400, "empty string", "empty");
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/ping")]
    public async Task Health_aliases_answer_as_health(string route)
    {
        using var client = factory.CreateClient();
        using var alias = await client.GetAsync(route, Ct);
        using var health = await client.GetAsync("/health", Ct);
        Assert.Equal(HttpStatusCode.OK, alias.StatusCode);
        Assert.Equal(await health.Content.ReadAsStringAsync(Ct), await alias.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData("all-MiniLM-L6-v2", "Hello, world! A naïve café, is it?", "hello, world! a naive cafe, is it?")]
    [InlineData("snowflake-arctic-embed-xs", "Unaffordable tokenization. Really?", "unaffordable tokenization. really?")]
    public async Task Decode_gives_back_the_text_of_tokenize_ids(string model, string text, string expected)
    {
        using var client = factory.CreateClient();
        var ids = (await client.TokenIdsAsync([text], model))[0];

        Assert.Equal([expected], await DecodeAsync(client, new { ids, model }));
        Assert.Equal([$"[CLS] {expected} [SEP]"], await DecodeAsync(client, new { ids, model, skip_special_tokens = false }));
        Assert.Equal([expected, expected], await DecodeAsync(client, new { ids = new[] { ids, ids }, model }));
    }

    [Fact]
    public async Task Decoded_text_tokenizes_to_the_same_ids()
    {
        using var client = factory.CreateClient();
        var texts = EvalData.StsPairs("test").Take(300).Select(static p => p.First).ToArray();
        var ids = await client.TokenIdsAsync(texts, "all-MiniLM-L6-v2");
        var decoded = await DecodeAsync(client, new { ids });
        var again = await client.TokenIdsAsync(decoded, "all-MiniLM-L6-v2");
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.True(ids[i].SequenceEqual(again[i]), $"'{texts[i]}' decoded to '{decoded[i]}'");
        }
    }

    [Theory]
    [InlineData("""{"ids": [1, 99999]}""", 422, "outside the model's vocabulary")]
    [InlineData("""{"ids": [-1]}""", 422, "outside the model's vocabulary")]
    [InlineData("""{"ids": [[101], [30522]]}""", 422, "List 1")]
    [InlineData("""{"ids": []}""", 400, "cannot be empty")]
    [InlineData("""{"ids": [[101], []]}""", 400, "`ids[1]` cannot be empty")]
    [InlineData("""{"ids": "hello"}""", 422, "`ids` must be a list")]
    [InlineData("""{"ids": [1.5]}""", 422, "integer token id")]
    [InlineData("""{"ids": [[1], 2]}""", 422, "`ids[1]` must be a list")]
    [InlineData("""{}""", 422, "`ids` is required")]
    [InlineData("""{"ids": [101], "model": "nope"}""", 404, "not found")]
    public async Task Decode_refuses_bad_ids_with_a_clear_4xx(string body, int status, string message)
    {
        using var client = factory.CreateClient();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/decode", content, Ct);
        await BadInputBatteryTests.AssertErrorShapeAsync(response, "/decode", status, message, message);
    }

    [Theory]
    [InlineData("/rerank", "re-ranker", """{"query": "What is Deep Learning?", "texts": ["Deep Learning is..."]}""")]
    [InlineData("/predict", "classifier", """{"inputs": "I like you."}""")]
    [InlineData("/embed_sparse", "sparse", """{"inputs": "I like you."}""")]
    [InlineData("/rerank", "re-ranker", "not json at all")]
    [InlineData("/predict", "classifier", "")]
    public async Task Routes_of_other_model_types_say_which_models_are_served(string route, string kind, string body)
    {
        using var client = factory.CreateClient();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(route, content, Ct);
        // As TEI answers for a model of the wrong type: 424, error_type Backend, "model is not a ... model".
        await BadInputBatteryTests.AssertErrorShapeAsync(response, route, 424, route, $"model is not a {kind}");
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("Backend", error.GetProperty("error_type").GetString());
        Assert.Contains("all-MiniLM-L6-v2, snowflake-arctic-embed-xs", error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Aliases_need_the_api_key_of_their_routes_and_health_aliases_stay_public()
    {
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?> { ["Auth:ApiKeys:0"] = "secret" });
        using var client = service.CreateClient();
        foreach (var (route, body) in new (string, object)[]
        {
            ("/", new { inputs = "x" }), ("/invocations", new { inputs = "x" }), ("/embeddings", new { input = "x", model = "all-MiniLM-L6-v2" }),
            ("/decode", new { ids = new[] { 101 } }), ("/rerank", new { query = "x", texts = new[] { "y" } }),
        })
        {
            using var refused = await client.PostAsJsonAsync(route, body, Ct);
            await BadInputBatteryTests.AssertErrorShapeAsync(refused, route, 401, route, "API key");
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/ping", Ct)).StatusCode);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "secret");
        Assert.Single(await PostVectorsAsync(client, "/", new { inputs = "x" }));
    }

    [Fact]
    public async Task Aliases_share_the_rate_limit_of_their_routes_and_health_aliases_are_not_limited()
    {
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["RateLimiting:Enabled"] = "true",
            ["RateLimiting:TokenLimit"] = "2",
            ["RateLimiting:TokensPerPeriod"] = "1",
            ["RateLimiting:ReplenishmentPeriodSeconds"] = "3600",
        });
        using var client = service.CreateClient();
        Assert.Single(await PostVectorsAsync(client, "/", new { inputs = "x" }));
        Assert.Single(await PostVectorsAsync(client, "/invocations", new { inputs = "x" }));
        using var limited = await client.PostAsJsonAsync("/embed", new { inputs = "x" }, Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        using var limitedAlias = await client.PostAsJsonAsync("/", new { inputs = "x" }, Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, limitedAlias.StatusCode);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(i % 2 == 0 ? "/ping" : "/", Ct)).StatusCode);
        }
    }

    [Fact]
    public async Task Aliases_are_dropped_and_answered_503_at_the_request_timeout_like_their_routes()
    {
        var runners = new GatedRunnerFactory();
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Limits:RequestTimeoutSeconds"] = "1",
            ["Batching:Runners"] = "1",
            ["Batching:MaxBatchSize"] = "1",
            ["Batching:LoneRequestThreads"] = GatedRunnerFactory.OneSession,
        }, runners.Install);
        using var client = service.CreateClient();

        var holding = client.PostAsJsonAsync("/embed", new { inputs = "holds the runner" }, Ct);
        foreach (var (route, body) in new (string, object)[] { ("/", new { inputs = "waits" }), ("/invocations", new { inputs = "waits" }), ("/embeddings", new { input = "waits", model = "all-MiniLM-L6-v2" }) })
        {
            using var timedOut = await client.PostAsJsonAsync(route, body, Ct);
            await BadInputBatteryTests.AssertErrorShapeAsync(timedOut, route, 503, route);
        }

        runners["all-MiniLM-L6-v2"].Release(100);
        (await holding).Dispose();
    }

    [Fact]
    public async Task Aliases_are_counted_in_the_metrics_like_their_routes()
    {
        // all-MiniLM-L6-v2 under an id of its own: the service's meter is process-wide, and other tests' requests must not
        // move this count.
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Models:Default"] = AliasMetricsModel,
            ["Models:Items:0:Id"] = AliasMetricsModel,
        });
        using var client = service.CreateClient();
        Assert.Equal(3, (await PostVectorsAsync(client, "/invocations", new { inputs = new[] { "one", "two", "three" } })).Length);
        Assert.Single(await PostVectorsAsync(client, "/", new { inputs = "four" }));

        // The exporter may answer a scrape from a collection made just before: ask again until the counts show.
        var seen = await Eventually.TrueAsync(async () => InputsCounted(await client.GetStringAsync("/metrics", Ct)) == 4, TimeSpan.FromSeconds(30));
        Assert.True(seen, "embedding_inputs_total never counted the 4 inputs sent to the aliases");
    }

    private static double InputsCounted(string metrics) =>
        metrics.Split('\n').Where(static l => l.StartsWith("embedding_inputs_total{", StringComparison.Ordinal) && l.Contains(AliasMetricsModel, StringComparison.Ordinal))
            .Sum(static l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task The_aliases_are_left_out_of_the_openapi_document_and_decode_is_in_it()
    {
        using var client = factory.CreateClient();
        using var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json", Ct));
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(static p => p.Name).ToHashSet();
        Assert.Contains("/decode", paths);
        Assert.DoesNotContain("/", paths);
        Assert.DoesNotContain("/invocations", paths);
        Assert.DoesNotContain("/embeddings", paths);
        Assert.DoesNotContain("/ping", paths);
        Assert.DoesNotContain("/rerank", paths);
    }

    private static async Task<string[]> DecodeAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/decode", body, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonSerializer.Deserialize<string[]>(text)!;
    }

    private static async Task<float[][]> PostVectorsAsync(HttpClient client, string route, object body)
    {
        using var response = await client.PostAsJsonAsync(route, body, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"{route}: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize<float[][]>(text)!;
    }
}
