using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Tests.Infrastructure;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace EmbeddingService.Tests.Batching;

/// <summary><c>Batching:LoneRequestThreads</c> on the real model: the second, multi-threaded session (sharing the weights
/// of the first) must give the same vectors as a service without it, whichever session a request lands on.</summary>
public sealed class LoneRequestSessionTests
{
    // all-MiniLM-L6-v2 under an id of its own, so the process-wide meter tells this host's passes from other tests'.
    private const string ModelId = "lone-session-minilm";

    [Fact]
    public async Task Requests_get_the_same_vectors_alone_on_the_lone_request_session_and_together_on_the_shared_one()
    {
        Assert.SkipWhen(Environment.ProcessorCount < 2, "The lone-request session is capped at the core count: off on one core.");
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Models:Default"] = ModelId,
            ["Models:Items:0:Id"] = ModelId,
            ["Batching:Runners"] = "2",
            ["Batching:IntraOpThreads"] = "1",
            ["Batching:LoneRequestThreads"] = "2",
            // Every request below must run a pass: the second round repeats the first's texts.
            ["Cache:MaxBytes"] = "0",
        });
        await using var withoutLoneSession = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Batching:Runners"] = "2",
            ["Batching:IntraOpThreads"] = "1",
            ["Batching:LoneRequestThreads"] = "0",
        });
        using var client = service.CreateClient();
        using var reference = withoutLoneSession.CreateClient();
        using var passes = new MetricCollector<double>(meterScope: null, EmbeddingMetrics.MeterName, "embedding.batch.duration");
        var texts = EvalData.StsPairs("dev").Take(24).Select(static p => p.First).ToArray();

        var loneBefore = LonePasses(passes);
        foreach (var text in texts)
        {
            // One request at a time: each runs with the model to itself, on the lone-request session.
            var alone = (await client.EmbedAsync(new { inputs = text }))[0];
            var expected = (await reference.EmbedAsync(new { inputs = text }))[0];
            Assert.All(alone.Zip(expected), pair => Assert.True(Math.Abs(pair.First - pair.Second) < 1e-5, text));
        }

        // Proof that the comparison above exercised the lone-request session: one lone pass per sequential request.
        Assert.Equal(texts.Length, LonePasses(passes) - loneBefore);

        // All at once: most batches overlap and run on the shared session.
        var concurrent = await Task.WhenAll(texts.Select(text => client.EmbedAsync(new { inputs = text })));
        for (var i = 0; i < texts.Length; i++)
        {
            var expected = (await reference.EmbedAsync(new { inputs = texts[i] }))[0];
            Assert.All(concurrent[i][0].Zip(expected), pair => Assert.True(Math.Abs(pair.First - pair.Second) < 1e-5, texts[i]));
        }
    }

    /// <summary>Forward passes of this host's model on the lone-request session so far.</summary>
    private static int LonePasses(MetricCollector<double> passes) =>
        passes.GetMeasurementSnapshot().Count(static m => m.MatchesTags(
            new KeyValuePair<string, object?>("model", ModelId), new KeyValuePair<string, object?>("session", "lone")));
}
