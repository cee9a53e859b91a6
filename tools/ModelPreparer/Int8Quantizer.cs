using Google.Protobuf;
using Onnx;

namespace EmbeddingService.ModelPreparer;

/// <summary>
/// Rewrites an fp32 encoder into its int8 variant: every <c>MatMul</c> whose second input is a constant fp32 matrix
/// [K, N] becomes ONNX Runtime's <c>com.microsoft::DynamicQuantizeMatMul</c>, with the matrix stored as int8 and one
/// symmetric scale per output column (zero point 0), and the bias <c>Add</c> that follows it folded into the op's bias
/// input. The activations are quantized at run time, per call, by the op itself. Per-column scales because a scale per
/// tensor cost too much (issue 18 measured a minimum cosine to fp32 of 0.81; per column: 0.967 over the STS sentences);
/// everything else (embeddings, layer norms, attention arithmetic) stays fp32.
/// <para>
/// The op quantizes its activations with one scale per call, over the whole batch, so an int8 vector depends slightly on
/// the batch it ran in (README: worst cosine 0.989 between runs of one text). <c>MatMulNBits</c> (8 bits, blocks of 32,
/// <c>accuracy_level</c> 4) quantizes them per row and block and gave batch-invariant vectors, but ran 1.0× fp32 at 64
/// connections against 2.2-2.7× for this op (measured 2026-12-03, ONNX Runtime 1.31, AVX-512 VNNI).
/// </para>
/// </summary>
public static class Int8Quantizer
{
    /// <summary>Named in the variant's stamp, so a folder says how it was made.</summary>
    public const string Method = "DynamicQuantizeMatMul, int8 weights, symmetric per-column scales, bias folded";

    private const string MicrosoftDomain = "com.microsoft";
    private const int FloatType = (int)TensorProto.Types.DataType.Float;
    private const int Int8Type = (int)TensorProto.Types.DataType.Int8;

    /// <summary>What a rewrite did.</summary>
    /// <param name="Quantized">The MatMuls made int8.</param>
    /// <param name="KeptFloat">The constant-weight MatMuls left in fp32 because a name of theirs held a kept fragment.</param>
    /// <param name="BiasesFolded">The bias Adds folded into a quantized MatMul.</param>
    public sealed record Result(int Quantized, int KeptFloat, int BiasesFolded);

    /// <summary>Rewrites <paramref name="model"/> in place.</summary>
    /// <param name="keepFloat">Name fragments (e.g. <c>encoder.layer.0.</c>) of the MatMuls that stay fp32: matched against
    /// the node's name, its weight's and its bias's.</param>
    /// <exception cref="InvalidDataException">The model has no MatMul with a constant fp32 matrix to quantize.</exception>
    public static Result Quantize(ModelProto model, IReadOnlyCollection<string> keepFloat)
    {
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(static t => t.Name, StringComparer.Ordinal);
        var graphOutputs = graph.Output.Select(static o => o.Name).ToHashSet(StringComparer.Ordinal);
        var quantized = 0;
        var keptFloat = 0;
        var folded = 0;
        var removed = new HashSet<NodeProto>();
        var rewritten = new List<NodeProto>(graph.Node.Count);

        foreach (var node in graph.Node)
        {
            if (removed.Contains(node))
            {
                continue;
            }

            if (node.OpType != "MatMul" || node.Domain is not ("" or "ai.onnx") || node.Input.Count != 2
                || !initializers.TryGetValue(node.Input[1], out var weight) || weight.DataType != FloatType || weight.Dims.Count != 2)
            {
                rewritten.Add(node);
                continue;
            }

            var rows = checked((int)weight.Dims[0]);
            var columns = checked((int)weight.Dims[1]);
            var biasAdd = FoldableBiasAdd(graph, node, initializers, graphOutputs, columns);
            var bias = biasAdd is null ? "" : biasAdd.Input[0] == node.Output[0] ? biasAdd.Input[1] : biasAdd.Input[0];
            // Exported weights are often anonymous (onnx::MatMul_1234) where the biases keep the module's name
            // (encoder.layer.0.attention.self.query.bias): a fragment may name any of the three.
            if (keepFloat.Any(fragment => node.Name.Contains(fragment, StringComparison.Ordinal) || weight.Name.Contains(fragment, StringComparison.Ordinal)
                || bias.Contains(fragment, StringComparison.Ordinal)))
            {
                keptFloat++;
                rewritten.Add(node);
                continue;
            }

            var prefix = weight.Name;
            var (values, scales) = QuantizeColumns(ReadFloats(weight), rows, columns);
            AddInitializer(graph, initializers, Tensor(prefix + "_int8", Int8Type, [rows, columns], ByteString.CopyFrom((byte[])(Array)values)));
            AddInitializer(graph, initializers, FloatTensor(prefix + "_scale", scales));
            AddInitializer(graph, initializers, Tensor(prefix + "_zero_point", Int8Type, [columns], ByteString.CopyFrom(new byte[columns])));

            var output = node.Output[0];
            if (biasAdd is not null)
            {
                output = biasAdd.Output[0];
                removed.Add(biasAdd);
                folded++;
            }

            var replacement = new NodeProto
            {
                Name = node.Name + "_int8",
                OpType = "DynamicQuantizeMatMul",
                Domain = MicrosoftDomain,
            };
            replacement.Input.Add(node.Input[0]);
            replacement.Input.Add(prefix + "_int8");
            replacement.Input.Add(prefix + "_scale");
            replacement.Input.Add(prefix + "_zero_point");
            if (bias.Length > 0)
            {
                replacement.Input.Add(bias);
            }

            replacement.Output.Add(output);
            rewritten.Add(replacement);
            quantized++;
        }

        if (quantized == 0)
        {
            throw new InvalidDataException(keptFloat > 0
                ? "Every MatMul with a constant matrix was kept in fp32: nothing left to quantize."
                : "The model has no MatMul with a constant fp32 matrix to quantize.");
        }

        graph.Node.Clear();
        graph.Node.AddRange(rewritten);
        RemoveUnusedInitializers(graph);
        if (!model.OpsetImport.Any(static o => o.Domain == MicrosoftDomain))
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
        }

        return new Result(quantized, keptFloat, folded);
    }

    /// <summary>
    /// Symmetric per-column quantization: column n is scaled by max|W[:, n]| / 127, so its largest weight maps to ±127
    /// and zero stays exactly zero.
    /// </summary>
    internal static (sbyte[] Values, float[] Scales) QuantizeColumns(float[] weights, int rows, int columns)
    {
        if (weights.Length != rows * columns)
        {
            throw new InvalidDataException($"A [{rows}, {columns}] matrix holds {weights.Length} values.");
        }

        var scales = new float[columns];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                scales[c] = Math.Max(scales[c], Math.Abs(weights[(r * columns) + c]));
            }
        }

        for (var c = 0; c < columns; c++)
        {
            scales[c] = scales[c] > 0 ? scales[c] / 127f : 1f;
        }

        var values = new sbyte[weights.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                var index = (r * columns) + c;
                values[index] = (sbyte)Math.Clamp(MathF.Round(weights[index] / scales[c], MidpointRounding.ToEven), -127f, 127f);
            }
        }

        return (values, scales);
    }

    /// <summary>The <c>Add</c> of a constant [N] bias that alone consumes the MatMul's output, if there is one.</summary>
    private static NodeProto? FoldableBiasAdd(GraphProto graph, NodeProto matMul, Dictionary<string, TensorProto> initializers,
        HashSet<string> graphOutputs, int columns)
    {
        var output = matMul.Output[0];
        if (graphOutputs.Contains(output))
        {
            return null;
        }

        var consumers = graph.Node.Where(n => n.Input.Contains(output)).Take(2).ToList();
        if (consumers is not [{ OpType: "Add", Input.Count: 2 } add])
        {
            return null;
        }

        var other = add.Input[0] == output ? add.Input[1] : add.Input[0];
        return initializers.TryGetValue(other, out var bias) && bias.DataType == FloatType && bias.Dims is [var n] && n == columns
            ? add
            : null;
    }

    private static float[] ReadFloats(TensorProto tensor)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new InvalidDataException($"Initializer '{tensor.Name}' keeps its data in an external file; give the tool a model in one file.");
        }

        if (!tensor.RawData.IsEmpty)
        {
            return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
        }

        return tensor.FloatData.ToArray();
    }

    private static TensorProto Tensor(string name, int dataType, long[] dims, ByteString raw)
    {
        var tensor = new TensorProto { Name = name, DataType = dataType, RawData = raw };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static TensorProto FloatTensor(string name, float[] values) =>
        Tensor(name, FloatType, [values.Length], ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())));

    private static void AddInitializer(GraphProto graph, Dictionary<string, TensorProto> initializers, TensorProto tensor)
    {
        if (!initializers.TryAdd(tensor.Name, tensor))
        {
            throw new InvalidDataException($"The model already has an initializer named '{tensor.Name}'.");
        }

        graph.Initializer.Add(tensor);
    }

    /// <summary>Drops the fp32 matrices (and folded biases) nothing reads any more, or the file would keep them.</summary>
    private static void RemoveUnusedInitializers(GraphProto graph)
    {
        var used = graph.Node.SelectMany(static n => n.Input).Concat(graph.Output.Select(static o => o.Name)).ToHashSet(StringComparer.Ordinal);
        var unused = graph.Initializer.Where(t => !used.Contains(t.Name)).ToList();
        foreach (var tensor in unused)
        {
            graph.Initializer.Remove(tensor);
        }

        // Old exports list initializers among the graph inputs too; those entries would now name nothing.
        var stale = graph.Input.Where(i => unused.Any(t => t.Name == i.Name)).ToList();
        foreach (var input in stale)
        {
            graph.Input.Remove(input);
        }
    }
}
