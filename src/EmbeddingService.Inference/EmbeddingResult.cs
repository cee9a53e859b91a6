namespace EmbeddingService.Inference;

/// <summary>The vectors of one request, in input order, with what it cost.</summary>
public sealed class EmbeddingResult
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

    /// <summary>Tokens the model saw, special tokens included, after truncation.</summary>
    public int PromptTokens { get; }

    /// <summary>How many inputs were cut to fit the model.</summary>
    public int TruncatedInputs { get; }

    public EmbeddingTimings Timings { get; }

    /// <summary>The vector of input <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> this[int index] => _vectors.AsSpan(index * Dimensions, Dimensions);

    /// <summary>The vector of input <paramref name="index"/> as memory (for APIs that keep it).</summary>
    public ReadOnlyMemory<float> GetVector(int index) => _vectors.AsMemory(index * Dimensions, Dimensions);
}

/// <summary>Where one request's time went.</summary>
public readonly record struct EmbeddingTimings(TimeSpan Tokenization, TimeSpan Queue, TimeSpan Inference);
