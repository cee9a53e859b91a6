using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using EmbeddingService.Inference.Models;

namespace EmbeddingService.Inference.Runtime;

/// <summary>Creates the runners of a model at load time. The default is ONNX Runtime; tests swap in fakes.</summary>
public interface IBatchRunnerFactory
{
    /// <summary>One runner per entry of <paramref name="sessions"/>, in that order, all for <paramref name="manifest"/>'s
    /// model. The caller disposes each of them (those that are <see cref="IDisposable"/>).</summary>
    IReadOnlyList<IBatchRunner> Create(ModelManifest manifest, IReadOnlyList<RuntimeOptions> sessions);
}

/// <summary>ONNX Runtime sessions over the model's optimized graph, sharing one copy of the weights
/// (<see cref="SharedWeights"/>): the graph prepared at build time (<see cref="PreparedGraph"/>), else one optimized at
/// start-up for a model with several sessions, else a session of its own optimizing the original file.</summary>
internal sealed partial class OnnxBatchRunnerFactory : IBatchRunnerFactory
{
    // One model at a time from export to sessions: an export briefly holds the model two or three times over (the
    // parsed file, the session's tensors, the serialized output) and leaves ~90 MB in /tmp until the sessions exist;
    // models load in parallel, so side by side they would set the process's peak memory and overflow a size-limited
    // /tmp (a tmpfs counts against the container's memory; an emptyDir over its sizeLimit gets the pod evicted).
    private static readonly Lock s_oneExportAtATime = new();

    private readonly ILogger _logger;
    private readonly string _tempRoot;

    public OnnxBatchRunnerFactory(ILogger<OnnxBatchRunnerFactory> logger)
        : this(logger, Path.GetTempPath())
    {
    }

    /// <param name="tempRoot">Where the optimized model is written while loading (the temporary directory: <c>TMPDIR</c>
    /// or <c>/tmp</c>, the one writable path in the image's read-only deployments).</param>
    internal OnnxBatchRunnerFactory(ILogger<OnnxBatchRunnerFactory> logger, string tempRoot)
    {
        _logger = logger;
        _tempRoot = tempRoot;
    }

    public IReadOnlyList<IBatchRunner> Create(ModelManifest manifest, IReadOnlyList<RuntimeOptions> sessions)
    {
        NativeHeap.Configure();
        // The graph prepared at build time: no optimizing, and no export to wait for, so models load side by side.
        var prepared = PreparedGraph.Find(manifest.Directory, manifest.ModelPath, out var whyNotPrepared, manifest.ModelSha256);
        if (prepared is not null)
        {
            return CreateSharing(manifest, sessions, prepared, "prepared at build time", mapped: true);
        }

        Log.NotPrepared(_logger, manifest.Id, whyNotPrepared);
        if (sessions.Count > 1)
        {
            try
            {
                // One model at a time from export to sessions (see s_oneExportAtATime).
                lock (s_oneExportAtATime)
                {
                    // The optimized files are needed until the sessions exist (ONNX Runtime checks that the weights
                    // file is there, though every weight in it is given from memory), then deleted.
                    using var export = OptimizedModelExport.Create(manifest.ModelPath, _tempRoot);
                    return CreateSharing(manifest, sessions, export.GraphPath, "optimized at start-up", mapped: false);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OnnxRuntimeException or InvalidDataException)
            {
                // Sharing needs a writable temporary folder and a graph ONNX Runtime can save; without them the model still
                // loads, with a copy of the weights per session. A model that cannot load at all fails again below.
                Log.NotShared(_logger, manifest.Id, ex);
            }
        }

        return CreateAll(sessions, options => new OnnxBatchRunner(manifest, options));
    }

    /// <param name="mapped">Map the weights file (it stays in place) instead of copying it into memory (a temporary export).</param>
    private OnnxBatchRunner[] CreateSharing(ModelManifest manifest, IReadOnlyList<RuntimeOptions> sessions, string graphPath, string graphOrigin, bool mapped)
    {
        var weights = mapped ? SharedWeights.Map(graphPath) : SharedWeights.Load(graphPath);
        try
        {
            var runners = CreateAll(sessions, options => OnnxBatchRunner.CreateShared(manifest, options, graphPath, weights));
            // Every session has prepacked its matrix weights by now: what they still read comes back from the file.
            weights.DropResidentPages();
            Log.Shared(_logger, manifest.Id, sessions.Count, weights.Count, weights.Bytes / (1024.0 * 1024.0), graphOrigin);
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
        [LoggerMessage(1, LogLevel.Information, "Model {ModelId}: {Sessions} ONNX Runtime session(s) share one copy of the weights ({Initializers} tensors, {Megabytes:F1} MB) of its graph {GraphOrigin}.")]
        public static partial void Shared(ILogger logger, string modelId, int sessions, int initializers, double megabytes, string graphOrigin);

        [LoggerMessage(3, LogLevel.Information, "Model {ModelId}: optimizing its graph at start-up, because {Reason}.")]
        public static partial void NotPrepared(ILogger logger, string modelId, string reason);

        [LoggerMessage(2, LogLevel.Warning, "Model {ModelId}: its ONNX Runtime sessions could not share their weights, so each loads its own copy (more memory, same results).")]
        public static partial void NotShared(ILogger logger, string modelId, Exception exception);
    }
}
