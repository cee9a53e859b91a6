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
/// input both run and both store, one after the other.
/// </para>
/// <para>
/// A write never replaces an entry in place: it removes the key's entry, then adds the new one, under a lock of the key's
/// stripe. In Microsoft.Extensions.Caching.Memory 9.0-10.0 a replacement that meets a compaction removing the old entry
/// can subtract its size twice (dotnet/runtime#129186, fixed in 11.0): the cache would then hold more than its bound, or,
/// once its count went below zero, decline every write. Removal and compaction take an entry out of the dictionary
/// first, so only one of them subtracts its size.
/// </para>
/// </summary>
public sealed class EmbeddingCache : IDisposable
{
    /// <summary>What an entry holds beyond its ids and its vector: the key and the two arrays' headers, the cache's own
    /// entry and its dictionary node. Measured with <c>GC.GetTotalMemory</c> over 20,000 entries of 16, 64 and 256 ids
    /// (256-271 bytes each), rounded up.</summary>
    public const int EntryOverheadBytes = 288;

    /// <summary>Writers of one key take the same lock; writers of different keys rarely share one.</summary>
    private const int WriteStripes = 64;

    private readonly MemoryCache? _cache;
    private readonly EmbeddingMetrics? _metrics;
    private readonly Lock[] _writeLocks = Enumerable.Range(0, WriteStripes).Select(static _ => new Lock()).ToArray();
    private volatile bool _disposed;

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
    /// <remarks>A miss once the cache is disposed (a request still finishing while the host shuts down).</remarks>
    internal bool TryGet(EmbeddingCacheKey key, Span<float> destination)
    {
        try
        {
            if (_cache is not null && !_disposed && _cache.TryGetValue(key, out float[]? vector) && vector!.Length == destination.Length)
            {
                vector.CopyTo(destination);
                return true;
            }
        }
        catch (ObjectDisposedException)
        {
            // Disposed between the check and the lookup: a miss, as after it.
        }

        return false;
    }

    /// <summary>Caches a copy of <paramref name="pooled"/> under <paramref name="key"/>, replacing any entry it has
    /// (removed first: see the class's remarks). Nothing once the cache is disposed.</summary>
    internal void Set(EmbeddingCacheKey key, ReadOnlySpan<float> pooled)
    {
        if (_cache is null || _disposed)
        {
            return;
        }

        var value = pooled.ToArray();
        try
        {
            lock (_writeLocks[(key.GetHashCode() & int.MaxValue) % WriteStripes])
            {
                _cache.Remove(key);
                using var entry = _cache.CreateEntry(key);
                entry.Size = EntryBytes(key.Ids.Length, value.Length);
                entry.Value = value;
            }
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: there is nothing left to write to.
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _metrics?.UntrackCache(this);
        _cache?.Dispose();
    }
}
