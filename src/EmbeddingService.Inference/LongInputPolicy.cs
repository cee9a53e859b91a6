namespace EmbeddingService.Inference;

/// <summary>What happens to an input longer than the model's limit.</summary>
public enum LongInputPolicy
{
    /// <summary>Cut it to the limit, in the request's <see cref="Tokenization.TruncationDirection"/>.</summary>
    Truncate,

    /// <summary>Refuse the request, naming the input, its token count and the limit.</summary>
    Error,

    /// <summary>Embed it in chunks, as <c>/embed_chunks</c> does with no overlap, and answer the mean of the chunk vectors
    /// weighted by their token counts (each chunk vector normalized first, and the mean again, when normalizing).</summary>
    Mean,
}

/// <summary>A bound on a request, with the setting it comes from so that an error can name it.</summary>
public sealed record NamedLimit(int Value, string Name);
