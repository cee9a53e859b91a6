namespace EmbeddingService.Inference.Batching;

/// <summary>A model's queue at one moment: inputs and tokens waiting, and the seconds they should take to run at the
/// throughput measured now (<see cref="ThroughputMeter"/>).</summary>
public readonly record struct QueueSnapshot(int Inputs, long Tokens, double DrainSeconds);
