using System.Globalization;

namespace EmbeddingService.Bench;

/// <summary>The interactive-under-bulk level's windows: the one-sentence caller on the idle service and under bulk load,
/// and the bulk load alone and beside the caller. <paramref name="BulkAlone"/>[r] and <paramref name="BulkWithCaller"/>[r]
/// are round r's two bulk windows.</summary>
internal sealed record InteractiveResult(IReadOnlyList<LoadResult> CallerIdle, IReadOnlyList<LoadResult> CallerUnderBulk,
    IReadOnlyList<LoadResult> BulkAlone, IReadOnlyList<LoadResult> BulkWithCaller)
{
    public LoadResult Idle { get; } = LoadResult.Combine(CallerIdle);

    public LoadResult UnderBulk { get; } = LoadResult.Combine(CallerUnderBulk);

    public LoadResult Alone { get; } = LoadResult.Combine(BulkAlone);

    public LoadResult WithCaller { get; } = LoadResult.Combine(BulkWithCaller);

    /// <summary>Bulk sentences per second with the caller present over bulk alone, each summed over the rounds.</summary>
    public double BulkRatio => WithCaller.SentencesPerSecond / Alone.SentencesPerSecond;

    /// <summary>The same ratio per round (its with-caller window over its alone window).</summary>
    public IEnumerable<double> RoundBulkRatios => BulkWithCaller.Zip(BulkAlone, static (w, a) => w.SentencesPerSecond / a.SentencesPerSecond);

    /// <summary>The caller's <paramref name="percentile"/> under bulk over its p50 on the idle service.</summary>
    public double TailOverIdle(double percentile) => UnderBulk.Latency.PercentileMs(percentile) / Idle.P50Ms;

    /// <summary>Non-200 answers to the caller and to the bulk load, lead-ins included.</summary>
    public long Failed => new[] { CallerIdle, CallerUnderBulk, BulkAlone, BulkWithCaller }.SelectMany(static w => w).Sum(static w => w.Failed);
}

/// <summary>
/// Whether bulk ingestion starves an interactive caller, and what the caller costs the bulk load: one caller sending one
/// distinct short sentence per request (1 connection, closed loop) beside 8 connections of 32 mixed-length texts per
/// request (the mixed level's load).
/// <para>
/// Fair in three ways. The caller is the same client in every window: the HttpClient driver (<see cref="LoadDriver"/>)
/// with one connection of its own, a thread blocked in a socket read while its request is in flight, so it takes no CPU
/// from the service it waits for, and its p50 on the idle service comes from the same client as its tail under load.
/// The windows come in turn, so a drift in the machine's speed (other jobs share these cores) weighs on both sides of
/// each ratio: each round is a window of the caller on the idle service, then a bulk window alone and a bulk window with
/// the caller, alone first in even rounds and with the caller first in odd ones; a last idle window closes the level.
/// And every window has a lead-in at its own load: a bulk window's is the mixed level's (longer than a request of 32, plus
/// a random 0-1 s, as the mixed level's), and the caller starts with the bulk load, so its first requests (a new
/// connection's, or ones that found the service idle) fall in the lead-in, and the requests counted are those that
/// finish inside the bulk window, while every bulk connection is still sending. An idle window's lead-in lets the
/// service finish what the bulk load left in flight.
/// </para>
/// </summary>
internal static class InteractiveUnderBulk
{
    /// <summary>Lead-in of a caller window on the idle service: the bulk load before it may have left batches running.</summary>
    private const double IdleLeadInSeconds = 1;

    public static async Task<InteractiveResult> MeasureAsync(ILoadDriver bulkDriver, ServiceProcess service, LoadBodies bodies, BenchOptions options)
    {
        using var caller = new LoadDriver(service.BaseAddress);
        var jitter = new Random(13);
        List<LoadResult> idle = [], underBulk = [], alone = [], withCaller = [];

        Task<LoadResult> CallerWindow(string name, double leadIn, double seconds) =>
            caller.RunAsync(name, 1, 1, bodies.ShortBlock(LoadBodies.CallerBlockSize), leadIn, seconds, service);
        Task<LoadResult> BulkWindow(string name, double leadIn) =>
            // Past the embedding cache, as the mixed level: its texts repeat, and bulk ingestion is measured as forward passes.
            bulkDriver.RunAsync(name, ServiceLoad.MixedConnections, ServiceLoad.MixedPerRequest, bodies.Mixed, leadIn, options.BulkWindowSeconds, service,
                ILoadDriver.NoStore);

        async Task BulkAloneAsync() =>
            alone.Add(ServiceLoad.LogWindow(await BulkWindow("bulk alone", options.MixedLeadInSeconds + jitter.NextDouble())));

        async Task BulkWithCallerAsync()
        {
            // Both start now with the same lead-in: the caller's window is the bulk's (with wrk, whose window opens once it
            // has read its bodies, it is inside the bulk's steady load, which runs a second past its window).
            var leadIn = options.MixedLeadInSeconds + jitter.NextDouble();
            var bulk = BulkWindow("bulk with caller", leadIn);
            var call = CallerWindow("caller under bulk", leadIn, options.BulkWindowSeconds);
            await Task.WhenAll(bulk, call);
            withCaller.Add(ServiceLoad.LogWindow(await bulk));
            underBulk.Add(LogCaller(await call));
        }

        using var progress = BenchProgress.Begin("a one-sentence caller under bulk load", options.InteractiveRounds);
        for (var round = 0; round < options.InteractiveRounds; round++)
        {
            progress.Advance();
            idle.Add(LogCaller(await CallerWindow("caller idle", IdleLeadInSeconds, options.RoundWindowSeconds)));
            if (round % 2 == 0)
            {
                await BulkAloneAsync();
                await BulkWithCallerAsync();
            }
            else
            {
                await BulkWithCallerAsync();
                await BulkAloneAsync();
            }
        }

        idle.Add(LogCaller(await CallerWindow("caller idle", IdleLeadInSeconds, options.RoundWindowSeconds)));
        var result = new InteractiveResult(idle, underBulk, alone, withCaller);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  interactive under bulk ({options.InteractiveRounds} round(s)): caller idle p50 {result.Idle.P50Ms:F2} ms; under bulk p95 {result.TailOverIdle(95):F1}x, p99 {result.TailOverIdle(99):F1}x, max {result.UnderBulk.Latency.PercentileMs(100):F0} ms; bulk with caller / alone {result.BulkRatio:F3}; non-200 {result.Failed}"));
        return result;
    }

    private static LoadResult LogCaller(LoadResult r)
    {
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  http {r.Name} x1 window: {r.Requests} requests, p50 {r.P50Ms:F2} ms, p95 {r.Latency.PercentileMs(95):F2} ms, p99 {r.P99Ms:F2} ms, max {r.Latency.PercentileMs(100):F2} ms, non-200 {r.Failed}; server p50 queue {r.Server.QueueP50Ms:F2} ms"));
        return r;
    }
}
