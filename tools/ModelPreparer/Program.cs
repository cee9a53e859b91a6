using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Runtime;
using EmbeddingService.ModelPreparer;
using Onnx;

// ModelPreparer prepare <model.onnx> <output folder>
//   writes the optimized graph, its weights and the stamp (what it was made from) into the output folder, replacing it
//   whole, so a build interrupted half way never leaves a mixed folder.
// ModelPreparer quantize <fp32 model.onnx> <output folder> [--keep-float <name fragment>]...
//   writes the int8 variant's model.onnx and quantization.json into the output folder (Int8Quantizer).
const string Usage = """
    usage: ModelPreparer prepare <model.onnx> <output folder>
           ModelPreparer quantize <fp32 model.onnx> <output folder> [--keep-float <name fragment>]...
    """;

if (args.Length < 3 || args[0] is not ("prepare" or "quantize") || (args[0] == "prepare" && args.Length != 3))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

var keepFloat = new List<string>();
for (var i = 3; i < args.Length; i += 2)
{
    if (args[i] != "--keep-float" || i + 1 >= args.Length)
    {
        Console.Error.WriteLine(Usage);
        return 2;
    }

    keepFloat.Add(args[i + 1]);
}

var command = args[0];
var modelPath = Path.GetFullPath(args[1]);
var output = Path.GetFullPath(args[2]);
var staging = output + ".tmp-" + Environment.ProcessId;
try
{
    Directory.CreateDirectory(staging);
    if (command == "prepare")
    {
        GraphOptimization.Write(modelPath, staging);
        PreparedGraphStamp.For(modelPath, OrtEnv.Instance().GetVersionString()).Write(staging);
        ReplaceFolder(staging, output);
        Console.WriteLine($"ModelPreparer: prepared {modelPath} -> {output}");
    }
    else
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath));
        var result = Int8Quantizer.Quantize(model, keepFloat);
        using (var file = File.Create(Path.Combine(staging, "model.onnx")))
        {
            model.WriteTo(file);
        }

        var (bytes, sha) = QuantizationStamp.Source(modelPath);
        new QuantizationStamp(QuantizationStamp.Int8, Int8Quantizer.Method, result.Quantized, result.KeptFloat, bytes, sha).Write(staging);
        // The output folder may already hold the variant's other files (configuration, vocabulary): only these two are
        // replaced, each by a rename, the stamp last, so a stamp never describes a model it was not written with.
        Directory.CreateDirectory(output);
        File.Move(Path.Combine(staging, "model.onnx"), Path.Combine(output, "model.onnx"), overwrite: true);
        File.Move(Path.Combine(staging, QuantizationStamp.FileName), Path.Combine(output, QuantizationStamp.FileName), overwrite: true);
        Directory.Delete(staging);
        Console.WriteLine($"ModelPreparer: quantized {modelPath} -> {output}: {result.Quantized} MatMuls int8, {result.KeptFloat} kept fp32, {result.BiasesFolded} biases folded");
    }

    return 0;
}
catch (Exception ex) when (ex is OnnxRuntimeException or IOException or UnauthorizedAccessException or InvalidDataException
    or InvalidProtocolBufferException)
{
    Console.Error.WriteLine($"ModelPreparer: {modelPath}: {ex.Message}");
    if (Directory.Exists(staging))
    {
        Directory.Delete(staging, recursive: true);
    }

    return 1;
}

static void ReplaceFolder(string staging, string output)
{
    if (Directory.Exists(output))
    {
        Directory.Delete(output, recursive: true);
    }

    Directory.Move(staging, output);
}
