using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Tests.Infrastructure;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace EmbeddingService.Tests.Batching;

/// <summary><c>Batching:LoneRequestThreads</c> on the real model: the second, multi-threaded session must give the same
/// vectors as the shared one-thread session, whichever of them a request lands on.</summary>
public sealed class LoneRequestSessionTests(EmbeddingServiceFactory factory)
{
    [Fact]
    public async Task Requests_get_the_same_vectors_alone_on_the_lone_request_session_and_together_on_the_shared_one()
    {
        Assert.SkipWhen(Environment.ProcessorCount < 2, "The lone-request session is capped at the core count: off on one core.");
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Batching:Runners"] = "2",
            ["Batching:IntraOpThreads"] = "1",
            ["Batching:LoneRequestThreads"] = "2",
        });
        using var client = service.CreateClient();
        using var reference = factory.CreateClient();
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

        // Proof that the comparison above exercised the lone-request session: one lone pass per sequential request (no
        // other host in the process serves this model with a lone-request session).
        Assert.Equal(texts.Length, LonePasses(passes) - loneBefore);

        // All at once: most batches overlap and run on the shared session.
        var concurrent = await Task.WhenAll(texts.Select(text => client.EmbedAsync(new { inputs = text })));
        for (var i = 0; i < texts.Length; i++)
        {
            var expected = (await reference.EmbedAsync(new { inputs = texts[i] }))[0];
            Assert.All(concurrent[i][0].Zip(expected), pair => Assert.True(Math.Abs(pair.First - pair.Second) < 1e-5, texts[i]));
        }
    }

    /// <summary>Forward passes of all-MiniLM-L6-v2 on the lone-request session so far (the meter is process-wide, so
    /// other tests' passes are told apart by their tags).</summary>
    private static int LonePasses(MetricCollector<double> passes) =>
        passes.GetMeasurementSnapshot().Count(static m => m.MatchesTags(
            new KeyValuePair<string, object?>("model", "all-MiniLM-L6-v2"), new KeyValuePair<string, object?>("session", "lone")));
}
