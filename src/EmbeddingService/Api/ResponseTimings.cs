using System.Diagnostics;
using System.Globalization;
using Serilog;
using EmbeddingService.Inference;

namespace EmbeddingService.Api;

/// <summary>
/// Reports where a request's time went, as TEI does: response headers (<c>x-compute-tokens</c>, <c>x-tokenization-time</c>,
/// <c>x-queue-time</c>, <c>x-inference-time</c>, <c>x-total-time</c>, in milliseconds), how many inputs were cut
/// (<c>x-truncated-inputs</c>), how many model inputs came from the embedding cache (<c>x-cache-hits</c>), and properties of
/// the request's log line.
/// </summary>
internal static class ResponseTimings
{
    private const string StartKey = "embedding.request.start";

    /// <summary>Marks the request's start; called first thing in the pipeline.</summary>
    public static void MarkStart(HttpContext context) => context.Items[StartKey] = Stopwatch.GetTimestamp();

    public static void Report(HttpContext context, IDiagnosticContext diagnostics, IRequestCost result)
    {
        var total = context.Items[StartKey] is long start ? Stopwatch.GetElapsedTime(start) : result.Timings.Tokenization + result.Timings.Queue + result.Timings.Inference;
        var headers = context.Response.Headers;
        headers["x-model-id"] = result.ModelId;
        headers["x-compute-tokens"] = result.PromptTokens.ToString(CultureInfo.InvariantCulture);
        headers["x-truncated-inputs"] = result.TruncatedInputs.ToString(CultureInfo.InvariantCulture);
        headers["x-cache-hits"] = result.CacheHits.ToString(CultureInfo.InvariantCulture);
        headers["x-tokenization-time"] = Milliseconds(result.Timings.Tokenization);
        headers["x-queue-time"] = Milliseconds(result.Timings.Queue);
        headers["x-inference-time"] = Milliseconds(result.Timings.Inference);
        headers["x-total-time"] = Milliseconds(total);

        diagnostics.Set("Model", result.ModelId);
        diagnostics.Set("Inputs", result.Count);
        diagnostics.Set("Tokens", result.PromptTokens);
        diagnostics.Set("Truncated", result.TruncatedInputs);
        diagnostics.Set("CacheHits", result.CacheHits);
        diagnostics.Set("TokenizationMs", result.Timings.Tokenization.TotalMilliseconds);
        diagnostics.Set("QueueMs", result.Timings.Queue.TotalMilliseconds);
        diagnostics.Set("InferenceMs", result.Timings.Inference.TotalMilliseconds);
    }

    private static string Milliseconds(TimeSpan time) => time.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture);
}
