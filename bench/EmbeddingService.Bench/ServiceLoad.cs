using System.Text.Json;

namespace EmbeddingService.Bench;

/// <summary>The raw configurations the targets compare against (chosen in the raw phase), and how to measure one again.</summary>
internal sealed record RawPartners(RawResult LoneFloor, RawResult BestShort, RawResult BestMixed, Func<RawResult, RawResult> Again);

/// <summary>One load level: the service's windows as one measurement and, for a level a target compares with the raw
/// baseline, the raw windows taken in turn with them.</summary>
internal sealed record LevelResult(IReadOnlyList<LoadResult> ServiceWindows, IReadOnlyList<RawResult> RawWindows)
{
    public LoadResult Service { get; } = LoadResult.Combine(ServiceWindows);

    public RawResult? Raw { get; } = RawWindows.Count == 0 ? null : RawResult.Combine(RawWindows);
}

/// <summary>
/// The HTTP load plan: a warm-up (not reported), <c>GET /health/live</c> at 1 connection (the round-trip floor), then one
/// distinct short sentence per request at 1, 8 and 64 connections, then mixed-length requests of 32 texts at 8 connections,
/// measured for three times as long because each request takes over a second. Eight requests of 32 are two scheduling
/// windows: the next window's requests wait while one runs, so the runners never run out of work, as at 64 connections
/// of one sentence. With 4 (one window) all four requests finished together at the end of each window, the runners idled
/// until the clients' next requests came in, and the same service ran 0.965× the inputs per second it runs at 8.
/// (<see cref="InteractiveUnderBulk"/> runs after these levels, on the same warm service.)
/// <para>
/// The levels that targets compare with the raw baseline (1 and 64 connections, mixed) run in rounds: each round is a
/// window of the raw configuration the target compares against and a window of the service, in the order raw, service,
/// service, raw, raw, … (so a slow drift in the machine's speed weighs on both alike), while the other side idles. Other
/// jobs share these cores and change their speed from minute to minute; with the raw phase minutes before the service,
/// the ratios of one run moved by ±0.1 from run to run.
/// </para>
/// </summary>
internal static class ServiceLoad
{
    public const int MixedPerRequest = 32;
    public const int MixedConnections = 8;

    /// <summary>The least lead-in of a short-sentence round's window: the service has been idle while the raw window ran.</summary>
    private const double ShortRoundLeadInSeconds = 1;

    /// <summary>Steady state, not start-up: lets the JIT's tiered recompilation of the request path finish under a moderate
    /// load (it took ~20 % of the CPU for the first seconds) before anything is measured. Start-up is reported as time to
    /// ready.</summary>
    public static async Task WarmUpAsync(ILoadDriver driver, ServiceProcess service, LoadBodies bodies, BenchOptions options)
    {
        var shortBodies = bodies.ShortBlock();
        // Past the embedding cache: the mixed texts repeat, and a warm-up warms the forward pass.
        await driver.RunAsync("warm-up", 8, 1, i => i % 8 == 0 ? bodies.Mixed(i) : shortBodies(i), leadInSeconds: 0, options.Quick ? 3 : 6, service,
            ILoadDriver.NoStore);
    }

    /// <param name="partners">The raw side of the paired levels; null: every level is one window and has no raw side.</param>
    public static async Task<List<LevelResult>> MeasureAsync(ILoadDriver driver, ServiceProcess service, LoadBodies bodies, BenchOptions options,
        RawPartners? partners)
    {
        var results = new List<LevelResult>();
        var rounds = partners is null ? 1 : options.Rounds;
        // Steps: the floor, the 8-connection level, and each round of the paired levels (1 and 64 connections, mixed).
        using var progress = BenchProgress.Begin(partners is null ? "service levels" : "service levels, each round beside the plain loop", 2 + 3 * rounds);
        LevelResult Log(LevelResult level)
        {
            progress.Advance();
            return ServiceLoad.Log(level);
        }

        Task<LevelResult> PairedAsync(RawResult? configuration, Func<Task<LoadResult>> serviceWindow) =>
            ServiceLoad.PairedAsync(rounds, configuration, partners, serviceWindow, progress);

        var leadIn = options.Quick ? 1.0 : 2.0;
        // The HTTP round trip alone (client, loopback, Kestrel, a trivial endpoint): the part of p50@1 that is not embedding.
        results.Add(Log(new([await driver.RunAsync("http floor", 1, 0, body: null, leadIn, options.LoadSeconds / 2, service)], [])));

        // Without a raw side a level is one window of LoadSeconds; with one, rounds of short windows.
        var window = partners is null ? options.LoadSeconds : options.RoundWindowSeconds;
        // Each window of a paired level starts 0-1 s later than the last by chance (fixed seed): mixed answers come in
        // bursts (a window's requests finish together), and windows that all began at the same point of that cycle would
        // all count one burst too many or too few.
        var jitter = new Random(11);
        double RoundLeadIn(double least) => least + jitter.NextDouble();
        results.Add(ServiceLoad.Log(await PairedAsync(partners?.LoneFloor,
            () => driver.RunAsync("short", 1, 1, bodies.ShortBlock(), RoundLeadIn(ShortRoundLeadInSeconds), window, service))));
        results.Add(Log(new([await driver.RunAsync("short", 8, 1, bodies.ShortBlock(), leadIn, options.LoadSeconds, service)], [])));
        results.Add(ServiceLoad.Log(await PairedAsync(partners?.BestShort,
            () => driver.RunAsync("short", 64, 1, bodies.ShortBlock(), RoundLeadIn(ShortRoundLeadInSeconds), window, service))));
        results.Add(ServiceLoad.Log(await PairedAsync(partners?.BestMixed,
            () => driver.RunAsync("mixed", MixedConnections, MixedPerRequest, bodies.Mixed, RoundLeadIn(options.MixedLeadInSeconds), BenchOptions.MixedWindowFactor * window, service,
                // The 4,096 mixed texts come round again every 128 requests: past the embedding cache, the level keeps
                // measuring forward passes against the plain loop. The short levels' texts never repeat: they run with
                // the cache on, every lookup a miss (what the cache costs is the cache level's all-distinct target).
                ILoadDriver.NoStore))));
        return results;
    }

    /// <summary>Fails the run unless <c>/embed</c> returns one non-empty vector per input.</summary>
    public static async Task EnsureEmbedsAsync(HttpClient client, string model)
    {
        using var content = new ByteArrayContent(RequestBodies.Embed(["The bench checks the service.", "Two inputs, two vectors."], model));
        content.Headers.ContentType = new("application/json");
        using var response = await client.PostAsync("embed", content);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /embed answered {(int)response.StatusCode}: {text}");
        }

        using var json = JsonDocument.Parse(text);
        if (json.RootElement.GetArrayLength() != 2 || json.RootElement[0].GetArrayLength() == 0)
        {
            throw new InvalidOperationException($"POST /embed did not return two vectors: {text[..Math.Min(200, text.Length)]}");
        }
    }

    /// <summary><paramref name="rounds"/> rounds of a raw window of <paramref name="configuration"/> and a service window
    /// (<paramref name="serviceWindow"/>) in the order raw, service, service, raw, raw, …; service windows only when
    /// there is no raw side.</summary>
    private static async Task<LevelResult> PairedAsync(int rounds, RawResult? configuration, RawPartners? partners, Func<Task<LoadResult>> serviceWindow,
        BenchProgress.Phase progress)
    {
        var serviceWindows = new List<LoadResult>();
        var rawWindows = new List<RawResult>();
        for (var round = 0; round < rounds; round++)
        {
            if (configuration is not null && round % 2 == 0)
            {
                rawWindows.Add(partners!.Again(configuration));
            }

            serviceWindows.Add(LogWindow(await serviceWindow()));
            if (configuration is not null && round % 2 == 1)
            {
                rawWindows.Add(partners!.Again(configuration));
            }

            progress.Advance();
        }

        return new LevelResult(serviceWindows, rawWindows);
    }

    /// <summary>Prints one window of a level to stderr as it ends.</summary>
    public static LoadResult LogWindow(LoadResult r)
    {
        Console.Error.WriteLine($"  http {r.Name} x{r.Connections} window: {r.SentencesPerSecond:F0} sentences/s, p50 {r.P50Ms:F2} ms, p99 {r.P99Ms:F2} ms, non-200 {r.Failed}");
        return r;
    }

    private static LevelResult Log(LevelResult level)
    {
        var r = level.Service;
        Console.Error.WriteLine($"  http {r.Name} x{r.Connections} ({level.ServiceWindows.Count} window(s)): {r.SentencesPerSecond:F0} sentences/s, p50 {r.P50Ms:F2} ms, p99 {r.P99Ms:F2} ms, non-200 {r.Failed}; server p50 total {r.Server.TotalP50Ms:F2}, queue {r.Server.QueueP50Ms:F2}, inference {r.Server.InferenceP50Ms:F2} ms; cores busy: service {r.ServiceCores:F2}, driver {r.DriverCores:F2}"
            + (level.Raw is { } raw ? $"; raw beside it: {raw.SentencesPerSecond:F0} sentences/s, p50 {raw.P50Ms:F2} ms" : ""));
        return level;
    }
}
