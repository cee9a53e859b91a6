namespace EmbeddingService.Inference.Runtime;

/// <summary>How an ONNX Runtime session is created (resolved from <c>Batching</c> options by the catalog).</summary>
/// <param name="IntraOpThreads">Threads one <c>Run</c> call may use.</param>
/// <param name="AllowSpinning">Whether idle intra-op threads spin (lower latency alone, worse when cores are shared).</param>
public sealed record RuntimeOptions(int IntraOpThreads, bool AllowSpinning);
