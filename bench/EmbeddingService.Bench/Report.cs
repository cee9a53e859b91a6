using System.Globalization;

namespace EmbeddingService.Bench;

/// <summary>Prints the run as Markdown tables: raw baseline, service under load, and the ratios against issue 3's targets.</summary>
internal static class Report
{
    // Every target row printed so far, for the table the run ends with.
    private static readonly List<(string Name, string Value, string Target, bool Met)> s_targets = [];

    public static void Header(BenchOptions options, Workloads workloads)
    {
        Console.WriteLine($"# EmbeddingService.Bench {(options.Soak ? "(soak)" : options.Quick ? "(quick)" : "(full)")}{(options.InteractiveOnly ? " (interactive under bulk only)" : "")} {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"CPU: {CpuModel()}, {Environment.ProcessorCount} cores visible; model {options.Model}; {workloads.PoolSize} distinct STS sentences");
        Console.WriteLine($"Service: {options.ServiceDll}; overrides: {(options.ServiceEnvironment.Count == 0 ? "none (appsettings.json)" : string.Join(' ', options.ServiceEnvironment.Select(static e => $"{e.Key}={e.Value}")))}");
        Console.WriteLine();
    }

    public static void Raw(IReadOnlyList<RawResult> results)
    {
        Console.WriteLine("## Raw baselines (tokenize + tensors + ONNX run + pool + normalize): the library's runner in the bench's process (N threads x T intra-op threads, a session each or one session), and the independent plain loop (\"plain\", bench/PlainOnnxBaseline, a process per window: the targets' ruler)");
        Console.WriteLine("| workload | layout | batch | sentences/s | p50 per batch ms |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        foreach (var r in results)
        {
            Console.WriteLine($"| {r.Workload} | {r.Layout} | {r.BatchSize} | {r.SentencesPerSecond:F0} | {r.P50Ms:F2} |");
        }

        Console.WriteLine();
        if (results.Any(static r => r.Layout.Plain) && results.Any(static r => !r.Layout.Plain))
        {
            // How far the library's own runner is from an independent plain session loop, best against best.
            var shortRatio = RawRun.BestShort(results, plain: false).SentencesPerSecond / RawRun.BestShort(results).SentencesPerSecond;
            var mixedRatio = RawRun.BestMixed(results, plain: false).SentencesPerSecond / RawRun.BestMixed(results).SentencesPerSecond;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Library runner / plain loop, best against best: short {shortRatio:F3}x, mixed sorted {mixedRatio:F3}x"));
            Console.WriteLine();
        }
    }

    public static void Service(IReadOnlyList<LevelResult> levels, double peakRssMb, TimeSpan ready)
    {
        if (levels.Count == 0)
        {
            // --only interactive: no level of its own, but the run's memory and start-up still count.
            PeakRssAndReady(peakRssMb, ready);
            return;
        }

        Console.WriteLine("## Service over HTTP (loopback, POST /embed, closed loop)");
        Console.WriteLine("| load | connections | sentences/request | windows | requests | non-200 | sentences/s | p50 ms | p99 ms | server p50 ms: total / queue / inference | cores busy: service / driver | RSS MB at end |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var level in levels)
        {
            var r = level.Service;
            Console.WriteLine($"| {r.Name} | {r.Connections} | {r.SentencesPerRequest} | {level.ServiceWindows.Count} x {r.Seconds / level.ServiceWindows.Count:F0} s | {r.Requests} | {r.Failed} | {r.SentencesPerSecond:F0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {Ms(r.Server.TotalP50Ms)} / {Ms(r.Server.QueueP50Ms)} / {Ms(r.Server.InferenceP50Ms)} | {r.ServiceCores:F2} / {r.DriverCores:F2} | {r.RssMb:F0} |");
        }

        Console.WriteLine();
        PeakRssAndReady(peakRssMb, ready);
    }

    /// <summary>The interactive-under-bulk level against the issue's targets, each from windows taken in turn.</summary>
    public static void Interactive(InteractiveResult r, string bulkDriver)
    {
        Console.WriteLine($"## Interactive under bulk ({ServiceLoad.MixedConnections} connections x {ServiceLoad.MixedPerRequest} mixed texts per request, and one caller sending one sentence per request)");
        Console.WriteLine($"{r.BulkAlone.Count} round(s), each a caller window on the idle service, then a bulk window alone and one beside the caller (alone first, then beside first, in turn), and a last idle caller window. Caller: HttpClient, 1 connection, a blocked thread; bulk: {bulkDriver}. The caller's tail is over every request it finished inside the bulk windows.");
        Console.WriteLine();
        Console.WriteLine("| stream | windows | requests | non-200 | sentences/s | p50 ms | p95 ms | p99 ms | max ms | server p50 ms: total / queue / inference |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        StreamRow("caller, idle service", r.CallerIdle, r.Idle);
        StreamRow("caller, under bulk", r.CallerUnderBulk, r.UnderBulk);
        StreamRow("bulk alone", r.BulkAlone, r.Alone);
        StreamRow("bulk beside the caller", r.BulkWithCaller, r.WithCaller);
        Console.WriteLine();
        Console.WriteLine("| measure | value | target | met |");
        Console.WriteLine("|---|---:|---:|:---:|");
        var idleP50 = r.Idle.P50Ms;
        Row("caller p95 under bulk / its idle p50", r.TailOverIdle(95), "x", "<= 15x", v => v <= 15,
            $"{r.UnderBulk.Latency.PercentileMs(95):F1} / {idleP50:F2} ms");
        Row("caller p99 under bulk / its idle p50", r.TailOverIdle(99), "x", "<= 30x", v => v <= 30,
            $"{r.UnderBulk.P99Ms:F1} / {idleP50:F2} ms");
        Row("caller max under bulk", r.UnderBulk.Latency.PercentileMs(100), " ms", "<= 1000 ms", v => v <= 1000,
            $"{r.UnderBulk.Requests} requests", "F0");
        Row("bulk beside the caller / bulk alone", r.BulkRatio, "x", ">= 0.85x", v => v >= 0.85,
            $"{r.WithCaller.SentencesPerSecond:F0} / {r.Alone.SentencesPerSecond:F0} sentences/s; rounds {Range(r.RoundBulkRatios, "F3")}");
        // As in the other levels, a fast error would flatter the latency.
        Row("non-200 answers, this level", r.Failed, "", "0", v => v == 0, "caller and bulk, lead-ins included", "F0");
        Console.WriteLine();
    }

    private static void StreamRow(string name, IReadOnlyList<LoadResult> windows, LoadResult all) =>
        Console.WriteLine($"| {name} | {windows.Count} x {all.Seconds / windows.Count:F0} s | {all.Requests} | {all.Failed} | {all.SentencesPerSecond:F0} | {all.P50Ms:F2} | {all.Latency.PercentileMs(95):F2} | {all.P99Ms:F2} | {all.Latency.PercentileMs(100):F2} | {Ms(all.Server.TotalP50Ms)} / {Ms(all.Server.QueueP50Ms)} / {Ms(all.Server.InferenceP50Ms)} |");

    private static void PeakRssAndReady(double peakRssMb, TimeSpan ready)
    {
        Console.WriteLine($"Peak RSS of the service process (VmHWM, every model in its appsettings.json loaded): {peakRssMb:F0} MB; process start to /health 200: {ready.TotalSeconds:F2} s");
        Console.WriteLine();
    }

    /// <summary>The targets, each from the raw and service windows taken in turn (the raw phase's figure beside it).</summary>
    public static void Ratios(IReadOnlyList<RawResult> rawPhase, IReadOnlyList<LevelResult> levels, double peakRssMb, TimeSpan ready)
    {
        var floor = Level(levels, "http floor", 1).Service;
        var at1 = Level(levels, "short", 1);
        var at64 = Level(levels, "short", 64);
        var mixed = Level(levels, "mixed", ServiceLoad.MixedConnections);

        Console.WriteLine("## Ratios to the plain ONNX Runtime loop (issue 3 and 17 targets)");
        Console.WriteLine($"Raw and service measured in turn: {at64.ServiceWindows.Count} rounds per target, each a raw window and a service window, in the order raw, service, service, raw, raw, ….");
        Console.WriteLine();
        Console.WriteLine("| measure | value | target | met |");
        Console.WriteLine("|---|---:|---:|:---:|");
        var bestShort = RawRun.BestShort(rawPhase);
        Row("service@64 / plain best short", at64.Service.SentencesPerSecond / at64.Raw!.SentencesPerSecond, "x", ">= 0.9x", v => v >= 0.9,
            $"{at64.Service.SentencesPerSecond:F0} / {at64.Raw.SentencesPerSecond:F0} ({at64.Raw.Layout}, batch {at64.Raw.BatchSize}); rounds {Range(Rounds(at64, static (s, r) => s.SentencesPerSecond / r.SentencesPerSecond), "F3")}; against the raw phase's {bestShort.SentencesPerSecond:F0}: {at64.Service.SentencesPerSecond / bestShort.SentencesPerSecond:F3}");
        var loneFloor = RawRun.LoneFloor(rawPhase);
        Row("p50@1 - plain batch-1 p50", at1.Service.P50Ms - at1.Raw!.P50Ms, " ms", "<= +1 ms", v => v <= 1,
            $"{at1.Service.P50Ms:F2} - {at1.Raw.P50Ms:F2} ({at1.Raw.Layout}); rounds {Range(Rounds(at1, static (s, r) => s.P50Ms - r.P50Ms), "+0.00;-0.00;+0.00")}; raw phase floor {loneFloor.P50Ms:F2}; the HTTP round trip alone takes {floor.P50Ms:F2}");
        Row("p99@64 / p50@64", at64.Service.P99Ms / at64.Service.P50Ms, "x", "<= 3x", v => v <= 3,
            $"{at64.Service.P99Ms:F1} / {at64.Service.P50Ms:F1} ms; windows {Range(at64.ServiceWindows.Select(static w => w.P99Ms / w.P50Ms), "F2")}");
        var bestMixed = RawRun.BestMixed(rawPhase);
        Row("mixed / plain sorted best", mixed.Service.SentencesPerSecond / mixed.Raw!.SentencesPerSecond, "x", ">= 0.9x", v => v >= 0.9,
            $"{mixed.Service.SentencesPerSecond:F0} / {mixed.Raw.SentencesPerSecond:F0} ({mixed.Raw.Layout}, batch {mixed.Raw.BatchSize}); rounds {Range(Rounds(mixed, static (s, r) => s.SentencesPerSecond / r.SentencesPerSecond), "F3")}; against the raw phase's {bestMixed.SentencesPerSecond:F0}: {mixed.Service.SentencesPerSecond / bestMixed.SentencesPerSecond:F3}");
        Row("peak RSS, all configured models", peakRssMb, " MB", "<= 500 MB", v => v <= 500, "VmHWM");
        Row("start to ready", ready.TotalSeconds, " s", "<= 3 s", v => v <= 3, "Process.Start to /health 200");
        // A fast error answer would flatter latency and, with wrk, count in its histogram: every request must be answered 200.
        Row("non-200 answers, all levels", levels.Sum(static l => l.Service.Failed), "", "0", v => v == 0, "lead-ins included", "F0");
        Console.WriteLine();
    }

    /// <summary>The int8 variant against the plain fp32 ruler, a plain int8 loop, and the fp32 model's latency (issue 18).</summary>
    public static void Int8(Int8Result r)
    {
        var cpu = File.Exists("/proc/cpuinfo") && File.ReadAllText("/proc/cpuinfo").Contains(" avx512_vnni", StringComparison.Ordinal) ? "AVX-512 VNNI" : "no AVX-512 VNNI";
        Console.WriteLine($"## The int8 variant ({r.Model}; this CPU: {cpu})");
        Console.WriteLine("The plain loop on the int8 model folder, each configuration once (the best is measured again in the rounds):");
        Console.WriteLine();
        Console.WriteLine("| plain int8 configuration | sentences/s | p50 per batch ms |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var p in r.PlainPhase)
        {
            Console.WriteLine($"| {p.Layout}, batch {p.BatchSize} | {p.SentencesPerSecond:F0} | {p.P50Ms:F2} |");
        }

        Console.WriteLine();
        Console.WriteLine($"{r.RoundRatiosToFp32.Count} rounds of a plain fp32 window, an int8 service window at 64 connections and a plain int8 window (in turn), then {r.RoundRatiosToFp32.Count} rounds of a 1-connection window on each model.");
        Console.WriteLine();
        Console.WriteLine("| measure | value | target | met |");
        Console.WriteLine("|---|---:|---:|:---:|");
        Row("int8 service@64 / plain fp32 best", r.ServiceInt8.SentencesPerSecond / r.PlainFp32.SentencesPerSecond, "x", ">= 2.2x", static v => v >= 2.2,
            $"{r.ServiceInt8.SentencesPerSecond:F0} / {r.PlainFp32.SentencesPerSecond:F0} ({r.PlainFp32.Layout}, batch {r.PlainFp32.BatchSize}); rounds {Range(r.RoundRatiosToFp32, "F3")}");
        Row("int8 service@64 / plain int8 best", r.ServiceInt8.SentencesPerSecond / r.PlainInt8.SentencesPerSecond, "x", ">= 0.9x", static v => v >= 0.9,
            $"{r.ServiceInt8.SentencesPerSecond:F0} / {r.PlainInt8.SentencesPerSecond:F0} ({r.PlainInt8.Layout}, batch {r.PlainInt8.BatchSize}); rounds {Range(r.RoundRatiosToInt8, "F3")}");
        Row("int8 p50@1 / fp32 p50@1, through the service", r.Int8At1.P50Ms / r.Fp32At1.P50Ms, "x", "<= 0.6x", static v => v <= 0.6,
            $"{r.Int8At1.P50Ms:F2} / {r.Fp32At1.P50Ms:F2} ms; p99 {r.Int8At1.P99Ms:F2} / {r.Fp32At1.P99Ms:F2} ms");
        Row("int8 level: non-200 answers", r.ServiceInt8.Failed + r.Int8At1.Failed + r.Fp32At1.Failed, "", "0", static v => v == 0, "every window", "F0");
        Console.WriteLine();
        Console.WriteLine($"That service (the configured models and {r.Model}): process start to /health 200 {r.Ready.TotalSeconds:F2} s, peak RSS (VmHWM) after the level {r.PeakRssMb:F0} MB.");
        Console.WriteLine();
    }

    private static LevelResult Level(IReadOnlyList<LevelResult> levels, string name, int connections) =>
        levels.Single(l => l.Service.Name == name && l.Service.Connections == connections);

    /// <summary>A measure of each round: its service window against its raw window.</summary>
    private static IEnumerable<double> Rounds(LevelResult level, Func<LoadResult, RawResult, double> measure) =>
        level.ServiceWindows.Zip(level.RawWindows, measure);

    private static string Range(IEnumerable<double> values, string format)
    {
        var all = values.ToArray();
        return $"{all.Min().ToString(format, CultureInfo.InvariantCulture)} to {all.Max().ToString(format, CultureInfo.InvariantCulture)}";
    }

    public static void Cache(CacheResult r)
    {
        Console.WriteLine($"## The embedding cache (service A: Cache:MaxBytes {r.MaxBytes / 1048576.0:F0} MiB; service B: 0, off)");
        var fill = r.FillSeconds > 0
            ? string.Create(CultureInfo.InvariantCulture, $"A's cache was first filled for {r.FillSeconds:F0} s with sentences it never saw again.")
            : "A's cache was not filled first (--quick).";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Zipf stream: s = {r.Stream.Exponent} over {r.Stream.Sentences:N0} sentences, one per request (the top 100 are {r.Stream.ShareOfTop(100):P0} of it, the top 1,000 {r.Stream.ShareOfTop(1000):P0}); {r.ZipfRatios.Count} rounds, windows in turn. {fill}"));
        Console.WriteLine();
        Console.WriteLine("| load | service | requests | non-200 | requests/s | cache hits / request | p50 ms | p99 ms |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (load, service, w) in new[]
        {
            ("Zipf, 64 connections", "A (cache)", r.ZipfOn), ("Zipf, 64 connections", "B (no cache)", r.ZipfOff),
            ("distinct, 64 connections", "A (cache)", r.DistinctOn), ("distinct, 64 connections", "B (no cache)", r.DistinctOff),
            ("distinct, 64 connections, Cache-Control: no-store", "A (cache held, not used)", r.DistinctBypass!),
            ("cached sentence, 1 connection", "A (cache)", r.HitAt1), ("new sentence, 1 connection", "A (cache)", r.MissAt1),
        })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {load} | {service} | {w.Requests} | {w.Failed} | {w.RequestsPerSecond:F0} | {w.CacheHits / (double)Math.Max(1, w.Requests):F3} | {w.P50Ms:F2} | {w.P99Ms:F2} |"));
        }

        Console.WriteLine();
        Console.WriteLine("| measure | value | target | met |");
        Console.WriteLine("|---|---:|---:|:---:|");
        Row("Zipf 64c: cache on / off", r.ZipfOn.RequestsPerSecond / r.ZipfOff.RequestsPerSecond, "x", ">= 3x", static v => v >= 3,
            string.Create(CultureInfo.InvariantCulture, $"{r.ZipfOn.RequestsPerSecond:F0} / {r.ZipfOff.RequestsPerSecond:F0} requests/s, hit ratio {r.ZipfOn.CacheHits / (double)Math.Max(1, r.ZipfOn.Requests):P1}; rounds {Range(r.ZipfRatios, "F2")}"));
        Row("1c: cached sentence p50 / new sentence p50", r.HitAt1.P50Ms / r.MissAt1.P50Ms, "x", "<= 0.5x", static v => v <= 0.5,
            string.Create(CultureInfo.InvariantCulture, $"{r.HitAt1.P50Ms:F2} / {r.MissAt1.P50Ms:F2} ms; p99 {r.HitAt1.P99Ms:F2} / {r.MissAt1.P99Ms:F2} ms"));
        Row("all-distinct 64c: cache on / off", r.DistinctOn.RequestsPerSecond / r.DistinctOff.RequestsPerSecond, "x", ">= 0.97x", static v => v >= 0.97,
            string.Create(CultureInfo.InvariantCulture, $"{r.DistinctOn.RequestsPerSecond:F0} / {r.DistinctOff.RequestsPerSecond:F0} sentences/s; rounds {Range(r.DistinctRatios, "F3")}"));
        var bound = 500 + r.MaxBytes / 1048576.0;
        Row("peak RSS with the cache", r.PeakRssMbOn, " MB", $"<= {bound:F0} MB", v => v <= bound,
            string.Create(CultureInfo.InvariantCulture, $"A after the level, its cache {r.CacheAtEnd.Bytes / 1048576.0:F1} MiB in {r.CacheAtEnd.Entries:N0} entries; B {r.PeakRssMbOff:F0} MB"), "F0");
        Row("cache level: non-200 answers", r.Failed, "", "0", static v => v == 0, "every window", "F0");
        Console.WriteLine();
    }

    private static void Row(string name, double value, string unit, string target, Func<double, bool> met, string detail, string? format = null)
    {
        var text = value.ToString(format ?? (value < 10 ? "F3" : "F0"), CultureInfo.InvariantCulture) + unit;
        s_targets.Add((name, text, target, met(value)));
        Console.WriteLine($"| {name} ({detail}) | {text} | {target} | {(met(value) ? "yes" : "NO")} |");
    }

    /// <summary>The targets of the whole run in one table (the details are in the sections above).</summary>
    public static void Targets()
    {
        if (s_targets.Count == 0)
        {
            return;
        }

        Console.WriteLine();
        Console.WriteLine($"## Targets of this run: {s_targets.Count(static t => t.Met)} of {s_targets.Count} met");
        Console.WriteLine("| measure | value | target | met |");
        Console.WriteLine("|---|---:|---:|:---:|");
        foreach (var (name, value, target, met) in s_targets)
        {
            Console.WriteLine($"| {name} | {value} | {target} | {(met ? "yes" : "NO")} |");
        }
    }

    /// <summary>A median in ms, or a dash where the endpoint reports no timings (the HTTP floor's health route).</summary>
    private static string Ms(double value) => double.IsNaN(value) ? "-" : value.ToString("F2", CultureInfo.InvariantCulture);

    public static string CpuModel()
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

    public static void Documents(DocumentResult result)
    {
        Console.WriteLine();
        Console.WriteLine($"## Whole documents (POST /embed_chunks, {DocumentChunks.Connections} connections, one document per request)");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{result.Documents} documents of ~{DocumentChunks.DocumentWords} words: {result.Chunks} chunks at the default budget, {result.ChunkTokens} chunk tokens (special tokens excluded). The raw loop runs the same chunks (the library's tokenizer, chunk planner and runner; no HTTP, no batcher; tokenizing not timed), sorted by length; its best configuration and the service take their windows in turn, each window every document once."));
        Console.WriteLine();
        Console.WriteLine("| raw configuration (raw phase) | chunks/s | p50 per batch ms |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var r in result.RawPhase)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Layout}, batch {r.BatchSize} | {r.SentencesPerSecond:F1} | {r.P50Ms:F1} |"));
        }

        Console.WriteLine();
        var best = result.RawBest;
        var requests = LatencyStats.Pool(result.ServiceWindows.Select(static w => w.Latency));
        Console.WriteLine("| measure | value | target | met |");
        Console.WriteLine("|---|---:|---:|:---:|");
        Row("whole documents: chunk tokens/s, service / library runner", result.Ratio, "x", ">= 0.9x", static v => v >= 0.9, string.Create(CultureInfo.InvariantCulture,
            $"{result.ServiceTokensPerSecond:F0} / {result.RawTokensPerSecond:F0} ({best.Layout}, batch {best.BatchSize}); rounds {string.Join(", ", result.RoundRatios.Select(static r => r.ToString("F3", CultureInfo.InvariantCulture)))}; p50 per document {requests.PercentileMs(50):F0} ms"));
        Row("whole documents: non-200 answers", result.Failed, "", "0", static v => v == 0, "every request", "F0");
    }
}
