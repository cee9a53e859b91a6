using Microsoft.ML.OnnxRuntime;
using EmbeddingService.Inference.Runtime;

// ModelPreparer <model.onnx> <output folder>: writes the optimized graph, its weights and the stamp (what it was made
// from) into the output folder, replacing it whole, so a build interrupted half way never leaves a mixed folder.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: ModelPreparer <model.onnx> <output folder>");
    return 2;
}

var modelPath = Path.GetFullPath(args[0]);
var output = Path.GetFullPath(args[1]);
var staging = output + ".tmp-" + Environment.ProcessId;
try
{
    Directory.CreateDirectory(staging);
    GraphOptimization.Write(modelPath, staging);
    PreparedGraphStamp.For(modelPath, OrtEnv.Instance().GetVersionString()).Write(staging);
    if (Directory.Exists(output))
    {
        Directory.Delete(output, recursive: true);
    }

    Directory.Move(staging, output);
    Console.WriteLine($"ModelPreparer: {modelPath} -> {output}");
    return 0;
}
catch (Exception ex) when (ex is OnnxRuntimeException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"ModelPreparer: {modelPath}: {ex.Message}");
    if (Directory.Exists(staging))
    {
        Directory.Delete(staging, recursive: true);
    }

    return 1;
}
