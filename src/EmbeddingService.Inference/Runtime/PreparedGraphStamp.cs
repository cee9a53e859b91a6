using System.Text.Json.Nodes;
using EmbeddingService.Inference.Models;

namespace EmbeddingService.Inference.Runtime;

/// <summary>
/// What a prepared graph (<see cref="GraphOptimization"/>, written at build time into the model folder's
/// <c>optimized/</c>) was made from: the ONNX Runtime version that optimized it and the size and SHA-256 of the
/// <c>model.onnx</c> it came from. A service only uses the graph when both still match, so a replaced <c>model.onnx</c> or
/// an upgraded ONNX Runtime never runs a stale graph. Written by <c>tools/ModelPreparer</c> (this file is compiled into it).
/// </summary>
internal sealed record PreparedGraphStamp(string OnnxRuntimeVersion, long SourceBytes, string SourceSha256)
{
    public const string FolderName = "optimized";
    public const string FileName = "prepared.json";

    /// <summary>The stamp for <paramref name="modelPath"/> as optimized by <paramref name="onnxRuntimeVersion"/>.</summary>
    public static PreparedGraphStamp For(string modelPath, string onnxRuntimeVersion)
    {
        var (bytes, sha256) = QuantizationStamp.Source(modelPath);
        return new PreparedGraphStamp(onnxRuntimeVersion, bytes, sha256);
    }

    /// <summary>The stamp in <paramref name="folder"/>, or null where there is none or it cannot be read.</summary>
    public static PreparedGraphStamp? Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path));
            var version = (string?)json?["onnx_runtime"];
            var bytes = (long?)json?["source_bytes"];
            var sha = (string?)json?["source_sha256"];
            return version is null || bytes is null || sha is null ? null : new PreparedGraphStamp(version, bytes.Value, sha);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException or FormatException or IOException)
        {
            return null;
        }
    }

    public void Write(string folder)
    {
        var json = new JsonObject
        {
            ["onnx_runtime"] = OnnxRuntimeVersion,
            ["source_bytes"] = SourceBytes,
            ["source_sha256"] = SourceSha256,
        };
        File.WriteAllText(Path.Combine(folder, FileName), json.ToJsonString(new() { WriteIndented = true }) + "\n");
    }
}
