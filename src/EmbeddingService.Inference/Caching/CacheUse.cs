namespace EmbeddingService.Inference.Caching;

/// <summary>How one request uses the embedding cache (HTTP: <c>Cache-Control</c>).</summary>
public enum CacheUse
{
    /// <summary>Serve what is cached, cache what is computed.</summary>
    ReadWrite,

    /// <summary>Compute every input and replace what is cached (<c>no-cache</c>).</summary>
    Refresh,

    /// <summary>Neither read nor write the cache (<c>no-store</c>).</summary>
    Bypass,
}
