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
        Assert.SkipWhen(Environment.ProcessorCount < 2, "The lone-request session is capped at the core count: off on one core.");
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Batching:Runners"] = "2",
            ["Batching:IntraOpThreads"] = "1",
            ["Batching:LoneRequestThreads"] = "2",
        });
        using var client = service.CreateClient();
        using var reference = factory.CreateClient();
        using var batches = new BatchSessionCounter("all-MiniLM-L6-v2");
        var texts = EvalData.StsPairs("dev").Take(24).Select(static p => p.First).ToArray();

        var loneBefore = batches.Lone;
        foreach (var text in texts)
        {
            // One request at a time: each runs with the model to itself, on the lone-request session.
            var alone = (await client.EmbedAsync(new { inputs = text }))[0];
            var expected = (await reference.EmbedAsync(new { inputs = text }))[0];
            Assert.All(alone.Zip(expected), pair => Assert.True(Math.Abs(pair.First - pair.Second) < 1e-5, text));
        }

        // Proof that the comparison above exercised the lone-request session: one lone pass per sequential request (no
        // other host in the process serves this model with a lone-request session).
        Assert.Equal(texts.Length, batches.Lone - loneBefore);

        // All at once: most batches overlap and run on the shared session.
        var concurrent = await Task.WhenAll(texts.Select(text => client.EmbedAsync(new { inputs = text })));
        for (var i = 0; i < texts.Length; i++)
        {
            var expected = (await reference.EmbedAsync(new { inputs = texts[i] }))[0];
            Assert.All(concurrent[i][0].Zip(expected), pair => Assert.True(Math.Abs(pair.First - pair.Second) < 1e-5, texts[i]));
        }
    }
}

/// <summary>Counts one model's forward passes on the lone-request session (the <c>session</c> tag of <c>embedding.batch.duration</c>).</summary>
internal sealed class BatchSessionCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private int _lone;

    public BatchSessionCounter(string modelId)
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
            var model = false;
            var lone = false;
            foreach (var tag in tags)
            {
                model |= tag.Key == "model" && Equals(tag.Value, modelId);
                lone |= tag.Key == "session" && Equals(tag.Value, "lone");
            }

            if (model && lone)
            {
                Interlocked.Increment(ref _lone);
            }
        });
        _listener.Start();
    }

    public int Lone => Volatile.Read(ref _lone);

    public void Dispose() => _listener.Dispose();
}
