namespace EmbeddingService.Inference;

/// <summary>What one request ran and where its time went, for response headers, logs and usage.</summary>
public interface IRequestCost
{
    string ModelId { get; }

    /// <summary>Inputs answered.</summary>
    int Count { get; }

    /// <summary>Tokens the model saw, special tokens included, after truncation; every chunk's.</summary>
    int PromptTokens { get; }

    /// <summary>How many inputs were cut to fit the model.</summary>
    int TruncatedInputs { get; }

    /// <summary>Model inputs (rows: an input, or each chunk of one) whose pooled vector came from the embedding cache.</summary>
    int CacheHits { get; }

    EmbeddingTimings Timings { get; }
}

/// <summary>The vectors of one request, in input order, with what it cost.</summary>
public sealed class EmbeddingResult : IRequestCost
{
    private readonly float[] _vectors;

    internal EmbeddingResult(string modelId, float[] vectors, int count, int dimensions, int promptTokens, int truncatedInputs, EmbeddingTimings timings)
    {
        ModelId = modelId;
        _vectors = vectors;
        Count = count;
        Dimensions = dimensions;
        PromptTokens = promptTokens;
        TruncatedInputs = truncatedInputs;
        Timings = timings;
    }

    public string ModelId { get; }

    public int Count { get; }

    public int Dimensions { get; }

    public int PromptTokens { get; }

    public int TruncatedInputs { get; }

    public int CacheHits { get; init; }

    public EmbeddingTimings Timings { get; }

    /// <summary>The vector of input <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> this[int index] => _vectors.AsSpan(index * Dimensions, Dimensions);

    /// <summary>The vector of input <paramref name="index"/> as memory (for APIs that keep it).</summary>
    public ReadOnlyMemory<float> GetVector(int index) => _vectors.AsMemory(index * Dimensions, Dimensions);
}

/// <summary>Where one request's time went.</summary>
public readonly record struct EmbeddingTimings(TimeSpan Tokenization, TimeSpan Queue, TimeSpan Inference);

/// <summary>The token vectors of one request's inputs (<c>/embed_all</c>), special tokens included, not pooled.</summary>
public sealed class TokenEmbeddingResult : IRequestCost
{
    private readonly float[][] _tokens;

    internal TokenEmbeddingResult(string modelId, float[][] tokens, int dimensions, int promptTokens, int truncatedInputs, EmbeddingTimings timings)
    {
        ModelId = modelId;
        _tokens = tokens;
        Dimensions = dimensions;
        PromptTokens = promptTokens;
        TruncatedInputs = truncatedInputs;
        Timings = timings;
    }

    public string ModelId { get; }

    public int Count => _tokens.Length;

    public int Dimensions { get; }

    public int PromptTokens { get; }

    public int TruncatedInputs { get; }

    /// <summary>Always 0: token vectors are not cached.</summary>
    public int CacheHits => 0;

    public EmbeddingTimings Timings { get; }

    /// <summary>How many token vectors input <paramref name="index"/> has.</summary>
    public int Length(int index) => _tokens[index].Length / Dimensions;

    /// <summary>Token <paramref name="token"/> of input <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> this[int index, int token] => _tokens[index].AsSpan(token * Dimensions, Dimensions);
}
