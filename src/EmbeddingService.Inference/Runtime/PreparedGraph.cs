using Microsoft.ML.OnnxRuntime;
using EmbeddingService.Inference.Models;

namespace EmbeddingService.Inference.Runtime;

/// <summary>
/// Finds the graph prepared at build time in a model folder (<c>optimized/</c>: graph, weights and
/// <see cref="PreparedGraphStamp"/>), so start-up skips optimizing and writing the model (about 1.2 s per built-in model
/// on this project's 2-vCPU machine, and the two or three copies of the model an optimizing session briefly holds).
/// </summary>
internal static class PreparedGraph
{
    /// <summary>The prepared graph's path, or null with the reason it cannot be used.</summary>
    /// <param name="modelSha256">The SHA-256 of <paramref name="modelPath"/> where the caller has it (the manifest does).</param>
    public static string? Find(string modelFolder, string modelPath, out string reason, string? modelSha256 = null)
    {
        var folder = Path.Combine(modelFolder, PreparedGraphStamp.FolderName);
        var stamp = PreparedGraphStamp.Read(folder);
        var graph = Path.Combine(folder, GraphOptimization.GraphFileName);
        if (stamp is null || !File.Exists(graph) || !File.Exists(Path.Combine(folder, GraphOptimization.WeightsFileName)))
        {
            reason = $"the model folder has no prepared graph ({PreparedGraphStamp.FolderName}/ with {PreparedGraphStamp.FileName}, {GraphOptimization.GraphFileName} and {GraphOptimization.WeightsFileName})";
            return null;
        }

        var version = OrtEnv.Instance().GetVersionString();
        if (!string.Equals(stamp.OnnxRuntimeVersion, version, StringComparison.Ordinal))
        {
            reason = $"its prepared graph was made by ONNX Runtime {stamp.OnnxRuntimeVersion}, and this is {version}";
            return null;
        }

        // The size first: a different file is usually caught without reading it. Through a handle, which follows links
        // (model files mounted into a container are often links; FileInfo.Length would give the link's own size).
        long length;
        using (var handle = File.OpenHandle(modelPath))
        {
            length = RandomAccess.GetLength(handle);
        }

        if (length != stamp.SourceBytes || (modelSha256 ?? QuantizationStamp.Source(modelPath).Sha256) != stamp.SourceSha256)
        {
            reason = "model.onnx is not the file its prepared graph was made from";
            return null;
        }

        reason = string.Empty;
        return graph;
    }
}
