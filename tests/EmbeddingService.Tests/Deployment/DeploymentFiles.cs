using System.Text.RegularExpressions;

namespace EmbeddingService.Tests.Deployment;

/// <summary>The repository's deployment files, found from the test binaries' folder upwards.</summary>
internal static partial class DeploymentFiles
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string PathOf(string relative) => Path.Combine(RepoRoot, relative.Replace('/', Path.DirectorySeparatorChar));

    public static Dockerfile ReadDockerfile() => Dockerfile.Parse(File.ReadAllText(PathOf("Dockerfile")));

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EmbeddingService.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Could not find the repository root (EmbeddingService.sln) above " + AppContext.BaseDirectory);
    }
}

/// <summary>A Dockerfile as instructions per stage: comments dropped, continuations joined, whitespace collapsed.</summary>
internal sealed partial record Dockerfile(IReadOnlyList<DockerStage> Stages)
{
    public DockerStage Final => Stages[^1];

    public static Dockerfile Parse(string text)
    {
        var stages = new List<DockerStage>();
        var pending = string.Empty;
        foreach (var raw in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && pending.Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }

            var instruction = Whitespace().Replace(pending + line, " ").Trim();
            pending = string.Empty;
            if (instruction.Length == 0)
            {
                continue;
            }

            var space = instruction.IndexOf(' ', StringComparison.Ordinal);
            var keyword = instruction[..space].ToUpperInvariant();
            var argument = instruction[(space + 1)..];
            if (keyword == "FROM")
            {
                stages.Add(new DockerStage(argument, []));
            }
            else if (stages.Count > 0)
            {
                stages[^1].Instructions.Add((keyword, argument));
            }
        }

        return new Dockerfile(stages);
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}

internal sealed record DockerStage(string From, List<(string Keyword, string Argument)> Instructions)
{
    public IEnumerable<string> All(string keyword) =>
        Instructions.Where(i => i.Keyword == keyword).Select(static i => i.Argument);

    public string Single(string keyword) => Assert.Single(All(keyword));

    /// <summary>ENV NAME=value pairs in order (values without quotes or spaces, which the Dockerfile keeps to).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env() =>
        All("ENV").SelectMany(static e => e.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(static pair => pair.Split('=', 2) is [var name, var value] ? new KeyValuePair<string, string>(name, value)
                : throw new FormatException($"ENV must use NAME=value: '{pair}'"))
            .ToList();

    /// <summary>The words of an exec-form (JSON array) argument.</summary>
    public static string[] ExecForm(string argument) =>
        System.Text.Json.JsonSerializer.Deserialize<string[]>(argument) ?? throw new FormatException($"not a JSON array: {argument}");
}
