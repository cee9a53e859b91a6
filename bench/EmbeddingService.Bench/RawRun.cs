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

    private readonly RawBaseline _baseline;
    private readonly int _mixedCount;
    private readonly double _mixedWindowSeconds;

    public RawRun(BenchOptions options, Workloads workloads)
    {
        var modelDir = Path.Combine(Path.GetDirectoryName(options.ServiceDll)!, "models", options.Model);
        var manifest = ModelFolderReader.Read(options.Model, modelDir);
        _baseline = new RawBaseline(manifest, ModelTokenizer.Create(manifest), workloads, options.RawSeconds);
        _mixedCount = options.Quick ? 128 : 512;
        _mixedWindowSeconds = options.MixedWindowSeconds;
    }

    /// <summary>Every layout and batch size once: the raw table, and the configurations the targets compare against.</summary>
    public List<RawResult> Measure()
    {
        var results = new List<RawResult>();
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

        return results;
    }

    /// <summary>The configuration <paramref name="configuration"/> measured again (for a window beside the service's). A
    /// mixed window repeats the sorted pass about as long as the service's mixed window (the raw phase timed one pass),
    /// so both sides of a round see the machine for as long.</summary>
    public RawResult Again(RawResult configuration) => Log(configuration.Workload switch
    {
        "short" => _baseline.Short(configuration.Layout, configuration.BatchSize),
        "mixed sorted" => _baseline.MixedSorted(configuration.Layout, configuration.BatchSize, _mixedCount,
            passes: Math.Max(1, (int)Math.Round(_mixedWindowSeconds / configuration.Seconds))),
        var other => throw new ArgumentException($"No raw workload '{other}'.", nameof(configuration)),
    });

    /// <summary>The fastest short-sentence configuration: what throughput at 64 connections is compared with.</summary>
    public static RawResult BestShort(IEnumerable<RawResult> results) =>
        results.Where(static r => r.Workload == "short").MaxBy(static r => r.SentencesPerSecond)!;

    /// <summary>The lowest batch-1 p50 of the one-caller layouts: the latency floor for 1 connection.</summary>
    public static RawResult LoneFloor(IEnumerable<RawResult> results) =>
        results.Where(static r => r.Workload == "short" && r.BatchSize == 1 && r.Layout.Runners == 1).MinBy(static r => r.P50Ms)!;

    /// <summary>The fastest length-sorted mixed configuration: what the mixed level is compared with.</summary>
    public static RawResult BestMixed(IEnumerable<RawResult> results) =>
        results.Where(static r => r.Workload == "mixed sorted").MaxBy(static r => r.SentencesPerSecond)!;

    private static RawResult Log(RawResult result)
    {
        Console.Error.WriteLine($"  raw {result.Workload} {result.Layout} batch {result.BatchSize}: {result.SentencesPerSecond:F0} sentences/s, p50 {result.P50Ms:F2} ms");
        return result;
    }
}
