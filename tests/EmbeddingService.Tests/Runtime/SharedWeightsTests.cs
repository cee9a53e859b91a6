using Microsoft.Extensions.Logging.Abstractions;
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
        using (var export = OptimizedModelExport.Create(manifest.ModelPath))
        {
            folder = export.Folder;
            var initializers = OnnxExternalInitializers.Read(export.GraphPath);

            // The encoder's matrices, embeddings and norms: ~86 MB of fp32 for both models, all in one data file.
            Assert.InRange(initializers.Count, 50, 500);
            Assert.Single(initializers.Select(static i => i.Location).Distinct());
            Assert.Equal(initializers.Count, initializers.Select(static i => i.Name).Distinct().Count());
            Assert.InRange(initializers.Sum(static i => i.Length), 80L << 20, 95L << 20);
            Assert.All(initializers, static i => Assert.Equal(i.Shape.Aggregate(1L, static (a, d) => a * d) * ElementSize(i.ElementType), i.Length));

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

        var factory = new OnnxBatchRunnerFactory(NullLogger<OnnxBatchRunnerFactory>.Instance);
        var runners = factory.Create(manifest, [new RuntimeOptions(1, AllowSpinning: false), new RuntimeOptions(2, AllowSpinning: true)]);
        Assert.Equal(2, runners.Count);
        try
        {
            Assert.All(runners, static r => Assert.True(Assert.IsType<OnnxBatchRunner>(r).SharesWeights));
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

            // The weights outlive the first session: the second still runs (and still agrees) once it is gone.
            ((IDisposable)runners[0]).Dispose();
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
    }

    [Fact]
    public void One_session_loads_the_model_file_itself()
    {
        var factory = new OnnxBatchRunnerFactory(NullLogger<OnnxBatchRunnerFactory>.Instance);
        var runners = factory.Create(Manifest("all-MiniLM-L6-v2"), [new RuntimeOptions(1, AllowSpinning: false)]);
        using var runner = Assert.IsType<OnnxBatchRunner>(Assert.Single(runners));
        Assert.False(runner.SharesWeights);
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

    private static ModelManifest Manifest(string modelId) =>
        ModelFolderReader.Read(modelId, Path.Combine(AppContext.BaseDirectory, "models", modelId));

    private static long ElementSize(TensorElementType type) => type switch
    {
        TensorElementType.Float or TensorElementType.Int32 or TensorElementType.UInt32 => 4,
        TensorElementType.Int64 or TensorElementType.UInt64 or TensorElementType.Double => 8,
        TensorElementType.Float16 or TensorElementType.BFloat16 or TensorElementType.Int16 or TensorElementType.UInt16 => 2,
        _ => 1,
    };

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5f, $"element {i}: {expected[i]} vs {actual[i]}");
        }
    }
}
