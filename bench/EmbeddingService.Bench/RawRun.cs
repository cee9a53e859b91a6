using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Bench;

/// <summary>The raw baseline's plan: which layouts and batch sizes are measured, which of them each target compares
/// against, and measuring that one again in windows taken in turn with the service's.</summary>
internal sealed class RawRun
{
    /// <summary>One session using both cores (its idle thread sleeping or spinning between operators), or two threads
    /// with one intra-op thread each, on a session each or both on one session (the service's layout: one copy of the
    /// weights in the cache). A one-thread session has no idle threads, so spinning changes nothing there.</summary>
    private static readonly RawLayout[] s_layouts =
        [new(1, 2, Spin: false), new(1, 2, Spin: true), new(2, 1, Spin: false), new(2, 1, Spin: false, OneSession: true)];

    /// <summary>The independent loop's configurations: the targets compare with the best of them.</summary>
    private static readonly (RawLayout Layout, int Batch)[] s_plainShort =
        [(new(2, 1, Spin: true, Plain: true), 8), (new(2, 1, Spin: true, Plain: true), 16), (new(1, 2, Spin: true, Plain: true), 8)];

    private static readonly (RawLayout Layout, int Batch)[] s_plainMixed =
        [(new(2, 1, Spin: true, Plain: true), 4), (new(2, 1, Spin: true, Plain: true), 8), (new(1, 2, Spin: true, Plain: true), 4)];

    private static readonly RawLayout s_plainLone = new(1, 2, Spin: true, Plain: true);

    private readonly RawBaseline _baseline;
    private readonly PlainProcess _plain;
    private readonly string _workDir;
    private readonly Dictionary<string, PlainProcess> _plainByModel = new(StringComparer.Ordinal);
    private readonly string _shortFile;
    private readonly string _mixedFile;
    private readonly int _mixedCount;
    private readonly double _rawSeconds;
    private readonly double _roundSeconds;
    private readonly double _mixedWindowSeconds;

    public RawRun(BenchOptions options, Workloads workloads)
    {
        var modelDir = Path.Combine(Path.GetDirectoryName(options.ServiceDll)!, "models", options.Model);
        var manifest = ModelFolderReader.Read(options.Model, modelDir);
        _baseline = new RawBaseline(manifest, ModelTokenizer.Create(manifest), workloads, options.RawSeconds);
        _mixedCount = options.Quick ? 128 : 512;
        _rawSeconds = options.RawSeconds;
        _roundSeconds = options.RoundWindowSeconds;
        _mixedWindowSeconds = options.MixedWindowSeconds;

        // The plain loop reads the same texts from files: distinct short sentences (more than any window reads) and the
        // mixed texts the library loop sorts.
        var workDir = Directory.CreateTempSubdirectory("embedding-bench-plain-").FullName;
        _workDir = workDir;
        _plain = new PlainProcess(modelDir, workDir);
        _shortFile = Path.Combine(workDir, "short.txt");
        File.WriteAllLines(_shortFile, Enumerable.Range(0, 20_000).Select(i => workloads.Short(i)));
        _mixedFile = Path.Combine(workDir, "mixed.txt");
        File.WriteAllLines(_mixedFile, workloads.Mixed.Take(_mixedCount).Select(static t => t.ReplaceLineEndings(" ")));
    }

    /// <summary>Every layout and batch size once: the raw table, and the configurations the targets compare against.</summary>
    public List<RawResult> Measure()
    {
        var results = new List<RawResult>();
        using var progress = BenchProgress.Begin("raw baselines: library runner, plain loop",
            2 * s_layouts.Length * 3 + 1 + s_plainShort.Length + 1 + s_plainMixed.Length);
        RawResult Log(RawResult result)
        {
            progress.Advance();
            return RawRun.Log(result);
        }

        foreach (var layout in s_layouts)
        {
            foreach (var batch in new[] { 1, 8, 32 })
            {
                results.Add(Log(_baseline.Short(layout, batch)));
            }
        }

        // A lone caller on a one-thread session: another candidate for the batch-1 latency floor.
        results.Add(Log(_baseline.Short(new RawLayout(1, 1, Spin: false), 1)));

        foreach (var layout in s_layouts)
        {
            foreach (var batch in new[] { 4, 8, 32 })
            {
                results.Add(Log(_baseline.MixedSorted(layout, batch, _mixedCount)));
            }
        }

        foreach (var (layout, batch) in s_plainShort)
        {
            results.Add(Log(Plain("short", layout, batch, _rawSeconds)));
        }

        results.Add(Log(Plain("short", s_plainLone, 1, _rawSeconds)));
        foreach (var (layout, batch) in s_plainMixed)
        {
            results.Add(Log(Plain("mixed sorted", layout, batch, _rawSeconds)));
        }

        return results;
    }

    /// <summary>The configuration <paramref name="configuration"/> measured again (for a window beside the service's). A
    /// mixed window repeats the sorted pass about as long as the service's mixed window (the raw phase timed one pass),
    /// so both sides of a round see the machine for as long.</summary>
    public RawResult Again(RawResult configuration) => Log(configuration.Layout.Plain
        ? Plain(configuration.Workload, configuration.Layout, configuration.BatchSize, _roundSeconds,
            passes: Math.Max(PlainMixedPasses, (int)Math.Round(PlainMixedPasses * _mixedWindowSeconds / configuration.Seconds)))
        : configuration.Workload switch
    {
        "short" => _baseline.Short(configuration.Layout, configuration.BatchSize),
        "mixed sorted" => _baseline.MixedSorted(configuration.Layout, configuration.BatchSize, _mixedCount,
            passes: Math.Max(1, (int)Math.Round(_mixedWindowSeconds / configuration.Seconds))),
        var other => throw new ArgumentException($"No raw workload '{other}'.", nameof(configuration)),
    });

    /// <summary>The plain loop's short-sentence configurations (the ones whose best the targets compare with).</summary>
    public static IReadOnlyList<(RawLayout Layout, int Batch)> PlainShortConfigurations => s_plainShort;

    /// <summary>The plain loop on another model folder (an int8 variant), on the same short sentences, for
    /// <paramref name="seconds"/> after its warm-up.</summary>
    public RawResult PlainShort(string modelDir, RawLayout layout, int batch, double seconds)
    {
        if (!_plainByModel.TryGetValue(modelDir, out var plain))
        {
            plain = _plainByModel[modelDir] = new PlainProcess(modelDir, _workDir);
        }

        return Log(plain.Run("short", layout, batch, _shortFile, sortWindow: 64, seconds));
    }

    /// <summary>The plain loop's fastest short-sentence configuration: what throughput at 64 connections is compared with.</summary>
    public static RawResult BestShort(IEnumerable<RawResult> results, bool plain = true) =>
        results.Where(r => r.Workload == "short" && r.Layout.Plain == plain).MaxBy(static r => r.SentencesPerSecond)!;

    /// <summary>The plain loop's batch-1 p50 on one session of 2 threads: the latency floor for 1 connection.</summary>
    public static RawResult LoneFloor(IEnumerable<RawResult> results) =>
        results.Where(static r => r.Workload == "short" && r.BatchSize == 1 && r.Layout.Runners == 1 && r.Layout.Plain).MinBy(static r => r.P50Ms)!;

    /// <summary>The plain loop's fastest length-sorted mixed configuration: what the mixed level is compared with.</summary>
    public static RawResult BestMixed(IEnumerable<RawResult> results, bool plain = true) =>
        results.Where(r => r.Workload == "mixed sorted" && r.Layout.Plain == plain).MaxBy(static r => r.SentencesPerSecond)!;

    /// <summary>Passes over the mixed texts in the plain loop's raw-phase window (fixed work).</summary>
    private const int PlainMixedPasses = 2;

    /// <summary>Short sentences for a time, sorted in windows of 64 as the library loop sorts them. The mixed texts as
    /// fixed work (<paramref name="passes"/> times over): each of the loop's threads sorts the windows it takes, so
    /// windows of half the texts pad about as little as the library loop's one sorted list, and keep both threads busy
    /// to the end (a time limit would cut windows sorted by length after their short texts).</summary>
    private RawResult Plain(string workload, RawLayout layout, int batch, double seconds, int passes = PlainMixedPasses) => workload == "short"
        ? _plain.Run(workload, layout, batch, _shortFile, sortWindow: 64, seconds)
        : _plain.Run(workload, layout, batch, _mixedFile, sortWindow: Math.Max(1, _mixedCount / layout.Runners), seconds, passes);

    private static RawResult Log(RawResult result)
    {
        Console.Error.WriteLine($"  raw {result.Workload} {result.Layout} batch {result.BatchSize}: {result.SentencesPerSecond:F0} sentences/s, p50 {result.P50Ms:F2} ms");
        return result;
    }
}
