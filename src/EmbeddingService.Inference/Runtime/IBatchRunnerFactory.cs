using EmbeddingService.Inference.Models;

namespace EmbeddingService.Inference.Runtime;

/// <summary>Creates the runner of a model at load time. The default is ONNX Runtime; tests swap in fakes.</summary>
public interface IBatchRunnerFactory
{
    IBatchRunner Create(ModelManifest manifest, RuntimeOptions options);
}

/// <summary>One ONNX Runtime session per model.</summary>
internal sealed class OnnxBatchRunnerFactory : IBatchRunnerFactory
{
    public IBatchRunner Create(ModelManifest manifest, RuntimeOptions options)
    {
        NativeHeap.Configure();
        return new OnnxBatchRunner(manifest, options);
    }
}
