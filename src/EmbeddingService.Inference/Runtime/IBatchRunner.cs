namespace EmbeddingService.Inference.Runtime;

/// <summary>
/// Runs one padded batch through a model and writes one pooled, not yet normalized, vector per input.
/// The batcher calls it from several runner threads at once, so implementations must be thread-safe.
/// </summary>
public interface IBatchRunner
{
    /// <summary>The width of each output vector.</summary>
    int Dimensions { get; }

    /// <summary>Runs <paramref name="inputs"/> (token ids with special tokens) and fills
    /// <paramref name="output"/> with <c>inputs.Count × Dimensions</c> floats, row by row.</summary>
    /// <param name="tokenOutputs">Null, or one entry per row: null, or an array of <c>inputs[row].Length × Dimensions</c>
    /// floats that receives that row's token vectors, unpooled (for <c>/embed_all</c>).</param>
    void Run(IReadOnlyList<int[]> inputs, Span<float> output, IReadOnlyList<float[]?>? tokenOutputs = null);
}
