using System.Globalization;
using System.Text.Json;

namespace EmbeddingService.Tests.Infrastructure;

/// <summary>
/// The third-party reference data in <c>../shared/eval/</c> beside the repository (never committed into it).
/// Set <c>EMBEDDING_EVAL_DIR</c> to read it from elsewhere.
/// </summary>
internal static class EvalData
{
    public static string Directory { get; } = Locate();

    public static JsonDocument ReferenceVectors() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "reference-vectors.json")));

    /// <summary>STS Benchmark pairs: split on tabs only (some sentences hold unbalanced quotes).</summary>
    public static List<(double Score, string First, string Second)> StsPairs(string split)
    {
        var pairs = new List<(double, string, string)>();
        foreach (var line in File.ReadLines(Path.Combine(Directory, $"stsb-{split}.tsv")))
        {
            if (line.Length == 0)
            {
                continue;
            }

            var columns = line.Split('\t');
            pairs.Add((double.Parse(columns[0], CultureInfo.InvariantCulture), columns[1], columns[2]));
        }

        return pairs;
    }

    private static string Locate()
    {
        var configured = Environment.GetEnvironmentVariable("EMBEDDING_EVAL_DIR");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EmbeddingService.sln")))
            {
                var eval = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "eval"));
                if (System.IO.Directory.Exists(eval))
                {
                    return eval;
                }

                throw new DirectoryNotFoundException($"The reference data folder {eval} is missing (expected ../shared/eval beside the repository, or EMBEDDING_EVAL_DIR).");
            }
        }

        throw new DirectoryNotFoundException("Could not find the repository root (EmbeddingService.sln) above " + AppContext.BaseDirectory);
    }
}
