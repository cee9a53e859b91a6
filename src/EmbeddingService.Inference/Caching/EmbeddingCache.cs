using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using EmbeddingService.Inference.Diagnostics;

namespace EmbeddingService.Inference.Caching;

/// <summary>
/// Pooled vectors by <see cref="EmbeddingCacheKey"/>, for every model, bounded by <see cref="EmbeddingCacheOptions.MaxBytes"/>.
/// The vectors are kept before cutting to <c>dimensions</c> and normalizing, so requests that differ only in those share
/// an entry. A singleton; safe for concurrent use.
/// <para>
/// Built on <see cref="MemoryCache"/> with a size per entry: it bounds the bytes we count, where BitFaster.Caching's
/// caches bound the number of entries and ours differ in size (keys from a few ids to the model's limit). When an entry would take the
/// cache over its bound, the cache declines it and compacts in the background down to 95 % of the bound, dropping the
/// least recently used entries first; a declined vector is cached when it next misses. Two concurrent misses of the same
/// input both run and both store: the second replaces the first (equal vectors) and the size is counted once.
/// </para>
/// </summary>
public sealed class EmbeddingCache : IDisposable
{
    /// <summary>What an entry holds beyond its ids and its vector: the key and the two arrays' headers, the cache's own
    /// entry and its dictionary node. Measured with <c>GC.GetTotalMemory</c> over 20,000 entries of 16, 64 and 256 ids
    /// (256-271 bytes each), rounded up.</summary>
    public const int EntryOverheadBytes = 288;

    private readonly MemoryCache? _cache;
    private readonly EmbeddingMetrics? _metrics;

    /// <param name="metrics">Exports the cache's entries and bytes while it lives; none in unit tests.</param>
    public EmbeddingCache(IOptions<EmbeddingCacheOptions> options, EmbeddingMetrics? metrics = null)
    {
        MaxBytes = options.Value.MaxBytes;
        if (MaxBytes > 0)
        {
            _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = MaxBytes, TrackStatistics = true });
            _metrics = metrics;
            _metrics?.TrackCache(this);
        }
    }

    /// <summary>False when <c>Cache:MaxBytes</c> is 0.</summary>
    public bool Enabled => _cache is not null;

    public long MaxBytes { get; }

    /// <summary>Entries held now.</summary>
    public long Entries => _cache?.Count ?? 0;

    /// <summary>Bytes held now, as <see cref="EntryBytes"/> counts them.</summary>
    public long Bytes => _cache?.GetCurrentStatistics()?.CurrentEstimatedSize ?? 0;

    /// <summary>What an entry of <paramref name="ids"/> token ids and a <paramref name="dimensions"/>-wide vector costs.</summary>
    public static long EntryBytes(int ids, int dimensions) => EntryOverheadBytes + sizeof(int) * (long)ids + sizeof(float) * (long)dimensions;

    /// <summary>Copies the cached vector of <paramref name="key"/> into <paramref name="destination"/>, if there is one.</summary>
    internal bool TryGet(EmbeddingCacheKey key, Span<float> destination)
    {
        if (_cache is not null && _cache.TryGetValue(key, out float[]? vector) && vector!.Length == destination.Length)
        {
            vector.CopyTo(destination);
            return true;
        }

        return false;
    }

    /// <summary>Caches a copy of <paramref name="pooled"/> under <paramref name="key"/>, replacing any entry it has.</summary>
    internal void Set(EmbeddingCacheKey key, ReadOnlySpan<float> pooled)
    {
        if (_cache is null)
        {
            return;
        }

        using var entry = _cache.CreateEntry(key);
        entry.Size = EntryBytes(key.Ids.Length, pooled.Length);
        entry.Value = pooled.ToArray();
    }

    public void Dispose()
    {
        _metrics?.UntrackCache(this);
        _cache?.Dispose();
    }
}
