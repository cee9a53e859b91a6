using System.Globalization;

namespace EmbeddingService.Bench;

/// <summary>Prints the run as Markdown tables: raw baseline, service under load, and the ratios against issue 3's targets.</summary>
internal static class Report
{
    public static void Header(BenchOptions options, Workloads workloads)
    {
        Console.WriteLine($"# EmbeddingService.Bench {(options.Soak ? "(soak)" : options.Quick ? "(quick)" : "(full)")} {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"CPU: {CpuModel()}, {Environment.ProcessorCount} cores visible; model {options.Model}; {workloads.PoolSize} distinct STS sentences");
        Console.WriteLine($"Service: {options.ServiceDll}; overrides: {(options.ServiceEnvironment.Count == 0 ? "none (appsettings.json)" : string.Join(' ', options.ServiceEnvironment.Select(static e => $"{e.Key}={e.Value}")))}");
        Console.WriteLine();
    }

    public static void Raw(IReadOnlyList<RawResult> results)
    {
        Console.WriteLine("## Raw in-process baseline (tokenize + tensors + ONNX run + pool + normalize; N sessions x T intra-op threads)");
        Console.WriteLine("| workload | layout | batch | sentences/s | p50 per batch ms |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        foreach (var r in results)
        {
            Console.WriteLine($"| {r.Workload} | {r.Layout} | {r.BatchSize} | {r.SentencesPerSecond:F0} | {r.P50Ms:F2} |");
        }

        Console.WriteLine();
    }

    public static void Service(IReadOnlyList<LoadResult> results, double peakRssMb, TimeSpan ready)
    {
        Console.WriteLine("## Service over HTTP (loopback, POST /embed, closed loop)");
        Console.WriteLine("| load | connections | sentences/request | requests | non-200 | sentences/s | p50 ms | p99 ms | server p50 ms: total / queue / inference | cores busy: service / driver | RSS MB at end |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            Console.WriteLine($"| {r.Name} | {r.Connections} | {r.SentencesPerRequest} | {r.Requests} | {r.Failed} | {r.SentencesPerSecond:F0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {Ms(r.Server.TotalP50Ms)} / {Ms(r.Server.QueueP50Ms)} / {Ms(r.Server.InferenceP50Ms)} | {r.ServiceCores:F2} / {r.DriverCores:F2} | {r.RssMb:F0} |");
        }

        Console.WriteLine();
        Console.WriteLine($"Peak RSS of the service process (VmHWM, every model in its appsettings.json loaded): {peakRssMb:F0} MB; process start to /health 200: {ready.TotalSeconds:F2} s");
        Console.WriteLine();
    }

    public static void Ratios(IReadOnlyList<RawResult> raw, IReadOnlyList<LoadResult> service, double peakRssMb, TimeSpan ready)
    {
        var rawBest = raw.Where(static r => r.Workload == "short").MaxBy(static r => r.SentencesPerSecond)!;
        // The lowest batch-1 p50 of the one-caller layouts, in the raw phase or measured again just before the
        // 1-connection level: the stricter floor counts.
        var rawLone = raw.Where(static r => r.Workload is ("short" or RawRun.AgainWorkload) && r.BatchSize == 1 && r.Layout.Runners == 1).MinBy(static r => r.P50Ms)!;
        var rawLoneAgain = raw.FirstOrDefault(static r => r.Workload == RawRun.AgainWorkload);
        var rawSorted = raw.Where(static r => r.Workload == "mixed sorted").MaxBy(static r => r.SentencesPerSecond)!;
        var at1 = service.Single(static r => r.Name == "short" && r.Connections == 1);
        var at64 = service.Single(static r => r.Name == "short" && r.Connections == 64);
        var mixed = service.Single(static r => r.Name == "mixed");
        var floor = service.Single(static r => r.Name == "http floor");
        var lowestFrom = ReferenceEquals(rawLone, rawLoneAgain) ? ", again before 1 connection" : "";
        var other = rawLoneAgain is null || ReferenceEquals(rawLone, rawLoneAgain) ? "" : $"; {rawLoneAgain.P50Ms:F2} again before 1 connection";

        Console.WriteLine("## Ratios to the raw baseline (issue 3 targets)");
        Console.WriteLine("| measure | value | target | met |");
        Console.WriteLine("|---|---:|---:|:---:|");
        Row("service@64 / raw best short", at64.SentencesPerSecond / rawBest.SentencesPerSecond, "x", ">= 0.9x", v => v >= 0.9,
            $"{at64.SentencesPerSecond:F0} / {rawBest.SentencesPerSecond:F0} ({rawBest.Layout}, batch {rawBest.BatchSize})");
        Row("p50@1 - raw batch-1 p50", at1.P50Ms - rawLone.P50Ms, " ms", "<= +1 ms", v => v <= 1,
            $"{at1.P50Ms:F2} - {rawLone.P50Ms:F2} ({rawLone.Layout}{lowestFrom}{other}); the HTTP round trip alone takes {floor.P50Ms:F2}");
        Row("p99@64 / p50@64", at64.P99Ms / at64.P50Ms, "x", "<= 3x", v => v <= 3, $"{at64.P99Ms:F1} / {at64.P50Ms:F1} ms");
        Row("mixed / raw sorted best", mixed.SentencesPerSecond / rawSorted.SentencesPerSecond, "x", ">= 0.9x", v => v >= 0.9,
            $"{mixed.SentencesPerSecond:F0} / {rawSorted.SentencesPerSecond:F0} ({rawSorted.Layout}, batch {rawSorted.BatchSize})");
        Row("peak RSS, all configured models", peakRssMb, " MB", "<= 500 MB", v => v <= 500, "VmHWM");
        Row("start to ready", ready.TotalSeconds, " s", "<= 3 s", v => v <= 3, "Process.Start to /health 200");
        Console.WriteLine();
    }

    private static void Row(string name, double value, string unit, string target, Func<double, bool> met, string detail) =>
        Console.WriteLine($"| {name} ({detail}) | {value.ToString(value < 10 ? "F3" : "F0", CultureInfo.InvariantCulture)}{unit} | {target} | {(met(value) ? "yes" : "NO")} |");

    /// <summary>A median in ms, or a dash where the endpoint reports no timings (the HTTP floor's health route).</summary>
    private static string Ms(double value) => double.IsNaN(value) ? "-" : value.ToString("F2", CultureInfo.InvariantCulture);

    private static string CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(static l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
