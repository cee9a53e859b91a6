using Microsoft.ML.OnnxRuntime;

namespace EmbeddingService.Inference.Runtime;

/// <summary>
/// A model after ONNX Runtime's graph optimizations (fused attention, layer norms, GELU), written to a temporary folder
/// as a small graph file plus one file of weights, and deleted on dispose. Sessions created from it need no further
/// optimization, so the initializers they use are exactly the ones in the weights file, which is what lets
/// <see cref="SharedWeights"/> give every session of the model the same copy. (Sessions created from the original file
/// each fuse their own new weights while optimizing, and those cannot be shared.)
/// <para>The optimized graph may use CPU-specific fusions, so it is only used by this process, on this machine, and
/// never kept.</para>
/// </summary>
internal sealed class OptimizedModelExport : IDisposable
{
    private const string GraphFileName = "model.onnx";
    private const string WeightsFileName = "model.onnx.data";

    private OptimizedModelExport(string folder)
    {
        Folder = folder;
    }

    public string Folder { get; }

    public string GraphPath => Path.Combine(Folder, GraphFileName);

    /// <summary>Optimizes <paramref name="modelPath"/> into a new folder under <paramref name="tempRoot"/>.</summary>
    public static OptimizedModelExport Create(string modelPath, string tempRoot)
    {
        var folder = Path.Combine(tempRoot, "embeddingservice-model-" + Path.GetRandomFileName());
        // Owner-only (the weights file is read back into memory from here) and random-named; unlike
        // Directory.CreateTempSubdirectory, an existing folder of that name would be reused, so the name is what
        // keeps it ours.
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var export = new OptimizedModelExport(folder);
        try
        {
            using var options = OnnxBatchRunner.CreateSessionOptions(new RuntimeOptions(IntraOpThreads: 1, AllowSpinning: false), GraphOptimizationLevel.ORT_ENABLE_ALL);
            options.OptimizedModelFilePath = export.GraphPath;
            options.AddSessionConfigEntry("session.optimized_model_external_initializers_file_name", WeightsFileName);
            // Everything bigger than a shape or a scalar goes to the weights file; those small ones stay in the graph.
            options.AddSessionConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes", "1024");
            // ONNX Runtime warns that a graph saved after all optimizations may only suit this machine: it is only
            // used here, so the warning would be noise in every start-up log.
            options.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;
            // A throw-away session: re-laying out its weights for fast matrix multiplies would only cost time and memory.
            options.AddSessionConfigEntry("session.disable_prepacking", "1");
            using (new InferenceSession(modelPath, options))
            {
            }

            return export;
        }
        catch
        {
            export.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary folder is not worth failing over.
        }
    }
}
