using Microsoft.ML.OnnxRuntime;

namespace EmbeddingService.Inference.Runtime;

/// <summary>
/// Writes a model after ONNX Runtime's graph optimizations (fused attention, skip layer norms, GELU) as a small graph file
/// plus one file of weights. Sessions created from it need no optimization of their own, so every session of a model can
/// be given the same weights (<see cref="SharedWeights"/>), and creating them takes a fraction of the time.
/// <para>Used at build time by <c>tools/ModelPreparer</c> (this file is compiled into it) and at start-up for a model
/// folder without a prepared graph (<see cref="OptimizedModelExport"/>). The level is
/// <see cref="GraphOptimizationLevel.ORT_ENABLE_EXTENDED"/>: the last level without layout changes for one CPU, so a
/// graph prepared on the build machine suits every machine that runs it. For the BERT-style built-in models it writes
/// the same bytes as <see cref="GraphOptimizationLevel.ORT_ENABLE_ALL"/> (checked with ONNX Runtime 1.31 on both).</para>
/// </summary>
internal static class GraphOptimization
{
    public const string GraphFileName = "model.onnx";
    public const string WeightsFileName = "model.onnx.data";

    /// <summary>Optimizes <paramref name="modelPath"/> into <paramref name="folder"/> (which must exist).</summary>
    public static void Write(string modelPath, string folder)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            OptimizedModelFilePath = Path.Combine(folder, GraphFileName),
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        options.AddSessionConfigEntry("session.optimized_model_external_initializers_file_name", WeightsFileName);
        // Everything bigger than a shape or a scalar goes to the weights file; those small ones stay in the graph.
        options.AddSessionConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes", "1024");
        // A throw-away session: re-laying out its weights for fast matrix multiplies would only cost time and memory.
        options.AddSessionConfigEntry("session.disable_prepacking", "1");
        using (new InferenceSession(modelPath, options))
        {
        }
    }
}
