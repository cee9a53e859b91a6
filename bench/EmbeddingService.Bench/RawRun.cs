using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Bench;

/// <summary>The raw baseline's plan: which layouts and batch sizes are measured.</summary>
internal static class RawRun
{
    /// <summary>(sessions, intra-op threads each): one session using both cores, or two sessions with one thread each.</summary>
    private static readonly (int Runners, int IntraOp)[] s_layouts = [(1, 2), (2, 1)];

    public static List<RawResult> Measure(BenchOptions options, Workloads workloads)
    {
        var modelDir = Path.Combine(Path.GetDirectoryName(options.ServiceDll)!, "models", options.Model);
        var manifest = ModelFolderReader.Read(options.Model, modelDir);
        var tokenizer = ModelTokenizer.Create(manifest);
        var baseline = new RawBaseline(manifest, tokenizer, workloads, options.RawSeconds);
        var mixedCount = options.Quick ? 128 : 512;

        var results = new List<RawResult>();
        foreach (var (runners, intraOp) in s_layouts)
        {
            foreach (var batch in new[] { 1, 8, 32 })
            {
                results.Add(Log(baseline.Short(runners, intraOp, batch)));
            }
        }

        // A lone caller on a one-thread session: the other candidate for the batch-1 latency floor.
        results.Add(Log(baseline.Short(1, 1, 1)));

        foreach (var (runners, intraOp) in s_layouts)
        {
            foreach (var batch in new[] { 4, 8, 32 })
            {
                results.Add(Log(baseline.MixedSorted(runners, intraOp, batch, mixedCount)));
            }
        }

        return results;
    }

    private static RawResult Log(RawResult result)
    {
        Console.Error.WriteLine($"  raw {result.Workload} {result.Runners}x{result.IntraOp} batch {result.BatchSize}: {result.SentencesPerSecond:F0} sentences/s, p50 {result.P50Ms:F2} ms");
        return result;
    }
}
