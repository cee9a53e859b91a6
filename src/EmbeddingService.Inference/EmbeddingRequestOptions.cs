using EmbeddingService.Inference.Caching;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Inference;

/// <summary>How to embed one request's inputs (already validated for shape by the API).</summary>
public sealed record EmbeddingRequestOptions
{
    /// <summary>The model id; null means the configured default.</summary>
    public string? Model { get; init; }

    /// <summary>L2-normalize each vector (after cutting it to <see cref="Dimensions"/>).</summary>
    public bool Normalize { get; init; } = true;

    /// <summary>What to do with an input longer than the model's limit.</summary>
    public LongInputPolicy LongInput { get; init; } = LongInputPolicy.Truncate;

    public TruncationDirection TruncationDirection { get; init; } = TruncationDirection.Right;

    /// <summary>A prompt of the model's (e.g. <c>query</c>) to prepend; null means the model's default prompt, if any.</summary>
    public string? PromptName { get; init; }

    /// <summary>Keep only the first N components (Matryoshka style); null keeps them all.</summary>
    public int? Dimensions { get; init; }

    /// <summary>The most model inputs (chunks) the request may run: long inputs under <see cref="LongInputPolicy.Mean"/>
    /// and <c>/embed_chunks</c> documents count each chunk. Null: no bound.</summary>
    public NamedLimit? MaxChunks { get; init; }

    /// <summary>The most tokens (special tokens included) the request may run. Null: no bound.</summary>
    public NamedLimit? MaxTokens { get; init; }

    /// <summary>How the request uses the embedding cache (pooled vectors only: token vectors are never cached).</summary>
    public CacheUse Cache { get; init; } = CacheUse.ReadWrite;
}
