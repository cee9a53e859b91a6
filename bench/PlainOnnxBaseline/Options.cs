using System.Globalization;
using System.Reflection;

namespace PlainOnnxBaseline;

/// <summary>Command line of the baseline; every option has a default so a bare run measures something sensible.</summary>
internal sealed class Options
{
    public string ModelDir { get; private set; } = "";
    public string? TextsFile { get; private set; }
    public int Sessions { get; private set; } = 2;
    public int Threads { get; private set; } = 1;
    public int Batch { get; private set; } = 8;
    public int SortWindow { get; private set; } = 64;
    public double Seconds { get; private set; } = 10;
    public double Warmup { get; private set; } = 2;
    public int MaxTokens { get; private set; } = 256;
    public bool Check { get; private set; }
    public string? CheckJson { get; private set; }
    public string? DumpTexts { get; private set; }
    public string? LatenciesFile { get; private set; }
    public int Passes { get; private set; }
    public string RepoRoot { get; private set; } = "";

    public const string Usage = """
        PlainOnnxBaseline: plain ONNX Runtime embedding loop (no service code), for comparison with the service.
          --model-dir DIR      model.onnx + vocab.txt (default src/EmbeddingService/bin/Release/net10.0/models/all-MiniLM-L6-v2)
          --texts FILE         one text per line (default: distinct STS-B dev+test sentences, shuffled, seed 42)
          --sessions N         threads, each with its own InferenceSession (default 2)
          --threads T          intra-op threads per session (default 1)
          --batch B            sentences per Run (default 8)
          --sort-window W      each thread takes W texts, sorts them by token count, cuts batches of B (default 64)
          --seconds S          measured seconds (default 10)
          --warmup S           unmeasured seconds first (default 2)
          --max-tokens N       truncation incl. [CLS]/[SEP] (default 256)
          --check              embed 3 fixed sentences, print the first 5 values of each vector
          --check-json FILE    with --check: also write the full vectors as JSON
          --dump-texts FILE    write the resolved text list (one per line) and exit
          --latencies FILE     also write every measured batch's time in microseconds, one per line (for the bench)
          --passes P           fixed work instead of --seconds: every text P times, timed to the last batch (a time
                               limit cut inside sorted windows would count their short texts only)
        """;

    public static Options Parse(string[] args)
    {
        var o = new Options { RepoRoot = FindRepoRoot() };
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            double NextDouble() => double.Parse(Next(), CultureInfo.InvariantCulture);
            switch (a)
            {
                case "--model-dir": o.ModelDir = Next(); break;
                case "--texts": o.TextsFile = Next(); break;
                case "--sessions": o.Sessions = NextInt(); break;
                case "--threads": o.Threads = NextInt(); break;
                case "--batch": o.Batch = NextInt(); break;
                case "--sort-window": o.SortWindow = NextInt(); break;
                case "--seconds": o.Seconds = NextDouble(); break;
                case "--warmup": o.Warmup = NextDouble(); break;
                case "--max-tokens": o.MaxTokens = NextInt(); break;
                case "--check": o.Check = true; break;
                case "--check-json": o.CheckJson = Next(); break;
                case "--dump-texts": o.DumpTexts = Next(); break;
                case "--latencies": o.LatenciesFile = Next(); break;
                case "--passes": o.Passes = NextInt(); break;
                case "-h" or "--help": Console.WriteLine(Usage); Environment.Exit(0); break;
                default: throw new ArgumentException($"unknown argument {a}\n{Usage}");
            }
        }
        if (o.ModelDir.Length == 0)
        {
            o.ModelDir = Path.Combine(o.RepoRoot, "src", "EmbeddingService", "bin", "Release", "net10.0", "models", "all-MiniLM-L6-v2");
        }
        if (o.Sessions < 1 || o.Threads < 1 || o.Batch < 1 || o.MaxTokens < 3 || o.Seconds <= 0 || o.Warmup < 0)
        {
            throw new ArgumentException("--sessions, --threads, --batch must be >= 1, --max-tokens >= 3, --seconds > 0");
        }
        // A window smaller than a batch would only cut short batches.
        o.SortWindow = Math.Max(o.SortWindow, o.Batch);
        return o;
    }

    /// <summary>The repository root baked in at build time, else the first folder up from here holding the solution.</summary>
    private static string FindRepoRoot()
    {
        string? baked = typeof(Options).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(m => m.Key == "RepoRoot")?.Value;
        if (!string.IsNullOrEmpty(baked) && Directory.Exists(baked))
        {
            return baked;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EmbeddingService.sln")))
            {
                return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }
}
