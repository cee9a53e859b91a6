using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using EmbeddingService.Inference.Batching;
using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Inference.Runtime;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Inference.Models;

/// <summary>Where the catalog is in its life: only <see cref="Ready"/> takes requests.</summary>
public enum ModelCatalogState
{
    Loading,
    Ready,
    Failed,
    Stopping,
}

/// <summary>
/// The loaded models, by id. Loads every configured model folder (in parallel), warms each one up with a real forward
/// pass, and only then reports <see cref="ModelCatalogState.Ready"/>. A singleton: ONNX sessions are created once.
/// </summary>
public sealed partial class ModelCatalog : IAsyncDisposable
{
    private readonly ModelsOptions _modelsOptions;
    private readonly BatchingOptions _batchingOptions;
    private readonly EmbeddingMetrics _metrics;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly IBatchRunnerFactory _runnerFactory;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Dictionary<string, EmbeddingModel> _models = new(StringComparer.Ordinal);
    private volatile ModelCatalogState _state = ModelCatalogState.Loading;
    private int _loadStarted;

    public ModelCatalog(IOptions<ModelsOptions> modelsOptions, IOptions<BatchingOptions> batchingOptions, IBatchRunnerFactory runnerFactory,
        EmbeddingMetrics metrics, ILoggerFactory loggerFactory)
    {
        _modelsOptions = modelsOptions.Value;
        _batchingOptions = batchingOptions.Value;
        _metrics = metrics;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ModelCatalog>();
        _runnerFactory = runnerFactory;
    }

    public ModelCatalogState State => _state;

    /// <summary>Completes when every model is loaded and warmed; faults if loading failed.</summary>
    public Task Ready => _ready.Task;

    public IReadOnlyCollection<EmbeddingModel> Models => _models.Values;

    public string DefaultModelId => _modelsOptions.Default;

    /// <summary>The ids of the configured models, loaded or not, in configuration order.</summary>
    public IEnumerable<string> ModelIds => _modelsOptions.Items.Select(static m => m.Id);

    /// <summary>The model to use for a request naming <paramref name="id"/> (or none).</summary>
    /// <exception cref="EmbeddingException">The service is not ready, or no model has that id.</exception>
    public EmbeddingModel Get(string? id)
    {
        EnsureReady();
        var key = string.IsNullOrEmpty(id) ? _modelsOptions.Default : id;
        if (_models.TryGetValue(key, out var model))
        {
            return model;
        }

        throw new EmbeddingException(EmbeddingErrorKind.ModelNotFound,
            $"Model '{id}' not found. Available models: {string.Join(", ", _models.Keys)}.", "model");
    }

    /// <exception cref="EmbeddingException">The catalog is loading, failed, or shutting down.</exception>
    public void EnsureReady()
    {
        var state = _state;
        if (state != ModelCatalogState.Ready)
        {
            throw new EmbeddingException(EmbeddingErrorKind.Unhealthy, state switch
            {
                ModelCatalogState.Loading => "The models are still loading.",
                ModelCatalogState.Stopping => "The service is shutting down.",
                _ => "The models failed to load.",
            });
        }
    }

    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _loadStarted, 1);
        var started = Stopwatch.GetTimestamp();
        var processors = Environment.ProcessorCount;
        var runners = _batchingOptions.ResolveRunners(processors);
        var runtime = new RuntimeOptions(_batchingOptions.ResolveIntraOpThreads(processors), _batchingOptions.AllowSpinning);
        try
        {
            var loads = _modelsOptions.Items.Select(registration => Task.Run(() => Load(registration, processors, runners, runtime), cancellationToken));
            var models = await Task.WhenAll(loads).ConfigureAwait(false);
            _models = models.ToDictionary(static m => m.Id, StringComparer.Ordinal);
            foreach (var model in models)
            {
                _metrics.TrackQueue(model.Id, () => model.Queue);
            }

            LogInt8Support(models);
            _state = ModelCatalogState.Ready;
            Log.Ready(_logger, _models.Count, runners, runtime.IntraOpThreads, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            _ready.TrySetResult();
        }
        catch (Exception ex)
        {
            _state = ModelCatalogState.Failed;
            Log.LoadFailed(_logger, ex);
            _ready.TrySetException(ex);
            throw;
        }
    }

    /// <summary>Stops taking requests: from now on <see cref="Get"/> refuses with <see cref="EmbeddingErrorKind.Unhealthy"/>.</summary>
    public void BeginShutdown()
    {
        if (_state == ModelCatalogState.Ready)
        {
            _state = ModelCatalogState.Stopping;
        }
    }

    /// <summary>Finishes queued and running batches of every model.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        BeginShutdown();
        await Task.WhenAll(_models.Values.Select(m => m.DrainAsync(cancellationToken))).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        // A host that fails to start (its port in use) is disposed while the models may still be loading on another
        // thread: wait for them, so that no session or runner thread outlives the catalog (the process crashed at exit).
        if (Volatile.Read(ref _loadStarted) == 1)
        {
            await _ready.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        BeginShutdown();
        foreach (var model in _models.Values)
        {
            await model.DisposeAsync().ConfigureAwait(false);
        }
    }

    private EmbeddingModel Load(ModelRegistration registration, int processors, int runners, RuntimeOptions runtime)
    {
        var started = Stopwatch.GetTimestamp();
        var path = System.IO.Path.IsPathRooted(registration.Path) ? registration.Path : System.IO.Path.Combine(AppContext.BaseDirectory, registration.Path);
        var manifest = ModelFolderReader.Read(registration.Id, path, registration.MaxSequenceLength);
        var tokenizer = ModelTokenizer.Create(manifest);
        // The optional second session for batches that have the model to itself (BatchingOptions.LoneRequestThreads).
        var loneThreads = _batchingOptions.ResolveLoneRequestThreads(processors, runtime.IntraOpThreads, manifest.Dtype == ModelManifest.Int8);
        var loneRuntime = loneThreads > 0 ? new RuntimeOptions(loneThreads, AllowSpinning: true) : null;
        // A session per runner, or one for all; then the lone-request session, if any. Sessions of a model share its weights.
        var runnerSessions = _batchingOptions.SessionPerRunner ? runners : 1;
        var sessions = Enumerable.Repeat(runtime, runnerSessions).Concat(loneRuntime is null ? [] : [loneRuntime]).ToArray();
        var sessionRunners = _runnerFactory.Create(manifest, sessions);
        var runner = sessionRunners[0];
        var perRunner = Enumerable.Range(0, runners).Select(i => sessionRunners[i % runnerSessions]).ToArray();
        var loneRunner = loneRuntime is null ? null : sessionRunners[runnerSessions];
        double warmUpTokensPerSecond;
        try
        {
            warmUpTokensPerSecond = WarmUp(runner, tokenizer);
            // Every session once (a factory may hand out one runner for several sessions, as the tests' fakes do).
            foreach (var created in sessionRunners.Skip(1).Distinct().Where(created => created != runner))
            {
                WarmUp(created, tokenizer);
            }
        }
        catch
        {
            foreach (var created in sessionRunners)
            {
                (created as IDisposable)?.Dispose();
            }

            throw;
        }

        // The runners' passes overlap, so the model runs about that many warm-up passes' worth of tokens per second: the
        // drain estimate's start, replaced by measured passes within seconds of load.
        var batcher = new DynamicBatcher(manifest.Id, perRunner, _batchingOptions, _metrics, _loggerFactory.CreateLogger<DynamicBatcher>(), loneRunner,
            seedTokensPerSecond: warmUpTokensPerSecond * runners);
        Log.Loaded(_logger, manifest.Id, manifest.Dtype, manifest.Pooling, runner.Dimensions, manifest.MaxSequenceLength, loneThreads,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new EmbeddingModel(manifest, tokenizer, runner.Dimensions, batcher, sessionRunners.Distinct().OfType<IDisposable>().ToArray());
    }

    /// <summary>
    /// Says once whether this CPU has int8 dot-product instructions, and where int8 models are loaded without them, that
    /// they will work but not run faster than their fp32 originals.
    /// </summary>
    private void LogInt8Support(IEnumerable<EmbeddingModel> models)
    {
        var int8 = models.Where(static m => m.Manifest.Dtype == ModelManifest.Int8).Select(static m => m.Id).ToList();
        if (CpuFeatures.HasInt8DotProduct)
        {
            Log.Int8DotProduct(_logger, CpuFeatures.Int8DotProduct, int8.Count);
        }
        else if (int8.Count > 0)
        {
            Log.NoInt8DotProduct(_logger, string.Join(", ", int8));
        }
        else
        {
            Log.Int8DotProduct(_logger, CpuFeatures.None, 0);
        }
    }

    /// <summary>One real forward pass, so the first request does not pay for graph initialization and first allocations.</summary>
    /// <returns>The tokens per second of that pass (a first pass: slower than later ones, so a cautious estimate).</returns>
    private static double WarmUp(IBatchRunner runner, ModelTokenizer tokenizer)
    {
        var input = tokenizer.Encode("Warm-up: the quick brown fox jumps over the lazy dog.", truncate: true, TruncationDirection.Right);
        var output = new float[2 * runner.Dimensions];
        var started = Stopwatch.GetTimestamp();
        runner.Run([input.Ids, input.Ids], output);
        var seconds = Math.Max(Stopwatch.GetElapsedTime(started).TotalSeconds, 1e-4);
        if (!float.IsFinite(output[0]))
        {
            throw new InvalidOperationException("The warm-up forward pass produced a non-finite value.");
        }

        return 2 * input.Length / seconds;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Loaded model {ModelId} ({Dtype}, {Pooling} pooling, {Dimensions} dimensions, max {MaxLength} tokens; lone-request session: {LoneRequestThreads} threads, 0 = off) in {ElapsedMs:F0} ms.")]
        public static partial void Loaded(ILogger logger, string modelId, string dtype, PoolingMode pooling, int dimensions, int maxLength, int loneRequestThreads, double elapsedMs);

        [LoggerMessage(2, LogLevel.Information, "{Count} model(s) ready with {Runners} runner(s) × {IntraOpThreads} intra-op thread(s) each, {ElapsedMs:F0} ms after load started.")]
        public static partial void Ready(ILogger logger, int count, int runners, int intraOpThreads, double elapsedMs);

        [LoggerMessage(3, LogLevel.Critical, "Loading the models failed.")]
        public static partial void LoadFailed(ILogger logger, Exception exception);

        [LoggerMessage(4, LogLevel.Information, "CPU int8 dot-product instructions: {Instructions} ({Int8Models} int8 model(s) loaded).")]
        public static partial void Int8DotProduct(ILogger logger, string instructions, int int8Models);

        [LoggerMessage(5, LogLevel.Warning, "This CPU has no int8 dot-product instructions (AVX-512 VNNI, AVX-VNNI): the int8 model(s) {ModelIds} work, but will not run faster than their fp32 originals.")]
        public static partial void NoInt8DotProduct(ILogger logger, string modelIds);
    }
}
