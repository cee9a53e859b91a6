using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Bench;

/// <summary>The raw baseline's plan: which layouts and batch sizes are measured.</summary>
internal static class RawRun
{
    /// <summary>One session using both cores (its idle thread sleeping or spinning between operators), or two sessions with
    /// one thread each. A one-thread session has no idle threads, so spinning changes nothing there.</summary>
    private static readonly RawLayout[] s_layouts = [new(1, 2, Spin: false), new(1, 2, Spin: true), new(2, 1, Spin: false)];

    public static List<RawResult> Measure(BenchOptions options, Workloads workloads)
    {
        var modelDir = Path.Combine(Path.GetDirectoryName(options.ServiceDll)!, "models", options.Model);
        var manifest = ModelFolderReader.Read(options.Model, modelDir);
        var tokenizer = ModelTokenizer.Create(manifest);
        var baseline = new RawBaseline(manifest, tokenizer, workloads, options.RawSeconds);
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

    private static RawResult Log(RawResult result)
    {
        Console.Error.WriteLine($"  raw {result.Workload} {result.Layout} batch {result.BatchSize}: {result.SentencesPerSecond:F0} sentences/s, p50 {result.P50Ms:F2} ms");
        return result;
    }
}
