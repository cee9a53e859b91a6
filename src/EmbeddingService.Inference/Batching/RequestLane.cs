using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Inference.Batching;

/// <summary>
/// The two kinds of traffic one model serves, each waiting in a queue of its own (<see cref="BatchScheduler"/>).
/// A request's lane follows from its size alone: a caller cannot declare itself urgent, and the only way into the
/// interactive lane is to ask for no more than one batch's worth of work.
/// </summary>
internal enum RequestLane
{
    /// <summary>A request that fits in one batch: a search query, a RAG question. Latency-bound; served first.</summary>
    Interactive,

    /// <summary>A request larger than one batch: an ingestion job's texts. Throughput-bound; gets at least one batch in
    /// every <see cref="BatchingOptions.InteractiveBatchesPerBulkBatch"/> + 1 while both lanes wait.</summary>
    Bulk,
}

internal static class RequestLanes
{
    /// <summary>Interactive when the inputs fit in one batch: at most <see cref="BatchingOptions.MaxBatchSize"/> of them,
    /// padded to the longest within <see cref="BatchingOptions.MaxBatchTokens"/> (a single input always fits: one longer
    /// than the budget runs alone anyway).</summary>
    public static RequestLane Of(IReadOnlyList<TokenizedInput> inputs, BatchingOptions options)
    {
        if (inputs.Count > options.MaxBatchSize)
        {
            return RequestLane.Bulk;
        }

        var longest = 0;
        foreach (var input in inputs)
        {
            longest = Math.Max(longest, input.Length);
        }

        return inputs.Count == 1 || (long)longest * inputs.Count <= options.MaxBatchTokens ? RequestLane.Interactive : RequestLane.Bulk;
    }
}
