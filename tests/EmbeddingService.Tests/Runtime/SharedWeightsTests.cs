using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.ML.OnnxRuntime.Tensors;
using EmbeddingService.Inference;
using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Runtime;
using EmbeddingService.Inference.Tokenization;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Runtime;

/// <summary>A model's sessions sharing one copy of the weights (optimized graph + <see cref="SharedWeights"/>) on both
/// real models: the same vectors as a session of its own, whichever session and thread count runs them.</summary>
public sealed class SharedWeightsTests
{
    public static TheoryData<string> ModelIds => new() { "all-MiniLM-L6-v2", "snowflake-arctic-embed-xs" };

    [Theory]
    [MemberData(nameof(ModelIds))]
    public void The_optimized_graph_keeps_its_weights_in_one_external_file_that_is_deleted_afterwards(string modelId)
    {
        var manifest = Manifest(modelId);
        string folder;
        using (var export = OptimizedModelExport.Create(manifest.ModelPath, Path.GetTempPath()))
        {
            folder = export.Folder;
            var initializers = OnnxExternalInitializers.Read(export.GraphPath);

            // The encoder's matrices, embeddings and norms: ~86 MB of fp32 for both models, all in one data file.
            Assert.InRange(initializers.Count, 50, 500);
            Assert.Single(initializers.Select(static i => i.Location).Distinct());
            Assert.Equal(initializers.Count, initializers.Select(static i => i.Name).Distinct().Count());
            Assert.InRange(initializers.Sum(static i => i.Length), 80L << 20, 95L << 20);

            // Extents lie inside the file and do not overlap.
            var fileLength = new FileInfo(Path.Combine(export.Folder, initializers[0].Location)).Length;
            var extents = initializers.OrderBy(static i => i.Offset).ToArray();
            for (var k = 0; k < extents.Length; k++)
            {
                Assert.True(extents[k].Offset + extents[k].Length <= (k + 1 < extents.Length ? extents[k + 1].Offset : fileLength));
            }
        }

        Assert.False(Directory.Exists(folder));
    }

    [Theory]
    [MemberData(nameof(ModelIds))]
    public void Sessions_sharing_the_weights_give_the_vectors_of_a_session_of_its_own(string modelId)
    {
        var manifest = Manifest(modelId);
        var tokenizer = ModelTokenizer.Create(manifest);
        var texts = EvalData.StsPairs("dev").Take(6).Select(static p => p.First).Append("A much longer input: " + string.Concat(Enumerable.Repeat("words and more words, ", 40))).ToArray();
        var inputs = texts.Select(t => tokenizer.Encode(t, truncate: true, TruncationDirection.Right).Ids).ToArray();

        using var own = new OnnxBatchRunner(manifest, new RuntimeOptions(1, AllowSpinning: false));
        var expected = new float[inputs.Length * own.Dimensions];
        own.Run(inputs, expected);

        var logger = new FakeLogger<OnnxBatchRunnerFactory>();
        var factory = new OnnxBatchRunnerFactory(logger);
        var runners = factory.Create(manifest, [new RuntimeOptions(1, AllowSpinning: false), new RuntimeOptions(2, AllowSpinning: true)]);
        Assert.Equal(2, runners.Count);
        // Sharing, not the fallback (which logs a warning with the reason).
        var warnings = logger.Collector.GetSnapshot().Where(static r => r.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).ToArray();
        Assert.True(warnings.Length == 0, string.Join(Environment.NewLine, warnings.Select(static r => $"{r.Message} {r.Exception}")));
        var weights = Assert.IsType<OnnxBatchRunner>(runners[0]).Weights;
        try
        {
            Assert.NotNull(weights);
            Assert.Same(weights, Assert.IsType<OnnxBatchRunner>(runners[1]).Weights);
            Assert.Equal(2, weights.References);
            foreach (var runner in runners)
            {
                // As one batch, and one input at a time.
                var batched = new float[expected.Length];
                runner.Run(inputs, batched);
                AssertClose(expected, batched);

                var single = new float[expected.Length];
                for (var i = 0; i < inputs.Length; i++)
                {
                    runner.Run([inputs[i]], single.AsSpan(i * runner.Dimensions, runner.Dimensions));
                }

                AssertClose(expected, single);
            }

            // The weights outlive the first session (disposing it twice lets go once): the second still runs, and still
            // agrees, once it is gone; the memory goes with the last session.
            ((IDisposable)runners[0]).Dispose();
            ((IDisposable)runners[0]).Dispose();
            Assert.Equal(1, weights.References);
            var after = new float[expected.Length];
            runners[1].Run(inputs, after);
            AssertClose(expected, after);
        }
        finally
        {
            foreach (var runner in runners)
            {
                ((IDisposable)runner).Dispose();
            }
        }

        Assert.Equal(0, weights.References);
    }

    [Fact]
    public void Without_a_prepared_graph_or_a_writable_temporary_folder_each_session_loads_its_own_weights_and_gives_the_same_vectors()
    {
        using var bare = ModelFolderCopy.Of("all-MiniLM-L6-v2");
        var manifest = ModelFolderReader.Read("all-MiniLM-L6-v2", bare.Folder);
        var tokenizer = ModelTokenizer.Create(manifest);
        var input = tokenizer.Encode("A man is playing a guitar.", truncate: true, TruncationDirection.Right).Ids;
        using var own = new OnnxBatchRunner(manifest, new RuntimeOptions(1, AllowSpinning: false));
        var expected = new float[own.Dimensions];
        own.Run([input], expected);

        // A regular file where the temporary folder should be: nothing can be created under it.
        var notAFolder = Path.GetTempFileName();
        try
        {
            var factory = new OnnxBatchRunnerFactory(NullLogger<OnnxBatchRunnerFactory>.Instance, notAFolder);
            var runners = factory.Create(manifest, [new RuntimeOptions(1, AllowSpinning: false), new RuntimeOptions(2, AllowSpinning: true)]);
            try
            {
                Assert.Equal(2, runners.Count);
                foreach (var runner in runners)
                {
                    Assert.Null(Assert.IsType<OnnxBatchRunner>(runner).Weights);
                    var actual = new float[runner.Dimensions];
                    runner.Run([input], actual);
                    AssertClose(expected, actual);
                }
            }
            finally
            {
                foreach (var runner in runners)
                {
                    ((IDisposable)runner).Dispose();
                }
            }
        }
        finally
        {
            File.Delete(notAFolder);
        }
    }

    [Fact]
    public void One_session_loads_the_prepared_graph_or_else_the_model_file_itself()
    {
        var factory = new OnnxBatchRunnerFactory(NullLogger<OnnxBatchRunnerFactory>.Instance);
        using (var prepared = Assert.IsType<OnnxBatchRunner>(Assert.Single(factory.Create(Manifest("all-MiniLM-L6-v2"), [new RuntimeOptions(1, AllowSpinning: false)]))))
        {
            Assert.Equal(1, prepared.Weights!.References);
            Assert.Equal(384, prepared.Dimensions);
        }

        using var bare = ModelFolderCopy.Of("all-MiniLM-L6-v2");
        using var runner = Assert.IsType<OnnxBatchRunner>(Assert.Single(factory.Create(ModelFolderReader.Read("all-MiniLM-L6-v2", bare.Folder), [new RuntimeOptions(1, AllowSpinning: false)])));
        Assert.Null(runner.Weights);
        Assert.Equal(384, runner.Dimensions);
    }

    [Fact]
    public void A_file_that_is_not_an_onnx_model_is_refused()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [0x3A, 0xFF, 0xFF, 0xFF, 0x7F, 0x01]);
            Assert.Throws<InvalidDataException>(() => OnnxExternalInitializers.Read(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("model.onnx.data", 16, 8, null)] // what ONNX Runtime writes: parsed
    [InlineData("../model.onnx.data", 16, 8, "extent")] // not a plain file name beside the graph
    [InlineData("/etc/passwd", 16, 8, "extent")]
    [InlineData("model.onnx.data", -8, 8, "extent")] // negative offset
    [InlineData("model.onnx.data", 16, 12, "extent")] // length is not 2 floats
    public void External_extents_are_read_only_as_onnx_runtime_writes_them(string location, long offset, long length, string? error)
    {
        // ModelProto { graph { initializer { dims: 2, data_type: FLOAT, name: "w", external_data: location/offset/length,
        // data_location: EXTERNAL } } }, written field by field.
        var tensor = Concat(Varint(1 << 3), Varint(2), Varint(2 << 3), Varint(1), Bytes(8, "w"u8.ToArray()),
            Bytes(13, Pair("location", location)), Bytes(13, Pair("offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            Bytes(13, Pair("length", length.ToString(System.Globalization.CultureInfo.InvariantCulture))), Varint(14 << 3), Varint(1));
        var model = Concat(Varint(1 << 3), Varint(8), Bytes(7, Bytes(5, tensor)));
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, model);
            if (error is null)
            {
                var initializer = Assert.Single(OnnxExternalInitializers.Read(path));
                Assert.Equal(("w", TensorElementType.Float, 16L, 8L), (initializer.Name, initializer.ElementType, initializer.Offset, initializer.Length));
                Assert.Equal([2L], initializer.Shape);
            }
            else
            {
                Assert.Contains(error, Assert.Throws<InvalidDataException>(() => OnnxExternalInitializers.Read(path)).Message);
            }
        }
        finally
        {
            File.Delete(path);
        }

        static byte[] Varint(long value)
        {
            var bytes = new List<byte>();
            var v = (ulong)value;
            do
            {
                bytes.Add((byte)((v & 0x7F) | (v > 0x7F ? 0x80UL : 0)));
                v >>= 7;
            }
            while (v != 0);
            return bytes.ToArray();
        }

        static byte[] Bytes(int field, byte[] payload) => Concat(Varint(field << 3 | 2), Varint(payload.Length), payload);
        static byte[] Pair(string key, string value) => Concat(Bytes(1, System.Text.Encoding.UTF8.GetBytes(key)), Bytes(2, System.Text.Encoding.UTF8.GetBytes(value)));
        static byte[] Concat(params byte[][] parts) => parts.SelectMany(static p => p).ToArray();
    }

    private static ModelManifest Manifest(string modelId) =>
        ModelFolderReader.Read(modelId, Path.Combine(AppContext.BaseDirectory, "models", modelId));

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5f, $"element {i}: {expected[i]} vs {actual[i]}");
        }
    }
}
