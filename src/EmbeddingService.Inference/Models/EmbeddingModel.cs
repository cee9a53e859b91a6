using EmbeddingService.Inference.Batching;
using EmbeddingService.Inference.Caching;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Inference.Models;

/// <summary>A loaded model: its manifest, tokenizer and batcher.</summary>
public sealed class EmbeddingModel : IAsyncDisposable
{
    private readonly IDisposable[] _runners;

    internal EmbeddingModel(ModelManifest manifest, ModelTokenizer tokenizer, int dimensions, DynamicBatcher batcher, params IDisposable[] runners)
    {
        Manifest = manifest;
        Tokenizer = tokenizer;
        Dimensions = dimensions;
        Batcher = batcher;
        _runners = runners;
        CacheKey = EmbeddingCacheKey.ModelPart(manifest);
    }

    public string Id => Manifest.Id;

    public ModelManifest Manifest { get; }

    public ModelTokenizer Tokenizer { get; }

    /// <summary>The width of the model's embeddings.</summary>
    public int Dimensions { get; }

    internal DynamicBatcher Batcher { get; }

    /// <summary>This model's part of its embedding cache keys (<see cref="EmbeddingCacheKey.ModelPart"/>).</summary>
    internal string CacheKey { get; }

    /// <summary>This model's queue: inputs and tokens waiting, and the estimated seconds to run them.</summary>
    public QueueSnapshot Queue => Batcher.Snapshot();

    /// <summary>Finishes queued work (the sessions are released by <see cref="DisposeAsync"/>).</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        await Batcher.DrainAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await Batcher.DisposeAsync().ConfigureAwait(false);
        foreach (var runner in _runners)
        {
            runner.Dispose();
        }
    }
}
