using System.Runtime.InteropServices;
using EmbeddingService.Inference.Models;

namespace EmbeddingService.Inference.Caching;

/// <summary>
/// What decides a pooled vector: the model (<see cref="ModelKey"/>: its ONNX file's SHA-256 and its pooling) and the token
/// ids fed to it, special tokens, prompt and any truncation or chunking already applied. Exact: equal keys compare every id.
/// </summary>
internal sealed class EmbeddingCacheKey : IEquatable<EmbeddingCacheKey>
{
    private readonly int _hash;

    /// <param name="ids">Kept, not copied: the caller never changes them after this.</param>
    public EmbeddingCacheKey(string modelKey, int[] ids)
    {
        ModelKey = modelKey;
        Ids = ids;
        var hash = new HashCode();
        hash.Add(modelKey);
        hash.AddBytes(MemoryMarshal.AsBytes(ids.AsSpan()));
        _hash = hash.ToHashCode();
    }

    public string ModelKey { get; }

    public int[] Ids { get; }

    /// <summary>Everything about a model that decides its pooled vectors besides the ids: its weights (the SHA-256 of its
    /// ONNX file, so a model file swapped under the same id or folder never meets the vectors of the one before, while
    /// two ids of one file share entries) and its pooling.</summary>
    public static string ModelPart(ModelManifest manifest) =>
        $"{(manifest.ModelSha256.Length > 0 ? manifest.ModelSha256 : "folder " + manifest.Directory)}/{manifest.Pooling}";

    public bool Equals(EmbeddingCacheKey? other) =>
        other is not null && _hash == other._hash && Ids.AsSpan().SequenceEqual(other.Ids) && string.Equals(ModelKey, other.ModelKey, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as EmbeddingCacheKey);

    public override int GetHashCode() => _hash;
}
