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

    public FakeBatchRunner this[string modelId] => _runners[modelId];

    public IBatchRunner Create(ModelManifest manifest, RuntimeOptions options)
    {
        // The warm-up pass must not wait on the gate: the first batch is let through.
        var runner = new FakeBatchRunner(Gated);
        if (Gated)
        {
            runner.Release();
        }

        lock (_runners)
        {
            _runners[manifest.Id] = runner;
        }

        return runner;
    }

    public void Install(IServiceCollection services) => services.Replace(ServiceDescriptor.Singleton<IBatchRunnerFactory>(this));
}
