using System.Runtime.InteropServices;
using EmbeddingService.Inference.Models;

namespace EmbeddingService.Inference.Caching;

/// <summary>
/// What decides a pooled vector: the model (<see cref="ModelKey"/>: its ONNX file's SHA-256, its folder and its pooling) and the token
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

    /// <summary>Everything about a model that decides its pooled vectors besides the ids: its ONNX file (its SHA-256), its
    /// folder and its pooling. The folder too, because a model may keep its weights in files beside <c>model.onnx</c>
    /// (ONNX external data): two fine-tunes of one architecture can have byte-identical <c>model.onnx</c> files. Two ids
    /// registered on one folder share entries; so do the requests of any id whatever its name.</summary>
    public static string ModelPart(ModelManifest manifest) => $"{manifest.ModelSha256}|{manifest.Directory}|{manifest.Pooling}";

    public bool Equals(EmbeddingCacheKey? other) =>
        other is not null && _hash == other._hash && Ids.AsSpan().SequenceEqual(other.Ids) && string.Equals(ModelKey, other.ModelKey, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as EmbeddingCacheKey);

    public override int GetHashCode() => _hash;
}
