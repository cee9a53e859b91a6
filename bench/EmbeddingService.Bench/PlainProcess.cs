using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace EmbeddingService.Bench;

/// <summary>
/// The independent ruler (issue 17): bench/PlainOnnxBaseline, a plain ONNX Runtime loop that shares no code with the
/// service (Microsoft.ML.Tokenizers, a session per thread with default options, its own padding and pooling), started as
/// a process of its own for every window, so nothing in the bench's process (its heap, its threads, its ONNX Runtime
/// state) can slow it. Each window reads a fixed text file, sorted by length in windows, for a fixed time after a
/// warm-up, or (<c>passes</c>) the whole file that many times, timed to its last batch; it reports sentences per second
/// and every batch's time.
/// </summary>
internal sealed partial class PlainProcess(string modelDir, string workDir)
{
    private const double WarmupSeconds = 1;

    /// <param name="passes">0: run for <paramref name="seconds"/>; else fixed work, the file this many times (a time limit
    /// cut inside a window sorted by length would count its short texts only).</param>
    public RawResult Run(string workload, RawLayout layout, int batchSize, string textsFile, int sortWindow, double seconds, int passes = 0)
    {
        var latencies = Path.Combine(workDir, "plain-latencies.txt");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            BenchOptions.PlainDll, "--model-dir", modelDir, "--texts", textsFile,
            "--sessions", $"{layout.Runners}", "--threads", $"{layout.IntraOp}", "--batch", $"{batchSize}", "--sort-window", $"{sortWindow}",
            "--seconds", seconds.ToString(CultureInfo.InvariantCulture), "--warmup", WarmupSeconds.ToString(CultureInfo.InvariantCulture),
            "--latencies", latencies, "--passes", $"{passes}",
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the plain baseline.");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var match = ResultLine().Match(output);
        if (process.ExitCode != 0 || !match.Success)
        {
            throw new InvalidOperationException($"The plain baseline exited {process.ExitCode}: {output} {error.Result}");
        }

        var perSecond = double.Parse(match.Groups["rate"].Value, CultureInfo.InvariantCulture);
        var elapsed = double.Parse(match.Groups["seconds"].Value, CultureInfo.InvariantCulture);
        var stats = new LatencyStats();
        foreach (var line in File.ReadLines(latencies))
        {
            stats.AddMicroseconds(long.Parse(line, CultureInfo.InvariantCulture), 1);
        }

        return new RawResult(workload, layout with { Plain = true }, batchSize, (long)Math.Round(perSecond * elapsed), elapsed, stats);
    }

    [GeneratedRegex(@"(?<rate>[0-9.]+) sentences/s.*seconds (?<seconds>[0-9.]+)")]
    private static partial Regex ResultLine();
}
