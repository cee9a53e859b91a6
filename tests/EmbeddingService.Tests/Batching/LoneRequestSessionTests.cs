using System.Diagnostics.Metrics;
using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Batching;

/// <summary><c>Batching:LoneRequestThreads</c> on the real model: the second, multi-threaded session must give the same
/// vectors as the shared one-thread session, whichever of them a request lands on.</summary>
public sealed class LoneRequestSessionTests(EmbeddingServiceFactory factory)
{
    [Fact]
    public async Task Requests_get_the_same_vectors_alone_on_the_lone_request_session_and_together_on_the_shared_one()
    {
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Batching:Runners"] = "2",
            ["Batching:IntraOpThreads"] = "1",
            ["Batching:LoneRequestThreads"] = "2",
        });
        using var client = service.CreateClient();
        using var reference = factory.CreateClient();
        using var batches = new BatchSessionCounter();
        var texts = EvalData.StsPairs("dev").Take(24).Select(static p => p.First).ToArray();

        foreach (var text in texts)
        {
            // One request at a time: each runs with the model to itself, on the lone-request session.
            var alone = (await client.EmbedAsync(new { inputs = text }))[0];
            var expected = (await reference.EmbedAsync(new { inputs = text }))[0];
            Assert.All(alone.Zip(expected), pair => Assert.True(Math.Abs(pair.First - pair.Second) < 1e-5, text));
        }

        // Proof that the comparison above exercised the lone-request session (no other host in the process has one).
        Assert.True(batches.Lone >= texts.Length, $"{batches.Lone} batches ran on the lone-request session");

        // All at once: most batches overlap and run on the shared session.
        var concurrent = await Task.WhenAll(texts.Select(text => client.EmbedAsync(new { inputs = text })));
        for (var i = 0; i < texts.Length; i++)
        {
            var expected = (await reference.EmbedAsync(new { inputs = texts[i] }))[0];
            Assert.All(concurrent[i][0].Zip(expected), pair => Assert.True(Math.Abs(pair.First - pair.Second) < 1e-5, texts[i]));
        }
    }
}

/// <summary>Counts forward passes by the <c>session</c> tag of <c>embedding.batch.duration</c>.</summary>
internal sealed class BatchSessionCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private int _lone;

    public BatchSessionCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EmbeddingMetrics.MeterName && instrument.Name == "embedding.batch.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "session" && Equals(tag.Value, "lone"))
                {
                    Interlocked.Increment(ref _lone);
                }
            }
        });
        _listener.Start();
    }

    public int Lone => Volatile.Read(ref _lone);

    public void Dispose() => _listener.Dispose();
}
