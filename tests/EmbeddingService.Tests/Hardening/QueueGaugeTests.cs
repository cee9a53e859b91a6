using System.Globalization;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Hardening;

/// <summary>
/// The queue gauges that autoscaling (deploy/kubernetes-keda) and the dashboard read, through <c>/metrics</c>: they rise
/// while a burst waits and fall back to 0 once it has run. Inference is a gated fake, so the test decides when.
/// </summary>
public sealed partial class QueueGaugeTests
{
    // all-MiniLM-L6-v2 under an id of its own: the meter is process-wide, and other tests' hosts report the usual ids.
    private const string ModelId = "queue-gauges-minilm";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_queue_gauges_rise_under_a_burst_and_fall_back_to_zero_when_it_has_run()
    {
        var runners = new GatedRunnerFactory();
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Models:Default"] = ModelId,
            ["Models:Items:0:Id"] = ModelId,
            ["Batching:Runners"] = "1",
            ["Batching:MaxBatchSize"] = "4",
            ["Batching:LoneRequestThreads"] = GatedRunnerFactory.OneSession,
        }, runners.Install);
        using var client = service.CreateClient();

        var first = client.PostAsJsonAsync("/embed", new { inputs = "holds the runner" }, Ct);
        // The warm-up pass, then this request's, which waits in the gate.
        Assert.True(await Eventually.TrueAsync(() => runners[ModelId].Batches.Count == 2, TimeSpan.FromSeconds(30)), "the first request never started");
        var burst = Enumerable.Range(0, 20).Select(i => client.PostAsJsonAsync("/embed", new { inputs = new[] { $"burst {i}", "two inputs each" } }, Ct)).ToArray();
        Assert.True(await Eventually.TrueAsync(async () => await GaugeAsync(client, "embedding_queue_inputs") == 40, TimeSpan.FromSeconds(30)), "the burst never showed in the queue");

        var tokens = await GaugeAsync(client, "embedding_queue_tokens");
        var drain = await GaugeAsync(client, "embedding_queue_drain_seconds");
        Assert.True(tokens >= 40 * 3, $"{tokens} tokens queued for 40 inputs");
        Assert.True(drain > 0, $"drain estimate {drain} s with {tokens} tokens queued");

        runners[ModelId].Release(1000);
        await Task.WhenAll(burst.Append(first));
        Assert.Equal(0, await GaugeAsync(client, "embedding_queue_inputs"));
        Assert.Equal(0, await GaugeAsync(client, "embedding_queue_tokens"));
        Assert.Equal(0, await GaugeAsync(client, "embedding_queue_drain_seconds"));
    }

    /// <summary>The value of a gauge of this test's model in a fresh scrape.</summary>
    private static async Task<double> GaugeAsync(HttpClient client, string name)
    {
        var text = await client.GetStringAsync("/metrics", Ct);
        var match = Regex.Match(text, $@"^{name}\{{[^}}]*model=""{ModelId}""[^}}]*\}} (\S+)", RegexOptions.Multiline);
        Assert.True(match.Success, $"/metrics has no {name} for {ModelId}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
