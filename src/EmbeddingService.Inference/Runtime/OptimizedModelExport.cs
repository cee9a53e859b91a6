namespace EmbeddingService.Inference.Runtime;

/// <summary>
/// A model optimized at start-up (<see cref="GraphOptimization"/>) into a temporary folder, deleted on dispose: for a
/// model folder without a usable prepared graph (<see cref="PreparedGraph"/>).
/// </summary>
internal sealed class OptimizedModelExport : IDisposable
{
    private OptimizedModelExport(string folder)
    {
        Folder = folder;
    }

    public string Folder { get; }

    public string GraphPath => Path.Combine(Folder, GraphOptimization.GraphFileName);

    /// <summary>Optimizes <paramref name="modelPath"/> into a new folder under <paramref name="tempRoot"/>.</summary>
    public static OptimizedModelExport Create(string modelPath, string tempRoot)
    {
        var folder = Path.Combine(tempRoot, "embeddingservice-model-" + Path.GetRandomFileName());
        // Owner-only (the weights file is read back into memory from here) and random-named; unlike
        // Directory.CreateTempSubdirectory, an existing folder of that name would be reused, so the name is what
        // keeps it ours.
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var export = new OptimizedModelExport(folder);
        try
        {
            GraphOptimization.Write(modelPath, folder);
            return export;
        }
        catch
        {
            export.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary folder is not worth failing over.
        }
    }
}
