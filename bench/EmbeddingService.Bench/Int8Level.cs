using System.Text.Json;

namespace EmbeddingService.Bench;

/// <summary>What the int8 level measured (issue 18): its service and plain windows, each pooled over the rounds.</summary>
/// <param name="PlainPhase">The plain loop's configurations on the int8 model, tried once; the best is measured in the rounds.</param>
/// <param name="PlainFp32">The plain loop's best fp32 configuration (the run's ruler), in the rounds.</param>
/// <param name="PlainInt8">The plain loop's best int8 configuration, in the rounds.</param>
/// <param name="ServiceInt8">The service at 64 connections on the int8 model, in the rounds.</param>
/// <param name="Fp32At1">The service at 1 connection on the fp32 model, in turn with <paramref name="Int8At1"/>.</param>
/// <param name="Int8At1">The service at 1 connection on the int8 model.</param>
/// <param name="Ready">The int8 level's service: process start to ready, with the int8 variant added.</param>
/// <param name="PeakRssMb">The int8 level's service: peak RSS after the level.</param>
internal sealed record Int8Result(string Model, IReadOnlyList<RawResult> PlainPhase, RawResult PlainFp32, RawResult PlainInt8, LoadResult ServiceInt8,
    LoadResult Fp32At1, LoadResult Int8At1, IReadOnlyList<double> RoundRatiosToFp32, IReadOnlyList<double> RoundRatiosToInt8)
{
    public TimeSpan Ready { get; init; }

    public double PeakRssMb { get; init; }
}

/// <summary>
/// The int8 variant, on a service of its own with the variant added, against the same rulers as fp32: the plain loop's best fp32 configuration (the run's ruler) and a
/// plain loop on the int8 model folder (bench/PlainOnnxBaseline, a process per window, the same short sentences), then
/// one-connection latency of the fp32 and int8 models through the service. Every comparison is made of windows taken in
/// turn in the same minutes, as the other levels are: each 64-connection round is a plain fp32 window, a service window and
/// a plain int8 window (the order turned round every other round), each 1-connection round a window of each model.
/// </summary>
internal static class Int8Level
{
    /// <summary>Rounds of each comparison: fewer than the fp32 targets' 10, since int8 is 2-3× fp32 and the ratios it is
    /// held to leave room; about 2 minutes in all.</summary>
    private static int Rounds(BenchOptions options) => options.Quick ? 2 : 6;

    /// <summary>The int8 variant of <paramref name="model"/> as the build names it.</summary>
    public static string VariantOf(string model) => model + "-int8";

    /// <summary>
    /// Starts a service of its own with the int8 variant of the run's model added to the configured models (as README
    /// says to enable it: the variants are not loaded by default), measures it, and stops it.
    /// </summary>
    /// <returns>Null, with the reason printed, where the build made no int8 variant of the run's model.</returns>
    public static async Task<Int8Result?> MeasureAsync(Workloads workloads, BenchOptions options, RawRun rawRun, RawResult plainFp32Best)
    {
        var model = VariantOf(options.Model);
        var modelDir = Path.Combine(Path.GetDirectoryName(options.ServiceDll)!, "models", model);
        if (!Directory.Exists(modelDir))
        {
            Console.WriteLine($"(int8 level skipped: no folder {modelDir}.)");
            Console.WriteLine();
            return null;
        }

        // Appended after the configured items (the configuration binder appends an array's children in key order); on a
        // free port, as the first service may hold the one asked for.
        var withInt8 = options with
        {
            Port = 0,
            ServiceEnvironment = [.. options.ServiceEnvironment, new("Models__Items__8__Id", model), new("Models__Items__8__Path", $"models/{model}")],
        };
        await using var service = await ServiceProcess.StartAsync(withInt8);
        using var httpClientDriver = new LoadDriver(service.BaseAddress);
        using var wrk = options.Driver == LoadDriverChoice.HttpClient ? null : WrkDriver.TryCreate(service.BaseAddress);
        ILoadDriver driver = (ILoadDriver?)wrk ?? httpClientDriver;
        await ServiceLoad.EnsureEmbedsAsync(httpClientDriver.Client, model);
        await ServiceLoad.WarmUpAsync(driver, service, new LoadBodies(workloads, model), options);
        var result = await MeasureAsync(driver, service, workloads, options, rawRun, plainFp32Best, model, modelDir);
        return result with { Ready = service.TimeToReady, PeakRssMb = service.PeakRssMb() };
    }

    private static async Task<Int8Result> MeasureAsync(ILoadDriver driver, ServiceProcess service, Workloads workloads, BenchOptions options,
        RawRun rawRun, RawResult plainFp32Best, string model, string modelDir)
    {
        var rounds = Rounds(options);
        var configurations = RawRun.PlainShortConfigurations;
        using var progress = BenchProgress.Begin($"int8 variant ({model}) beside fp32 and the plain loops", configurations.Count + 2 * rounds);
        var phase = new List<RawResult>();
        foreach (var (layout, batch) in configurations)
        {
            phase.Add(rawRun.PlainShort(modelDir, layout, batch, options.RawSeconds));
            progress.Advance();
        }

        var best = phase.MaxBy(static r => r.SentencesPerSecond)!;
        // A block of distinct sentences per window, as in the other levels.
        var int8Bodies = new LoadBodies(workloads, model);
        var fp32Bodies = new LoadBodies(workloads, options.Model);
        var window = options.RoundWindowSeconds;
        var jitter = new Random(17);

        var plainFp32 = new List<RawResult>();
        var plainInt8 = new List<RawResult>();
        var serviceInt8 = new List<LoadResult>();
        for (var round = 0; round < rounds; round++)
        {
            // plain fp32, service, plain int8; then plain int8, service, plain fp32: a drift weighs on both rulers alike.
            Func<RawResult>[] plains = [() => rawRun.Again(plainFp32Best), () => rawRun.PlainShort(modelDir, best.Layout, best.BatchSize, window)];
            var first = round % 2 == 0 ? 0 : 1;
            var a = plains[first]();
            serviceInt8.Add(ServiceLoad.LogWindow(await driver.RunAsync("int8 short", 64, 1, int8Bodies.ShortBlock(), 1 + jitter.NextDouble(), window, service)));
            var b = plains[1 - first]();
            plainFp32.Add(first == 0 ? a : b);
            plainInt8.Add(first == 0 ? b : a);
            progress.Advance();
        }

        var fp32At1 = new List<LoadResult>();
        var int8At1 = new List<LoadResult>();
        for (var round = 0; round < rounds; round++)
        {
            async Task<LoadResult> Window(string name, LoadBodies bodies) =>
                ServiceLoad.LogWindow(await driver.RunAsync(name, 1, 1, bodies.ShortBlock(), 1 + jitter.NextDouble(), window, service));

            if (round % 2 == 0)
            {
                fp32At1.Add(await Window("short", fp32Bodies));
                int8At1.Add(await Window("int8 short", int8Bodies));
            }
            else
            {
                int8At1.Add(await Window("int8 short", int8Bodies));
                fp32At1.Add(await Window("short", fp32Bodies));
            }

            progress.Advance();
        }

        return new Int8Result(model, phase, RawResult.Combine(plainFp32), RawResult.Combine(plainInt8), LoadResult.Combine(serviceInt8),
            LoadResult.Combine(fp32At1), LoadResult.Combine(int8At1),
            serviceInt8.Zip(plainFp32, static (s, p) => s.SentencesPerSecond / p.SentencesPerSecond).ToArray(),
            serviceInt8.Zip(plainInt8, static (s, p) => s.SentencesPerSecond / p.SentencesPerSecond).ToArray());
    }
}
