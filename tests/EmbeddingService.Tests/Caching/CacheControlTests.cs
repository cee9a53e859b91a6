using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Runtime;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Caching;

/// <summary>
/// What the cache does with each request, seen through a fake model whose every forward pass answers with its own pass
/// number: whether a vector was computed now, before, or came from the cache shows in the vector itself. Real tokenizer,
/// cache on.
/// </summary>
public sealed class CacheControlTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task No_cache_computes_afresh_and_replaces_the_entry()
    {
        await using var service = await StartAsync("cache-refresh");
        using var client = service.Service.CreateClient();
        var first = await EmbedAsync(client, "refresh me");
        Assert.Equal((first.Pass, 1), await PassAndHitsAsync(client, "refresh me"));

        var refreshed = await EmbedAsync(client, "refresh me", cacheControl: "no-cache");

        Assert.Equal(0, refreshed.Hits);
        Assert.True(refreshed.Pass > first.Pass, "no-cache was served from the cache");
        Assert.Equal((refreshed.Pass, 1), await PassAndHitsAsync(client, "refresh me")); // the new vector replaced the old
    }

    [Fact]
    public async Task No_store_neither_reads_nor_writes_the_cache()
    {
        await using var service = await StartAsync("cache-bypass");
        using var client = service.Service.CreateClient();
        var cachedPass = (await EmbedAsync(client, "kept")).Pass;

        var bypassed = await EmbedAsync(client, "kept", cacheControl: "no-store");
        var notWritten = await EmbedAsync(client, "never stored", cacheControl: "no-store");

        Assert.Equal(0, bypassed.Hits);
        Assert.True(bypassed.Pass > cachedPass, "no-store was served from the cache");
        Assert.Equal((cachedPass, 1), await PassAndHitsAsync(client, "kept")); // not replaced by the no-store pass
        Assert.Equal(0, notWritten.Hits);
        Assert.Equal(0, (await EmbedAsync(client, "never stored")).Hits); // not written by it either
    }

    [Theory]
    [InlineData("no-cache, no-store", false)] // no-store wins: neither read nor written
    [InlineData("max-age=0, no-store", false)]
    [InlineData("no-store, max-age", false)] // a malformed neighbour does not hide no-store
    [InlineData("private; no-store", false)]
    [InlineData("NO-STORE", false)] // directive names are case-insensitive
    [InlineData("max-age=3600", true)] // directives the cache has no use for: used as usual
    [InlineData("this is, not==a header", true)] // unreadable: used as usual, as HTTP caches ignore what they cannot read
    public async Task Cache_control_directives_combine_as_HTTP_says(string cacheControl, bool served)
    {
        await using var service = await StartAsync("cache-directives");
        using var client = service.Service.CreateClient();
        await EmbedAsync(client, "directives");

        var answer = await EmbedAsync(client, "directives", cacheControl);

        Assert.Equal(served ? 1 : 0, answer.Hits);
    }

    [Fact]
    public async Task Pragma_no_cache_computes_afresh_as_Cache_Control_no_cache_does()
    {
        await using var service = await StartAsync("cache-pragma");
        using var client = service.Service.CreateClient();
        var first = await EmbedAsync(client, "pragma");

        using var request = new HttpRequestMessage(HttpMethod.Post, "/embed") { Content = JsonContent.Create(new { inputs = "pragma", normalize = false }) };
        request.Headers.TryAddWithoutValidation("Pragma", "no-cache");
        using var response = await client.SendAsync(request, Ct);

        Assert.Equal("0", Header(response, "x-cache-hits"));
        Assert.True((int)(await response.Content.ReadFromJsonAsync<float[][]>(Ct))![0][1] > first.Pass, "Pragma: no-cache was served from the cache");
    }

    [Fact]
    public async Task A_partly_cached_request_runs_only_its_misses_and_answers_in_input_order()
    {
        await using var service = await StartAsync("cache-partial");
        using var client = service.Service.CreateClient();
        await EmbedManyAsync(client, ["alpha", "beta"]);
        var rowsBefore = service.Runner.Inputs.Count;

        using var response = await PostAsync(client, new { inputs = new[] { "gamma", "alpha", "delta", "beta" }, normalize = false });
        var vectors = (await response.Content.ReadFromJsonAsync<float[][]>(Ct))!;

        Assert.Equal("2", Header(response, "x-cache-hits"));
        var ran = service.Runner.Inputs.Skip(rowsBefore).ToList();
        Assert.Equal(2, ran.Count); // gamma and delta, nothing else
        var ids = await client.TokenIdsAsync(["gamma", "alpha", "delta", "beta"]);
        Assert.Equal(new[] { ids[0], ids[2] }.Select(Sum).Order(), ran.Select(Sum).Order());
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(Sum(ids[i]), vectors[i][0]); // each answer is its own input's, in input order
        }
    }

    [Fact]
    public async Task A_request_served_wholly_from_the_cache_never_queues()
    {
        using var queueTimes = new MetricCollector<double>(meterScope: null, EmbeddingMetrics.MeterName, "embedding.queue.duration");
        await using var service = await StartAsync("cache-all-hits");
        using var client = service.Service.CreateClient();
        await EmbedManyAsync(client, ["one", "two", "three"]);
        var rowsBefore = service.Runner.Inputs.Count;
        var queueTimesBefore = QueueTimes();

        using var response = await PostAsync(client, new { inputs = new[] { "three", "one", "two", "one" } });

        Assert.Equal("4", Header(response, "x-cache-hits"));
        Assert.Equal(rowsBefore, service.Runner.Inputs.Count);
        Assert.Equal("0", Header(response, "x-queue-time"));
        Assert.Equal("0", Header(response, "x-inference-time"));
        // Nor does it add a zero to the queue and inference histograms, which would flatter the model's latency.
        Assert.Equal(queueTimesBefore, QueueTimes());

        int QueueTimes() => queueTimes.GetMeasurementSnapshot().Count(static m => m.MatchesTags(new KeyValuePair<string, object?>("model", "cache-all-hits")));
    }

    [Fact]
    public async Task Hits_and_misses_are_counted_per_model_in_model_inputs()
    {
        const string model = "cache-counted";
        using var hits = new MetricCollector<long>(meterScope: null, EmbeddingMetrics.MeterName, "embedding.cache.hits");
        using var misses = new MetricCollector<long>(meterScope: null, EmbeddingMetrics.MeterName, "embedding.cache.misses");
        await using var service = await StartAsync(model);
        using var client = service.Service.CreateClient();

        await EmbedManyAsync(client, ["a1", "a2"]); // 2 misses
        await EmbedManyAsync(client, ["a1", "a2", "a3"]); // 2 hits, 1 miss
        await EmbedAsync(client, "a1", cacheControl: "no-cache"); // 1 miss: computed
        await EmbedAsync(client, "a1", cacheControl: "no-store"); // neither

        Assert.Equal(2, Total(hits, model));
        Assert.Equal(4, Total(misses, model));
    }

    [Fact]
    public async Task A_small_cache_under_many_distinct_inputs_stays_within_its_bound_and_keeps_answering()
    {
        const long maxBytes = 8192;
        await using var service = await StartAsync("cache-small", maxBytes);
        using var client = service.Service.CreateClient();

        var requests = Enumerable.Range(0, 40).Select(r => PostAsync(client, new { inputs = Enumerable.Range(0, 10).Select(i => $"distinct input {r} {i}").ToArray() }));
        foreach (var response in await Task.WhenAll(requests))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        using var info = JsonDocument.Parse(await client.GetStringAsync("/info", Ct));
        var cache = info.RootElement.GetProperty("cache");
        Assert.InRange(cache.GetProperty("bytes").GetInt64(), 0, maxBytes);
        Assert.InRange(cache.GetProperty("entries").GetInt64(), 0, 399);
        // Eviction makes room: a new input is cached once the compaction its first miss started has run.
        Assert.True(await Eventually.TrueAsync(async () => (await EmbedAsync(client, "after the flood")).Hits == 1, TimeSpan.FromSeconds(10)),
            "a full cache never took a new input in");
    }

    private static int Sum(int[] ids) => ids.Sum();

    private static long Total(MetricCollector<long> collector, string model) =>
        collector.GetMeasurementSnapshot().Where(m => m.MatchesTags(new KeyValuePair<string, object?>("model", model))).Sum(static m => m.Value);

    private static async Task<(int Pass, int Hits)> PassAndHitsAsync(HttpClient client, string text)
    {
        var answer = await EmbedAsync(client, text);
        return (answer.Pass, answer.Hits);
    }

    /// <summary>One text, not normalized: component 1 of its vector is the number of the pass that computed it.</summary>
    private static async Task<(int Pass, int Hits)> EmbedAsync(HttpClient client, string text, string? cacheControl = null)
    {
        using var response = await PostAsync(client, new { inputs = text, normalize = false }, cacheControl);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var vector = (await response.Content.ReadFromJsonAsync<float[][]>(Ct))![0];
        return ((int)vector[1], int.Parse(Header(response, "x-cache-hits"), CultureInfo.InvariantCulture));
    }

    private static async Task EmbedManyAsync(HttpClient client, string[] texts)
    {
        using var response = await PostAsync(client, new { inputs = texts });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, object body, string? cacheControl = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/embed") { Content = JsonContent.Create(body) };
        if (cacheControl is not null)
        {
            request.Headers.TryAddWithoutValidation("Cache-Control", cacheControl);
        }

        return await client.SendAsync(request, Ct);
    }

    private static string Header(HttpResponseMessage response, string name) => response.Headers.GetValues(name).Single();

    /// <summary>A service whose default model (under <paramref name="modelId"/>, so the process-wide meter tells its
    /// counts from other tests') runs on <see cref="PassNumberRunner"/>, with the cache on.</summary>
    private static async Task<FakeService> StartAsync(string modelId, long maxBytes = 1 << 20)
    {
        var runner = new PassNumberRunner();
        var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Models:Default"] = modelId,
            ["Models:Items:0:Id"] = modelId,
            ["Models:Items:1:Id"] = modelId + "-arctic",
            ["Batching:LoneRequestThreads"] = "0",
            ["Cache:MaxBytes"] = maxBytes.ToString(CultureInfo.InvariantCulture),
        }, services => services.Replace(ServiceDescriptor.Singleton<IBatchRunnerFactory>(new PassNumberFactory(runner))));
        return new FakeService(service, runner);
    }

    private sealed record FakeService(EmbeddingServiceFactory Service, PassNumberRunner Runner) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Service.DisposeAsync();
    }

    private sealed class PassNumberFactory(PassNumberRunner runner) : IBatchRunnerFactory
    {
        public IReadOnlyList<IBatchRunner> Create(ModelManifest manifest, IReadOnlyList<RuntimeOptions> sessions) =>
            sessions.Select(_ => (IBatchRunner)runner).ToArray();
    }

    /// <summary>Each row's vector: (the sum of its ids, the number of the pass that ran it). Records every row it ran.</summary>
    private sealed class PassNumberRunner : IBatchRunner
    {
        private int _passes;

        public int Dimensions => 2;

        /// <summary>Every row run, warm-up passes included, in the order they ran.</summary>
        public List<int[]> Inputs { get; } = [];

        public void Run(IReadOnlyList<int[]> inputs, Span<float> output, IReadOnlyList<float[]?>? tokenOutputs = null)
        {
            var pass = Interlocked.Increment(ref _passes);
            lock (Inputs)
            {
                Inputs.AddRange(inputs.Select(static i => i.ToArray()));
            }

            for (var row = 0; row < inputs.Count; row++)
            {
                output[row * 2] = inputs[row].Sum();
                output[row * 2 + 1] = pass;
            }
        }
    }
}
