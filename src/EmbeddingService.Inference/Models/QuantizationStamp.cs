using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace EmbeddingService.Inference.Models;

/// <summary>
/// How a quantized model folder was made (<c>quantization.json</c> beside its <c>model.onnx</c>): the precision, the
/// method, how many matrix multiplications became int8 and how many stayed fp32, and the size and SHA-256 of the fp32
/// <c>model.onnx</c> it came from. Its presence is what makes a folder's <see cref="ModelManifest.Dtype"/> int8. Written by
/// <c>tools/ModelPreparer quantize</c> (this file is compiled into it).
/// </summary>
public sealed record QuantizationStamp(string Dtype, string Method, int QuantizedMatMuls, int FloatMatMuls, long SourceBytes, string SourceSha256)
{
    public const string FileName = "quantization.json";

    /// <summary>The <see cref="Dtype"/> of an int8 variant.</summary>
    public const string Int8 = "int8";

    /// <summary>The stamp in <paramref name="folder"/>, or null where the folder has none.</summary>
    /// <exception cref="InvalidOperationException">The file is there but cannot be read: the folder's precision is unknown.</exception>
    public static QuantizationStamp? Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path));
            var dtype = (string?)json?["dtype"];
            var method = (string?)json?["method"];
            var quantized = (int?)json?["quantized_matmuls"];
            var kept = (int?)json?["float_matmuls"];
            var bytes = (long?)json?["source_bytes"];
            var sha = (string?)json?["source_sha256"];
            if (dtype is null || method is null || quantized is null || kept is null || bytes is null || sha is null)
            {
                throw new InvalidOperationException($"'{path}' lacks one of dtype, method, quantized_matmuls, float_matmuls, source_bytes, source_sha256.");
            }

            return new QuantizationStamp(dtype, method, quantized.Value, kept.Value, bytes.Value, sha);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or IOException)
        {
            throw new InvalidOperationException($"'{path}' cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>The size and SHA-256 (lower-case hex) of a model file: the fp32 model a variant is made from, the file a
    /// prepared graph was made from (<c>PreparedGraphStamp</c>), a model's identity (<see cref="ModelManifest.ModelSha256"/>).</summary>
    public static (long Bytes, string Sha256) Source(string modelPath)
    {
        using var model = File.OpenRead(modelPath);
        return (model.Length, Convert.ToHexStringLower(SHA256.HashData(model)));
    }

    public void Write(string folder)
    {
        var json = new JsonObject
        {
            ["dtype"] = Dtype,
            ["method"] = Method,
            ["quantized_matmuls"] = QuantizedMatMuls,
            ["float_matmuls"] = FloatMatMuls,
            ["source_bytes"] = SourceBytes,
            ["source_sha256"] = SourceSha256,
        };
        File.WriteAllText(Path.Combine(folder, FileName), json.ToJsonString(new() { WriteIndented = true }) + "\n");
    }
}
