using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Bench;

/// <summary>The raw baseline's plan: which layouts and batch sizes are measured.</summary>
internal static class RawRun
{
    /// <summary>The fastest lone pass, and the layout <see cref="MeasureLoneFloorAgain"/> repeats.</summary>
    private static readonly RawLayout s_loneFloor = new(1, 2, Spin: true);

    /// <summary>One session using both cores (its idle thread sleeping or spinning between operators), or two sessions with
    /// one thread each. A one-thread session has no idle threads, so spinning changes nothing there.</summary>
    private static readonly RawLayout[] s_layouts = [new(1, 2, Spin: false), s_loneFloor, new(2, 1, Spin: false)];

    public static List<RawResult> Measure(BenchOptions options, Workloads workloads)
    {
        var baseline = CreateBaseline(options, workloads);
        var mixedCount = options.Quick ? 128 : 512;

        var results = new List<RawResult>();
        foreach (var layout in s_layouts)
        {
            foreach (var batch in new[] { 1, 8, 32 })
            {
                results.Add(Log(baseline.Short(layout, batch)));
            }
        }

        // A lone caller on a one-thread session: another candidate for the batch-1 latency floor.
        results.Add(Log(baseline.Short(new RawLayout(1, 1, Spin: false), 1)));

        foreach (var layout in s_layouts)
        {
            foreach (var batch in new[] { 4, 8, 32 })
            {
                results.Add(Log(baseline.MixedSorted(layout, batch, mixedCount)));
            }
        }

        return results;
    }

    /// <summary>The batch-1 floor again, run while the service idles just before its 1-connection level: the raw phase
    /// runs minutes earlier, and other jobs on the machine can slow either one.</summary>
    public static RawResult MeasureLoneFloorAgain(BenchOptions options, Workloads workloads) =>
        Log(CreateBaseline(options, workloads).Short(s_loneFloor, 1) with { Workload = AgainWorkload });

    /// <summary>The workload name of <see cref="MeasureLoneFloorAgain"/>'s result.</summary>
    public const string AgainWorkload = "short, again before 1 connection";

    private static RawBaseline CreateBaseline(BenchOptions options, Workloads workloads)
    {
        var modelDir = Path.Combine(Path.GetDirectoryName(options.ServiceDll)!, "models", options.Model);
        var manifest = ModelFolderReader.Read(options.Model, modelDir);
        return new RawBaseline(manifest, ModelTokenizer.Create(manifest), workloads, options.RawSeconds);
    }

    private static RawResult Log(RawResult result)
    {
        Console.Error.WriteLine($"  raw {result.Workload} {result.Layout} batch {result.BatchSize}: {result.SentencesPerSecond:F0} sentences/s, p50 {result.P50Ms:F2} ms");
        return result;
    }
}
