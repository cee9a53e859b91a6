using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Caching;

/// <summary>
/// The embedding cache end to end on the real models: what it serves equals what the model computes (compared with the
/// assembly's shared service, which runs without a cache), on every embedding route; what shares an entry and what never does.
/// Each test embeds texts no other test sends, so the first request of each is a miss whatever ran before.
/// </summary>
public sealed class CacheApiTests(CachedService cached, EmbeddingServiceFactory uncached) : IClassFixture<CachedService>
{
    private const string MiniLm = "all-MiniLM-L6-v2";
    private const string Arctic = "snowflake-arctic-embed-xs";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_repeated_input_is_served_from_the_cache_and_equals_the_computed_vector()
    {
        using var client = cached.Service.CreateClient();
        var text = Unique("A man is playing a guitar on the stage.");

        var first = await EmbedAsync(client, new { inputs = text });
        var second = await EmbedAsync(client, new { inputs = text });

        Assert.Equal(0, first.Hits);
        Assert.Equal(1, second.Hits);
        Assert.Equal(first.Vectors[0], second.Vectors[0]);
        await AssertComputedAsync(second.Vectors[0], new { inputs = text });
    }

    [Fact]
    public async Task A_request_partly_cached_answers_every_input_in_order_as_the_model_computes_it()
    {
        using var client = cached.Service.CreateClient();
        var (a, b, c, d) = (Unique("A woman slices an onion."), Unique("Two dogs run in the snow."), Unique("The stock market fell sharply today."),
            Unique("Kids are playing football in the park."));
        await EmbedAsync(client, new { inputs = new[] { a, b } });

        var mixed = await EmbedAsync(client, new { inputs = new[] { c, a, d, b } });

        Assert.Equal(2, mixed.Hits);
        var expected = await uncached.CreateClient().EmbedAsync(new { inputs = new[] { c, a, d, b } });
        for (var i = 0; i < 4; i++)
        {
            AssertClose(expected[i], mixed.Vectors[i], $"input {i}");
        }

        // What a request reports it cost does not depend on the cache.
        using var fresh = await uncached.CreateClient().PostAsJsonAsync("/embed", new { inputs = new[] { c, a, d, b } }, Ct);
        Assert.Equal(Header(fresh, "x-compute-tokens"), mixed.ComputeTokens);
    }

    [Fact]
    public async Task Requests_that_differ_only_in_normalize_or_dimensions_share_an_entry()
    {
        using var client = cached.Service.CreateClient();
        var text = Unique("A plane is taking off from the runway.");
        await EmbedAsync(client, new { inputs = text });

        var raw = await EmbedAsync(client, new { inputs = text, normalize = false });
        var cut = await EmbedAsync(client, new { inputs = text, dimensions = 64 });
        var openAiCut = await OpenAiAsync(client, new { input = text, model = MiniLm, dimensions = 32 });

        Assert.Equal([1, 1, 1], new[] { raw.Hits, cut.Hits, openAiCut.Hits });
        await AssertComputedAsync(raw.Vectors[0], new { inputs = text, normalize = false });
        await AssertComputedAsync(cut.Vectors[0], new { inputs = text, dimensions = 64 });
        Assert.Equal(32, openAiCut.Vectors[0].Length);
        await AssertComputedAsync(openAiCut.Vectors[0], new { inputs = text, dimensions = 32 });
    }

    [Fact]
    public async Task Every_embedding_route_reads_and_writes_the_cache()
    {
        using var client = cached.Service.CreateClient();

        var openAiText = Unique("A cat sits on the mat.");
        Assert.Equal(0, (await OpenAiAsync(client, new { input = openAiText, model = MiniLm })).Hits);
        Assert.Equal(1, (await OpenAiAsync(client, new { input = openAiText, model = MiniLm })).Hits);
        Assert.Equal(1, (await EmbedAsync(client, new { inputs = openAiText })).Hits); // the same ids through /embed

        var source = Unique("A person is riding a horse.");
        var sentences = new[] { Unique("Someone rides a horse."), Unique("A chef is cooking pasta.") };
        var similarity = new { inputs = new { source_sentence = source, sentences } };
        using (var first = await client.PostAsJsonAsync("/similarity", similarity, Ct))
        using (var second = await client.PostAsJsonAsync("/similarity", similarity, Ct))
        {
            Assert.Equal("0", Header(first, "x-cache-hits"));
            Assert.Equal("3", Header(second, "x-cache-hits"));
            Assert.Equal(await first.Content.ReadAsStringAsync(Ct), await second.Content.ReadAsStringAsync(Ct));
        }

        var document = LongDocument("chunked");
        using (var first = await client.PostAsJsonAsync("/embed_chunks", new { inputs = document }, Ct))
        using (var second = await client.PostAsJsonAsync("/embed_chunks", new { inputs = document }, Ct))
        {
            var chunks = JsonDocument.Parse(await second.Content.ReadAsStringAsync(Ct)).RootElement[0].GetArrayLength();
            Assert.True(chunks >= 2, $"{chunks} chunks");
            Assert.Equal("0", Header(first, "x-cache-hits"));
            Assert.Equal(chunks.ToString(CultureInfo.InvariantCulture), Header(second, "x-cache-hits"));
            Assert.Equal(await first.Content.ReadAsStringAsync(Ct), await second.Content.ReadAsStringAsync(Ct));

            // long_input 'mean' embeds the same chunks (no overlap, the default size): all of them from the cache.
            var mean = await EmbedAsync(client, new { inputs = document, long_input = "mean" });
            Assert.Equal(chunks, mean.Hits);
            await AssertComputedAsync(mean.Vectors[0], new { inputs = document, long_input = "mean" });
        }
    }

    [Fact]
    public async Task Different_models_never_share_an_entry()
    {
        using var client = cached.Service.CreateClient();
        var text = Unique("A boy is jumping on a trampoline.");
        await EmbedAsync(client, new { inputs = text, model = MiniLm });

        var other = await EmbedAsync(client, new { inputs = text, model = Arctic });

        Assert.Equal(0, other.Hits);
        await AssertComputedAsync(other.Vectors[0], new { inputs = text, model = Arctic });
    }

    [Fact]
    public async Task Different_prompts_never_share_an_entry()
    {
        using var client = cached.Service.CreateClient();
        var text = Unique("how do solar panels work");
        await EmbedAsync(client, new { inputs = text, model = Arctic });

        var query = await EmbedAsync(client, new { inputs = text, model = Arctic, prompt_name = "query" });

        Assert.Equal(0, query.Hits);
        await AssertComputedAsync(query.Vectors[0], new { inputs = text, model = Arctic, prompt_name = "query" });
        Assert.Equal(1, (await EmbedAsync(client, new { inputs = text, model = Arctic, prompt_name = "query" })).Hits);
    }

    [Fact]
    public async Task Different_truncation_directions_never_share_an_entry()
    {
        using var client = cached.Service.CreateClient();
        var document = LongDocument("truncated");
        var right = await EmbedAsync(client, new { inputs = document, truncation_direction = "right" });

        var left = await EmbedAsync(client, new { inputs = document, truncation_direction = "left" });

        Assert.Equal(0, left.Hits);
        await AssertComputedAsync(left.Vectors[0], new { inputs = document, truncation_direction = "left" });
        Assert.True(VectorMath.Cosine(right.Vectors[0], left.Vectors[0]) < 0.999, "the two ends of the document gave the same vector");
    }

    [Fact]
    public async Task Different_long_input_policies_never_share_an_entry()
    {
        using var client = cached.Service.CreateClient();
        var document = LongDocument("policies");
        // The premise: the first chunk ends at a sentence end before the limit, so no chunk is the truncated input. (Where
        // one were, the model would be fed the same ids, and sharing the entry would be right.)
        using var plan = JsonDocument.Parse(await (await uncached.CreateClient().PostAsJsonAsync("/embed_chunks", new { inputs = document }, Ct)).Content.ReadAsStringAsync(Ct));
        Assert.True(plan.RootElement[0][0].GetProperty("tokens").GetInt32() < 254, "the first chunk is the truncated input");
        var truncated = await EmbedAsync(client, new { inputs = document, long_input = "truncate" });

        var mean = await EmbedAsync(client, new { inputs = document, long_input = "mean" });
        using var refused = await client.PostAsJsonAsync("/embed", new { inputs = document, long_input = "error" }, Ct);

        Assert.Equal(0, mean.Hits);
        await AssertComputedAsync(mean.Vectors[0], new { inputs = document, long_input = "mean" });
        Assert.True(VectorMath.Cosine(truncated.Vectors[0], mean.Vectors[0]) < 0.9999, "the mean of the chunks equalled the truncated vector");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
    }

    [Fact]
    public async Task Texts_that_tokenize_the_same_share_an_entry_by_design()
    {
        using var client = cached.Service.CreateClient();
        var text = Unique("The Quick Brown Fox");
        await EmbedAsync(client, new { inputs = text });

        // all-MiniLM-L6-v2 is uncased and splits on whitespace: the model is fed the same ids, so it is the same vector.
        var same = await EmbedAsync(client, new { inputs = "  " + text.ToLowerInvariant().Replace(" ", "   ", StringComparison.Ordinal) });

        Assert.Equal(1, same.Hits);
        await AssertComputedAsync(same.Vectors[0], new { inputs = text });
    }

    [Fact]
    public async Task Info_reports_the_cache_and_the_hash_of_each_model()
    {
        using var client = cached.Service.CreateClient();
        await EmbedAsync(client, new { inputs = Unique("Info counts this entry.") });

        using var info = JsonDocument.Parse(await client.GetStringAsync("/info", Ct));
        var cache = info.RootElement.GetProperty("cache");
        Assert.True(cache.GetProperty("enabled").GetBoolean());
        Assert.Equal(64L * 1024 * 1024, cache.GetProperty("max_bytes").GetInt64());
        Assert.True(cache.GetProperty("entries").GetInt64() >= 1);
        Assert.InRange(cache.GetProperty("bytes").GetInt64(), 1, 64L * 1024 * 1024);
        Assert.Equal("least-recently-used", cache.GetProperty("eviction").GetString());

        var miniLm = info.RootElement.GetProperty("models").EnumerateArray().Single(static m => m.GetProperty("id").GetString() == MiniLm);
        using var file = File.OpenRead(Path.Combine(AppContext.BaseDirectory, "models", MiniLm, "model.onnx"));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file)), miniLm.GetProperty("sha256").GetString());

        using var off = JsonDocument.Parse(await uncached.CreateClient().GetStringAsync("/info", Ct));
        Assert.False(off.RootElement.GetProperty("cache").GetProperty("enabled").GetBoolean());
        Assert.Equal(0, off.RootElement.GetProperty("cache").GetProperty("max_bytes").GetInt64());
    }

    /// <summary>That the series are exported with their labels; the process-wide meter sums every test host, so exact
    /// counts are CacheControlTests' (a model id of their own and a MetricCollector).</summary>
    [Fact]
    public async Task The_metrics_page_exports_the_cache_counters_and_gauges()
    {
        using var client = cached.Service.CreateClient();
        var text = Unique("Metrics count this input.");
        await EmbedAsync(client, new { inputs = text });
        await EmbedAsync(client, new { inputs = text });

        var metrics = await client.GetStringAsync("/metrics", Ct);
        Assert.True(Sample(metrics, "embedding_cache_hits_total", MiniLm) >= 1, "hits");
        Assert.True(Sample(metrics, "embedding_cache_misses_total", MiniLm) >= 1, "misses");
        Assert.True(Sample(metrics, "embedding_cache_entries", model: null) >= 1, "entries");
        Assert.True(Sample(metrics, "embedding_cache_bytes", model: null) >= 1, "bytes");
    }

    /// <summary>A text no other test sends.</summary>
    private static string Unique(string text) => $"{text} ({Guid.NewGuid():N})";

    /// <summary>About 700 tokens on <paramref name="topic"/> (a word each test has to itself): a heading, then sentences of
    /// a dozen tokens that name the topic, so no chunk of it is a chunk of another test's document (a chunk that recurs
    /// across documents is cached once: that is the point). Over the model's limit, cut into chunks at sentence ends.</summary>
    private static string LongDocument(string topic) =>
        $"On {topic}: " + string.Concat(Enumerable.Range(0, 55).Select(i => $"The {topic} fox jumps over the lazy dog number {i}. "));

    private async Task AssertComputedAsync(float[] actual, object body)
    {
        var computed = (await uncached.CreateClient().EmbedAsync(body))[0];
        AssertClose(computed, actual, "cached against computed");
    }

    /// <summary>Equal as batch invariance holds them equal: cosine over 0.99999 and every component within 1e-5.</summary>
    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(VectorMath.Cosine(expected, actual) > 0.99999, $"{what}: cosine {VectorMath.Cosine(expected, actual)}");
        Assert.All(expected.Zip(actual), pair => Assert.True(Math.Abs(pair.First - pair.Second) < 1e-5, what));
    }

    private static async Task<(float[][] Vectors, int Hits, string ComputeTokens)> EmbedAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/embed", body, Ct);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
        var vectors = (await response.Content.ReadFromJsonAsync<float[][]>(Ct))!;
        return (vectors, int.Parse(Header(response, "x-cache-hits"), CultureInfo.InvariantCulture), Header(response, "x-compute-tokens"));
    }

    private static async Task<(float[][] Vectors, int Hits)> OpenAiAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/v1/embeddings", body, Ct);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var vectors = json.RootElement.GetProperty("data").EnumerateArray()
            .Select(static d => d.GetProperty("embedding").EnumerateArray().Select(static x => x.GetSingle()).ToArray()).ToArray();
        return (vectors, int.Parse(Header(response, "x-cache-hits"), CultureInfo.InvariantCulture));
    }

    private static string Header(HttpResponseMessage response, string name) => response.Headers.GetValues(name).Single();

    /// <summary>The value of <paramref name="name"/>'s series (for <paramref name="model"/>, where given) on a Prometheus page.</summary>
    private static double Sample(string page, string name, string? model)
    {
        var line = page.Split('\n').FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal)
            && (model is null || l.Contains($"model=\"{model}\"", StringComparison.Ordinal)));
        Assert.True(line is not null, $"{name} is not on the metrics page");
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}
