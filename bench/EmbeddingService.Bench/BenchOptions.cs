using System.Reflection;

namespace EmbeddingService.Bench;

/// <summary>The command line: <c>[--quick] [--service-only | --raw-only | --only interactive|documents] [--soak [--minutes N]] [--model ID] [--env KEY=VALUE]... [--driver wrk|httpclient] [--port N] [--service-dll PATH] [--eval-dir DIR] [--chart PATH] [--no-progress]</c>.</summary>
internal sealed record BenchOptions
{
    public bool Quick { get; init; }

    public bool Soak { get; init; }

    /// <summary>Skip the raw baseline (for quick sweeps of service settings; prints no ratios).</summary>
    public bool ServiceOnly { get; init; }

    /// <summary>Run only the raw baseline (no service, no ratios).</summary>
    public bool RawOnly { get; init; }

    /// <summary>Run only the interactive-under-bulk level after the warm-up (<c>--only interactive</c>): no raw baseline, no
    /// other level, for iterating on the scheduler.</summary>
    public bool InteractiveOnly { get; init; }

    /// <summary>Run only the documents level (<c>--only documents</c>: <c>/embed_chunks</c> against the raw loop on the same
    /// chunks): no other raw configuration, no other level.</summary>
    public bool DocumentsOnly { get; init; }

    /// <summary>Run only the int8 level (<c>--only int8</c>): the plain fp32 ruler measured in the int8 level's plain
    /// configurations first, then the int8 level on its own service; no fp32 service.</summary>
    public bool Int8Only { get; init; }

    /// <summary>Run only the cache level (<c>--only cache</c>): a service with the embedding cache beside one without.</summary>
    public bool CacheOnly { get; init; }

    /// <summary>Any <c>--only</c>.</summary>
    public bool OneLevel => InteractiveOnly || DocumentsOnly || Int8Only || CacheOnly;

    /// <summary>How long the soak runs: 3 minutes, the mix (<c>--minutes</c> overrides).</summary>
    public double SoakMinutes { get; init; } = 3;

    /// <summary>What generates the HTTP load: wrk when it is on the PATH (default), or the built-in HttpClient driver.</summary>
    public LoadDriverChoice Driver { get; init; } = LoadDriverChoice.Auto;

    public string Model { get; init; } = "all-MiniLM-L6-v2";

    /// <summary>Whether the phases show a live progress display on standard error (where that is a terminal).</summary>
    public bool Progress { get; init; } = true;

    /// <summary>Where the run's chart goes (SVG): by default <c>docs/benchmark.svg</c> after a full run with every target
    /// (the copy README shows), nowhere after a partial one; <c>--chart PATH</c> writes it after any run with the levels.</summary>
    public string? ChartPath { get; init; }

    /// <summary>The chart's path for this run, or null for none.</summary>
    public string? ChartOutput => ChartPath ?? (Quick || ServiceOnly || OneLevel || Soak || RawOnly ? null : Path.Combine(RepoRoot(), "docs", "benchmark.svg"));

    /// <summary>The service's port; 0 (default) picks a free one, so a stray or neighbouring server can never answer instead.</summary>
    public int Port { get; init; }

    /// <summary>The built host, started with <c>dotnet &lt;dll&gt;</c>; default: the host built beside this bench's configuration.</summary>
    public string ServiceDll { get; init; } = DefaultServiceDll();

    /// <summary>Environment overrides for the service process only, e.g. <c>Batching__Runners=1</c>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ServiceEnvironment { get; init; } = [];

    /// <summary>The STS benchmark sentences: <c>../shared/eval/</c> beside the repository.</summary>
    public string EvalDir { get; init; } = Path.Combine(RepoRoot(), "..", "shared", "eval");

    /// <summary>Seconds each raw-baseline configuration runs.</summary>
    public double RawSeconds => Quick ? 0.8 : 2.5;

    /// <summary>Seconds a load level measured in one window runs (after its lead-in): the 8-connection level, the HTTP
    /// floor (half), and with <c>--service-only</c> every level (mixed three times as long). The levels measured in
    /// rounds run <see cref="Rounds"/> windows of <see cref="RoundWindowSeconds"/> instead.</summary>
    public double LoadSeconds => Quick ? 4 : 12;

    /// <summary>Rounds of a raw window and a service window for each level a target compares with the raw baseline. Other
    /// jobs change these cores' speed from second to second (one round's ratio ranged 0.79-1.10 in one run), so only the
    /// sum over many rounds is steady: with 6 rounds the ratios of unchanged code moved by ±0.05 from run to run.</summary>
    public int Rounds => Quick ? 2 : 10;

    /// <summary>Seconds of one service window of a level measured in rounds (mixed lengths: three times as long).</summary>
    public double RoundWindowSeconds => 2;

    /// <summary>How much longer the mixed level's windows are than the others: a request of 32 takes ~1.5 s, so a window
    /// counts answers over several requests per connection.</summary>
    public const int MixedWindowFactor = 3;

    /// <summary>Seconds of one service window of the mixed level measured in rounds; its raw windows are as long.</summary>
    public double MixedWindowSeconds => MixedWindowFactor * RoundWindowSeconds;

    /// <summary>The least lead-in of a window of mixed-length requests of 32: longer than one request takes (~1.5 s), so
    /// every connection has been answered once before the window opens.</summary>
    public double MixedLeadInSeconds => Quick ? 2 : 3;

    /// <summary>Rounds of the interactive-under-bulk level, each a bulk window alone and one with the one-sentence caller
    /// (<see cref="BulkWindowSeconds"/> each), in turn: alone first, then with the caller first, so two rounds cancel a
    /// steady drift in the machine's speed. With 2 rounds single rounds of the bulk ratio ranged 0.81-0.91 and the sum
    /// 0.84-0.89 in four runs of unchanged code (2026-12-02): 4 halve the spread of a mean as 1/√n would. About 2.5
    /// minutes in all (25 s with <c>--quick</c>).</summary>
    public int InteractiveRounds => Quick ? 1 : 4;

    /// <summary>Seconds of one bulk window of the interactive-under-bulk level (after its lead-in). A request of 32 mixed
    /// texts takes ~1.5 s and they finish in bursts: in a 4-s window each connection finished about two, and the count
    /// moved by a burst either way.</summary>
    public double BulkWindowSeconds => Quick ? MixedWindowSeconds : 12;

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        var environment = new List<KeyValuePair<string, string>>();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            options = args[i] switch
            {
                "--quick" => options with { Quick = true },
                "--soak" => options with { Soak = true },
                "--service-only" => options with { ServiceOnly = true },
                "--raw-only" => options with { RawOnly = true },
                "--only" => Next() switch
                {
                    "interactive" => options with { InteractiveOnly = true },
                    "documents" => options with { DocumentsOnly = true },
                    "int8" => options with { Int8Only = true },
                    "cache" => options with { CacheOnly = true },
                    var other => throw new ArgumentException($"--only wants interactive, documents, int8 or cache, got '{other}'."),
                },
                "--minutes" => options with { SoakMinutes = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--model" => options with { Model = Next() },
                "--no-progress" => options with { Progress = false },
                "--chart" => options with { ChartPath = Path.GetFullPath(Next()) },
                "--port" => options with { Port = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--service-dll" => options with { ServiceDll = Path.GetFullPath(Next()) },
                "--eval-dir" => options with { EvalDir = Path.GetFullPath(Next()) },
                "--env" => AddEnvironment(options, environment, Next()),
                "--driver" => options with
                {
                    Driver = Next() switch
                    {
                        "wrk" => LoadDriverChoice.Wrk,
                        "httpclient" => LoadDriverChoice.HttpClient,
                        var other => throw new ArgumentException($"--driver wants wrk or httpclient, got '{other}'."),
                    },
                },
                _ => throw new ArgumentException($"Unknown argument '{args[i]}'. Usage: [--quick] [--service-only | --raw-only | --only interactive|documents] [--soak [--minutes N]] [--model ID] [--env KEY=VALUE]... [--driver wrk|httpclient] [--port N] [--service-dll PATH] [--eval-dir DIR] [--chart PATH] [--no-progress]"),
            };
        }

        if (options.RawOnly && (options.ServiceOnly || options.Soak || options.OneLevel))
        {
            throw new ArgumentException("--raw-only runs no service: it does not go with --service-only, --only or --soak.");
        }

        if (options.OneLevel && options.Soak)
        {
            throw new ArgumentException("--only runs one load level: it does not go with --soak.");
        }

        if (options.Driver != LoadDriverChoice.Auto && (options.RawOnly || options.Soak))
        {
            throw new ArgumentException("--driver picks what drives the load levels: --raw-only runs none, and the soak always uses HttpClient.");
        }

        return options with { ServiceEnvironment = environment };
    }

    private static BenchOptions AddEnvironment(BenchOptions options, List<KeyValuePair<string, string>> environment, string pair)
    {
        var cut = pair.IndexOf('=', StringComparison.Ordinal);
        if (cut <= 0)
        {
            throw new ArgumentException($"--env wants KEY=VALUE, got '{pair}'.");
        }

        environment.Add(new(pair[..cut], pair[(cut + 1)..]));
        return options;
    }

    private static string DefaultServiceDll() => BuiltDll("ServiceOutputDir", "EmbeddingService.dll");

    /// <summary>The independent plain ONNX Runtime loop (bench/PlainOnnxBaseline), built with the bench.</summary>
    public static string PlainDll { get; } = BuiltDll("PlainOutputDir", "PlainOnnxBaseline.dll");

    private static string BuiltDll(string metadataKey, string fileName)
    {
        var dir = typeof(BenchOptions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .First(a => a.Key == metadataKey).Value!;
        return Path.GetFullPath(Path.Combine(dir, fileName));
    }

    private static string RepoRoot()
    {
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

/// <summary>The <c>--driver</c> option.</summary>
internal enum LoadDriverChoice
{
    /// <summary>wrk if it is on the PATH, else HttpClient.</summary>
    Auto,
    Wrk,
    HttpClient,
}
