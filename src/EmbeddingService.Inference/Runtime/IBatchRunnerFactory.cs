using Microsoft.Extensions.Logging;
using EmbeddingService.Inference.Models;

namespace EmbeddingService.Inference.Runtime;

/// <summary>Creates the runners of a model at load time. The default is ONNX Runtime; tests swap in fakes.</summary>
public interface IBatchRunnerFactory
{
    /// <summary>One runner per entry of <paramref name="sessions"/>, in that order, all for <paramref name="manifest"/>'s
    /// model. The caller disposes each of them (those that are <see cref="IDisposable"/>).</summary>
    IReadOnlyList<IBatchRunner> Create(ModelManifest manifest, IReadOnlyList<RuntimeOptions> sessions);
}

/// <summary>ONNX Runtime sessions: one of its own for a model with one session; with more, sessions over one optimized
/// graph that share one copy of the weights (<see cref="SharedWeights"/>).</summary>
internal sealed partial class OnnxBatchRunnerFactory(ILogger<OnnxBatchRunnerFactory> logger) : IBatchRunnerFactory
{
    public IReadOnlyList<IBatchRunner> Create(ModelManifest manifest, IReadOnlyList<RuntimeOptions> sessions)
    {
        NativeHeap.Configure();
        if (sessions.Count > 1)
        {
            try
            {
                return CreateSharing(manifest, sessions);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Sharing needs a writable temporary folder and a graph ONNX Runtime can save; without them the model still
                // loads, with a copy of the weights per session. A model that cannot load at all fails again below.
                Log.NotShared(logger, manifest.Id, ex);
            }
        }

        return CreateAll(sessions, options => new OnnxBatchRunner(manifest, options));
    }

    private OnnxBatchRunner[] CreateSharing(ModelManifest manifest, IReadOnlyList<RuntimeOptions> sessions)
    {
        // The optimized files are only read while the sessions are created.
        using var export = OptimizedModelExport.Create(manifest.ModelPath);
        var weights = SharedWeights.Load(export.GraphPath);
        try
        {
            var runners = CreateAll(sessions, options => OnnxBatchRunner.CreateShared(manifest, options, export.GraphPath, weights));
            Log.Shared(logger, manifest.Id, sessions.Count, weights.Count, weights.Bytes / (1024.0 * 1024.0));
            return runners;
        }
        finally
        {
            // The sessions hold their own leases now.
            weights.Release();
        }
    }

    /// <summary>All or nothing: a failure disposes the sessions already created.</summary>
    private static OnnxBatchRunner[] CreateAll(IReadOnlyList<RuntimeOptions> sessions, Func<RuntimeOptions, OnnxBatchRunner> create)
    {
        var runners = new List<OnnxBatchRunner>(sessions.Count);
        try
        {
            foreach (var options in sessions)
            {
                runners.Add(create(options));
            }

            return runners.ToArray();
        }
        catch
        {
            foreach (var runner in runners)
            {
                runner.Dispose();
            }

            throw;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Model {ModelId}: {Sessions} ONNX Runtime sessions share one copy of the weights ({Initializers} tensors, {Megabytes:F1} MB).")]
        public static partial void Shared(ILogger logger, string modelId, int sessions, int initializers, double megabytes);

        [LoggerMessage(2, LogLevel.Warning, "Model {ModelId}: its ONNX Runtime sessions could not share their weights, so each loads its own copy (more memory, same results).")]
        public static partial void NotShared(ILogger logger, string modelId, Exception exception);
    }
}
