namespace EmbeddingService.Tests.Infrastructure;

/// <summary>
/// A temporary model folder made from a built-in one: every file linked (not copied: the weights are ~90 MB), except the
/// prepared graph (<c>optimized/</c>), which is left out unless asked for. Deleted on dispose.
/// </summary>
internal sealed class ModelFolderCopy : IDisposable
{
    private ModelFolderCopy(string folder)
    {
        Folder = folder;
    }

    public string Folder { get; }

    public string ModelPath => Path.Combine(Folder, "model.onnx");

    public static ModelFolderCopy Of(string modelId, bool withPreparedGraph = false)
    {
        var source = Path.Combine(AppContext.BaseDirectory, "models", modelId);
        var copy = new ModelFolderCopy(Directory.CreateTempSubdirectory("embeddingservice-test-model-").FullName);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (!withPreparedGraph && relative.StartsWith("optimized" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                continue;
            }

            var target = Path.Combine(copy.Folder, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.CreateSymbolicLink(target, file);
        }

        return copy;
    }

    /// <summary>Replaces the link <paramref name="relativePath"/> with a real copy of its file, so it can be changed.</summary>
    public string MakeWritable(string relativePath)
    {
        var path = Path.Combine(Folder, relativePath);
        var source = new FileInfo(path).LinkTarget ?? throw new InvalidOperationException($"{relativePath} is not a link.");
        File.Delete(path);
        File.Copy(source, path);
        return path;
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
