using EmbeddingService.Inference.Runtime;

namespace EmbeddingService.Tests.Batching;

/// <summary>
/// A deterministic stand-in for ONNX Runtime: each output row encodes its input (first id, length), every batch is
/// recorded, and an optional gate holds batches until the test releases them, so tests control timing without sleeps.
/// </summary>
internal sealed class FakeBatchRunner : IBatchRunner
{
    private readonly SemaphoreSlim? _gate;
    private readonly Lock _lock = new();

    public FakeBatchRunner(bool gated = false)
    {
        _gate = gated ? new SemaphoreSlim(0) : null;
    }

    public int Dimensions => 2;

    /// <summary>Every batch run so far, as the list of its rows' ids.</summary>
    public List<List<int[]>> Batches { get; } = [];

    /// <summary>Signalled each time a batch starts (before the gate).</summary>
    public SemaphoreSlim Started { get; } = new(0);

    public Func<IReadOnlyList<int[]>, Exception?>? Fail { get; set; }

    public void Release(int batches = 1) => _gate!.Release(batches);

    public void Run(IReadOnlyList<int[]> inputs, Span<float> output, IReadOnlyList<float[]?>? tokenOutputs = null)
    {
        lock (_lock)
        {
            Batches.Add(inputs.Select(static i => i.ToArray()).ToList());
        }

        Started.Release();
        _gate?.Wait(TimeSpan.FromSeconds(30));
        if (Fail?.Invoke(inputs) is { } exception)
        {
            throw exception;
        }

        for (var row = 0; row < inputs.Count; row++)
        {
            output[row * 2] = inputs[row][1];
            output[row * 2 + 1] = inputs[row].Length;
            if (tokenOutputs?[row] is { } tokens)
            {
                // Token t's vector: (its id, its position).
                for (var t = 0; t < inputs[row].Length; t++)
                {
                    tokens[t * 2] = inputs[row][t];
                    tokens[t * 2 + 1] = t;
                }
            }
        }
    }
}
