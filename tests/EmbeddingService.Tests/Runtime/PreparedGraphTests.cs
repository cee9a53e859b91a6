using Microsoft.Extensions.Logging.Testing;
using Microsoft.ML.OnnxRuntime;
using EmbeddingService.Inference;
using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Runtime;
using EmbeddingService.Inference.Tokenization;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Runtime;

/// <summary>
/// The graphs prepared at build time (<c>tools/ModelPreparer</c>, <see cref="PreparedGraph"/>): the built-in models have
/// them, they are what start-up would have made, they are used, and a stale one is never used.
/// </summary>
public sealed class PreparedGraphTests
{
    public static TheoryData<string> ModelIds => new() { "all-MiniLM-L6-v2", "snowflake-arctic-embed-xs", "all-MiniLM-L6-v2-int8", "snowflake-arctic-embed-xs-int8" };

    [Theory]
    [MemberData(nameof(ModelIds))]
    public void Each_built_in_model_has_a_prepared_graph_made_from_its_model_file_by_this_onnx_runtime(string modelId)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "models", modelId);
        var graph = PreparedGraph.Find(folder, Path.Combine(folder, "model.onnx"), out var reason);
        Assert.True(graph is not null, reason);
        var stamp = PreparedGraphStamp.Read(Path.Combine(folder, "optimized"));
        Assert.Equal(OrtEnv.Instance().GetVersionString(), stamp!.OnnxRuntimeVersion);
    }

    [Theory]
    [MemberData(nameof(ModelIds))]
    public void The_prepared_graph_is_byte_for_byte_what_start_up_would_optimize(string modelId)
    {
        var prepared = Path.Combine(AppContext.BaseDirectory, "models", modelId, "optimized");
        var now = Directory.CreateTempSubdirectory("embeddingservice-test-graph-").FullName;
        try
        {
            GraphOptimization.Write(Path.Combine(AppContext.BaseDirectory, "models", modelId, "model.onnx"), now);
            foreach (var file in new[] { GraphOptimization.GraphFileName, GraphOptimization.WeightsFileName })
            {
                Assert.True(File.ReadAllBytes(Path.Combine(prepared, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(now, file))), file);
            }
        }
        finally
        {
            Directory.Delete(now, recursive: true);
        }
    }

    [Fact]
    public void Sessions_from_the_prepared_graph_with_mapped_weights_give_the_vectors_of_sessions_optimized_at_start_up()
    {
        var manifest = ModelFolderReader.Read("all-MiniLM-L6-v2", Path.Combine(AppContext.BaseDirectory, "models", "all-MiniLM-L6-v2"));
        using var bare = ModelFolderCopy.Of("all-MiniLM-L6-v2");
        var bareManifest = ModelFolderReader.Read("all-MiniLM-L6-v2", bare.Folder);
        var tokenizer = ModelTokenizer.Create(manifest);
        var inputs = EvalData.StsPairs("dev").Take(8).Select(p => tokenizer.Encode(p.First, truncate: true, TruncationDirection.Right).Ids).ToArray();

        var preparedLog = new FakeLogger<OnnxBatchRunnerFactory>();
        var startUpLog = new FakeLogger<OnnxBatchRunnerFactory>();
        var layout = new[] { new RuntimeOptions(1, AllowSpinning: false), new RuntimeOptions(2, AllowSpinning: false) };
        var fromPrepared = new OnnxBatchRunnerFactory(preparedLog).Create(manifest, layout);
        var fromStartUp = new OnnxBatchRunnerFactory(startUpLog).Create(bareManifest, layout);
        try
        {
            Assert.Contains(preparedLog.Collector.GetSnapshot(), static r => r.Message.Contains("prepared at build time", StringComparison.Ordinal));
            Assert.Contains(startUpLog.Collector.GetSnapshot(), static r => r.Message.Contains("optimizing its graph at start-up, because the model folder has no prepared graph", StringComparison.Ordinal));
            Assert.Contains(startUpLog.Collector.GetSnapshot(), static r => r.Message.Contains("optimized at start-up", StringComparison.Ordinal));

            var expected = new float[inputs.Length * 384];
            fromStartUp[0].Run(inputs, expected);
            Assert.False(Assert.IsType<OnnxBatchRunner>(fromStartUp[0]).Weights!.IsMapped);
            // The prepared weights are a mapping of their file whose pages were let go once the sessions existed: what the
            // passes read comes back from the file, bit for bit.
            foreach (var runner in fromPrepared)
            {
                Assert.True(Assert.IsType<OnnxBatchRunner>(runner).Weights!.IsMapped);
                var actual = new float[expected.Length];
                runner.Run(inputs, actual);
                Assert.Equal(expected, actual);
            }
        }
        finally
        {
            foreach (var runner in fromPrepared.Concat(fromStartUp))
            {
                ((IDisposable)runner).Dispose();
            }
        }
    }

    [Fact]
    public void A_model_file_replaced_after_preparing_is_optimized_again_even_at_the_same_size()
    {
        using var copy = ModelFolderCopy.Of("all-MiniLM-L6-v2", withPreparedGraph: true);
        Assert.NotNull(PreparedGraph.Find(copy.Folder, copy.ModelPath, out _));

        // One byte changed near the end of the file (inside a weight), the size unchanged.
        var model = copy.MakeWritable("model.onnx");
        using (var file = File.Open(model, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length - 100;
            var b = file.ReadByte();
            file.Position = file.Length - 100;
            file.WriteByte((byte)(b ^ 0x01));
        }

        Assert.Null(PreparedGraph.Find(copy.Folder, copy.ModelPath, out var reason));
        Assert.Equal("model.onnx is not the file its prepared graph was made from", reason);
    }

    [Theory]
    [InlineData("another version", "made by ONNX Runtime 0.0.1, and this is")]
    [InlineData("no stamp", "has no prepared graph")]
    [InlineData("unreadable stamp", "has no prepared graph")]
    [InlineData("no weights", "has no prepared graph")]
    public void A_prepared_graph_that_does_not_match_is_not_used_and_the_reason_is_given(string fault, string reasonPart)
    {
        using var copy = ModelFolderCopy.Of("all-MiniLM-L6-v2", withPreparedGraph: true);
        var optimized = Path.Combine(copy.Folder, "optimized");
        switch (fault)
        {
            case "another version":
                var stamp = PreparedGraphStamp.Read(optimized)!;
                File.Delete(Path.Combine(optimized, PreparedGraphStamp.FileName));
                (stamp with { OnnxRuntimeVersion = "0.0.1" }).Write(optimized);
                break;
            case "no stamp":
                File.Delete(Path.Combine(optimized, PreparedGraphStamp.FileName));
                break;
            case "unreadable stamp":
                File.Delete(Path.Combine(optimized, PreparedGraphStamp.FileName));
                File.WriteAllText(Path.Combine(optimized, PreparedGraphStamp.FileName), "{ not json");
                break;
            case "no weights":
                File.Delete(Path.Combine(optimized, GraphOptimization.WeightsFileName));
                break;
        }

        Assert.Null(PreparedGraph.Find(copy.Folder, copy.ModelPath, out var reason));
        Assert.Contains(reasonPart, reason, StringComparison.Ordinal);
    }
}
