using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Runtime;
using EmbeddingService.Tests.Batching;

namespace EmbeddingService.Tests.Infrastructure;

/// <summary>
/// Replaces ONNX Runtime in a test host with gated fake runners (real tokenizers, fake forward passes), so overload,
/// timeout and shutdown tests decide exactly when inference finishes, without sleeps.
/// </summary>
internal sealed class GatedRunnerFactory : IBatchRunnerFactory
{
    private readonly Dictionary<string, FakeBatchRunner> _runners = new(StringComparer.Ordinal);

    public bool Gated { get; set; } = true;

    /// <summary>How many sessions the catalog asked for, per model.</summary>
    public Dictionary<string, int> SessionsRequested { get; } = new(StringComparer.Ordinal);

    /// <summary>Hold the warm-up pass too, so the models stay "loading" until the test releases them.</summary>
    public bool HoldWarmUp { get; set; }

    public FakeBatchRunner this[string modelId] => TryGet(modelId, out var runner) ? runner : throw new KeyNotFoundException(modelId);

    /// <summary>The runner of a model, once its loading has created it.</summary>
    public bool TryGet(string modelId, out FakeBatchRunner runner)
    {
        lock (_runners)
        {
            return _runners.TryGetValue(modelId, out runner!);
        }
    }

    /// <summary>The <c>Batching:LoneRequestThreads</c> value a host using these fakes needs: each fake gates one
    /// session, so a model's passes (and its one warm-up pass) all go through the one gate.</summary>
    public const string OneSession = "0";

    public IReadOnlyList<IBatchRunner> Create(ModelManifest manifest, IReadOnlyList<RuntimeOptions> sessions)
    {
        if (sessions.Distinct().Count() != 1)
        {
            throw new InvalidOperationException($"The gated fakes stand for one session per model: set Batching:LoneRequestThreads to {OneSession}.");
        }

        // The warm-up pass must not wait on the gate: the first batch is let through.
        var runner = new FakeBatchRunner(Gated);
        if (Gated && !HoldWarmUp)
        {
            runner.Release();
        }

        lock (_runners)
        {
            _runners[manifest.Id] = runner;
            SessionsRequested[manifest.Id] = sessions.Count;
        }

        // One fake for every (alike) session: one gate for all the model's passes.
        return sessions.Select(_ => (IBatchRunner)runner).ToArray();
    }

    public void Install(IServiceCollection services) => services.Replace(ServiceDescriptor.Singleton<IBatchRunnerFactory>(this));
}
