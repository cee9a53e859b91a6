using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using EmbeddingService.Inference.Models;

namespace EmbeddingService.Inference.Runtime;

/// <summary>
/// One ONNX Runtime session for one model, shared by all of the model's runner threads (<c>InferenceSession.Run</c> is
/// thread-safe, and sharing keeps one copy of the weights however many runners there are). A model with a second
/// session (<c>Batching:LoneRequestThreads</c>) gives both the same weights (<see cref="SharedWeights"/>).
/// Builds padded <c>[batch, length]</c> tensors over pooled arrays, runs the encoder and pools <c>last_hidden_state</c>.
/// </summary>
public sealed class OnnxBatchRunner : IBatchRunner, IDisposable
{
    private const string OutputName = "last_hidden_state";

    // Immutable, so shared by every call and thread.
    private static readonly RunOptions s_runOptions = new();

    /// <summary>Thread-safe; disposed with the runner.</summary>
    private readonly InferenceSession _session;
    private SharedWeights? _weights;
    private readonly PoolingMode _pooling;
    private readonly string[] _inputNames;
    private readonly bool _hasTokenTypes;
    private readonly string[] _outputNames = [OutputName];

    /// <summary>A session of its own, loaded and optimized from the model's file.</summary>
    public OnnxBatchRunner(ModelManifest manifest, RuntimeOptions options)
        : this(manifest, CreateSession(manifest.ModelPath, options), weights: null)
    {
    }

    private OnnxBatchRunner(ModelManifest manifest, InferenceSession session, SharedWeights? weights)
    {
        _session = session;
        _weights = weights;
        try
        {
            (Dimensions, _inputNames) = Validate(manifest, session);
        }
        catch
        {
            Dispose();
            throw;
        }

        _hasTokenTypes = _inputNames.Length == 3;
        _pooling = manifest.Pooling;
    }

    /// <summary>A session over the model's already optimized graph at <paramref name="graphPath"/> with the weights
    /// that all sessions of the model share (see <see cref="SharedWeights"/>).</summary>
    internal static OnnxBatchRunner CreateShared(ModelManifest manifest, RuntimeOptions options, string graphPath, SharedWeights weights)
    {
        // The graph is already optimized: optimizing it again could only make new weights, which would not be shared.
        using var sessionOptions = CreateSessionOptions(options, GraphOptimizationLevel.ORT_DISABLE_ALL);
        weights.AddTo(sessionOptions);
        var session = new InferenceSession(graphPath, sessionOptions, weights.PrePacked);
        weights.Lease();
        return new OnnxBatchRunner(manifest, session, weights);
    }

    private static InferenceSession CreateSession(string modelPath, RuntimeOptions options)
    {
        using var sessionOptions = CreateSessionOptions(options, GraphOptimizationLevel.ORT_ENABLE_ALL);
        return new InferenceSession(modelPath, sessionOptions);
    }

    /// <summary>The model's input names to feed, and the width of its output, or why the graph does not fit.</summary>
    private static (int Dimensions, string[] InputNames) Validate(ModelManifest manifest, InferenceSession session)
    {
        var inputs = session.InputMetadata.Keys.ToHashSet(StringComparer.Ordinal);
        if (!inputs.Contains("input_ids") || !inputs.Contains("attention_mask"))
        {
            throw new InvalidOperationException($"Model '{manifest.Id}': the ONNX graph needs inputs input_ids and attention_mask; it has {string.Join(", ", inputs)}.");
        }

        if (!session.OutputMetadata.TryGetValue(OutputName, out var output) || output.Dimensions.Length != 3 || output.Dimensions[2] <= 0)
        {
            throw new InvalidOperationException($"Model '{manifest.Id}': the ONNX graph needs an output {OutputName} shaped [batch, sequence, hidden].");
        }

        string[] names = inputs.Contains("token_type_ids") ? ["input_ids", "attention_mask", "token_type_ids"] : ["input_ids", "attention_mask"];
        return (output.Dimensions[2], names);
    }

    public int Dimensions { get; }

    /// <summary>The weights this session shares with the model's other sessions, if it does.</summary>
    internal SharedWeights? Weights => _weights;

    /// <summary>The options every session of the service is created with.</summary>
    internal static SessionOptions CreateSessionOptions(RuntimeOptions options, GraphOptimizationLevel optimization)
    {
        var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = optimization,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = 1,
            // Every batch has a new [batch, length] shape: a memory pattern planned for one shape is useless for the next
            // and would be cached per shape, so memory would grow with the number of shapes seen.
            EnableMemoryPattern = false,
        };
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
        // Spinning pays off inside a forward pass (workers stay awake between its ~100 operators) but not between
        // requests: stop spinning as soon as the last concurrent Run returns, so idle threads never steal the cores.
        sessionOptions.AddSessionConfigEntry("session.force_spinning_stop", "1");
        return sessionOptions;
    }

    public void Run(IReadOnlyList<int[]> inputs, Span<float> output, IReadOnlyList<float[]?>? tokenOutputs = null)
    {
        var batch = inputs.Count;
        var length = 0;
        for (var i = 0; i < batch; i++)
        {
            length = Math.Max(length, inputs[i].Length);
        }

        var size = batch * length;
        var ids = ArrayPool<long>.Shared.Rent(size);
        var mask = ArrayPool<long>.Shared.Rent(size);
        var types = _hasTokenTypes ? ArrayPool<long>.Shared.Rent(size) : null;
        try
        {
            Array.Clear(ids, 0, size);
            Array.Clear(mask, 0, size);
            if (types is not null)
            {
                Array.Clear(types, 0, size);
            }

            for (var row = 0; row < batch; row++)
            {
                var tokens = inputs[row];
                var offset = row * length;
                for (var t = 0; t < tokens.Length; t++)
                {
                    ids[offset + t] = tokens[t];
                    mask[offset + t] = 1;
                }
            }

            long[] shape = [batch, length];
            // OrtValues over managed memory pin it until disposed: always `using`.
            using var idsValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, ids.AsMemory(0, size), shape);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, mask.AsMemory(0, size), shape);
            using var typesValue = types is null ? null : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, types.AsMemory(0, size), shape);
            OrtValue[] values = typesValue is null ? [idsValue, maskValue] : [idsValue, maskValue, typesValue];

            using var results = _session.Run(s_runOptions, _inputNames, values, _outputNames);
            var hidden = results[0].GetTensorDataAsSpan<float>();
            var rowSize = length * Dimensions;
            for (var row = 0; row < batch; row++)
            {
                var tokens = hidden.Slice(row * rowSize, rowSize);
                Pooling.Pool(_pooling, tokens, inputs[row].Length, output.Slice(row * Dimensions, Dimensions));
                if (tokenOutputs?[row] is { } destination)
                {
                    tokens[..destination.Length].CopyTo(destination);
                }
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(ids);
            ArrayPool<long>.Shared.Return(mask);
            if (types is not null)
            {
                ArrayPool<long>.Shared.Return(types);
            }
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        Interlocked.Exchange(ref _weights, null)?.Release();
    }
}
