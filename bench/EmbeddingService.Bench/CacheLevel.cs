using System.Net.Http.Json;
using System.Text.Json;

namespace EmbeddingService.Bench;

/// <summary>What the cache level measured (issue 19): services A (the cache on, as configured) and B (<c>Cache__MaxBytes=0</c>).</summary>
/// <param name="ZipfOn">A under the Zipf query stream at 64 connections, its windows pooled.</param>
/// <param name="ZipfOff">B under the same stream.</param>
/// <param name="HitAt1">A at 1 connection on sentences it has cached.</param>
/// <param name="MissAt1">A at 1 connection on sentences it has never seen.</param>
/// <param name="DistinctOn">A at 64 connections on sentences it has never seen (every lookup a miss).</param>
/// <param name="DistinctOff">B on the same kind of load.</param>
/// <param name="FillSeconds">How long A ran distinct sentences before the rounds to fill its cache (0: not filled).</param>
internal sealed record CacheResult(LoadResult ZipfOn, LoadResult ZipfOff, LoadResult HitAt1, LoadResult MissAt1, LoadResult DistinctOn, LoadResult DistinctOff,
    IReadOnlyList<double> ZipfRatios, IReadOnlyList<double> DistinctRatios, double FillSeconds)
{
    public required ZipfStream Stream { get; init; }

    public long MaxBytes { get; init; }

    /// <summary>A at 64 connections on new sentences sent with <c>Cache-Control: no-store</c>: the same process, its cache
    /// held but not used, to tell the cache's own cost from a difference between the two processes.</summary>
    public LoadResult? DistinctBypass { get; init; }

    /// <summary>A's cache after the level, as its <c>/info</c> says: bytes and entries.</summary>
    public (long Bytes, long Entries) CacheAtEnd { get; init; }

    public double PeakRssMbOn { get; init; }

    public double PeakRssMbOff { get; init; }

    public long Failed => ZipfOn.Failed + ZipfOff.Failed + HitAt1.Failed + MissAt1.Failed + DistinctOn.Failed + DistinctOff.Failed;
}

/// <summary>
/// The embedding cache (issue 19), on two services of its own started side by side from the same build: A with the cache
/// as configured (64 MiB) and B with <c>Cache__MaxBytes=0</c>; each is measured in windows taken in turn with the
/// other's (A, B, then B, A), so a drift of the shared machine weighs on both alike. Where the full run has the time, A's
/// cache is first filled to its bound with sentences it never sees again, so the rounds run against a full cache that
/// evicts (the worst case for what a miss costs) and its peak RSS includes a full cache.
/// <list type="bullet">
/// <item>a Zipf query stream (s = 1.1 over 10,000 sentences, one per request, 64 connections): each service reads its own
/// continuation of the same stream, after a warm-up stretch of it, so A's cache is as warm as it would be after that much
/// traffic;</item>
/// <item>1 connection on A: a sentence it has cached against one it has never seen;</item>
/// <item>all-distinct sentences at 64 connections on A and on B: what the cache costs when it only misses.</item>
/// </list>
/// </summary>
internal static class CacheLevel
{
    public const int ZipfSentences = 10_000;
    public const double ZipfExponent = 1.1;

    /// <summary>Sentences A has cached before its hit windows: the 1-connection hit windows cycle through them.</summary>
    private const int HitSentences = 200;

    /// <summary>Hits answer far faster than forward passes: room for that many requests per second, so no body repeats.</summary>
    private const int HitRequestsPerSecondCeiling = 30_000;

    private static int Rounds(BenchOptions options) => options.Quick ? 2 : 6;

    public static async Task<CacheResult> MeasureAsync(Workloads workloads, BenchOptions options)
    {
        var on = options with { Port = 0 };
        var off = options with { Port = 0, ServiceEnvironment = [.. options.ServiceEnvironment, new("Cache__MaxBytes", "0")] };
        await using var serviceOn = await ServiceProcess.StartAsync(on);
        await using var serviceOff = await ServiceProcess.StartAsync(off);
        using var clientOn = new LoadDriver(serviceOn.BaseAddress);
        using var clientOff = new LoadDriver(serviceOff.BaseAddress);
        using var wrkOn = options.Driver == LoadDriverChoice.HttpClient ? null : WrkDriver.TryCreate(serviceOn.BaseAddress);
        using var wrkOff = options.Driver == LoadDriverChoice.HttpClient ? null : WrkDriver.TryCreate(serviceOff.BaseAddress);
        ILoadDriver driverOn = (ILoadDriver?)wrkOn ?? clientOn;
        ILoadDriver driverOff = (ILoadDriver?)wrkOff ?? clientOff;
        await ServiceLoad.EnsureEmbedsAsync(clientOn.Client, options.Model);
        await ServiceLoad.EnsureEmbedsAsync(clientOff.Client, options.Model);
        var (maxBytes, _, _) = await CacheInfoAsync(clientOn.Client);
        if (maxBytes == 0 || (await CacheInfoAsync(clientOff.Client)).MaxBytes != 0)
        {
            throw new InvalidOperationException("The cache level needs the cache on in service A (Cache:MaxBytes > 0) and off in B.");
        }

        var bodiesOn = new LoadBodies(workloads, options.Model);
        var bodiesOff = new LoadBodies(workloads, options.Model);
        await ServiceLoad.WarmUpAsync(driverOn, serviceOn, bodiesOn, options);
        await ServiceLoad.WarmUpAsync(driverOff, serviceOff, bodiesOff, options);

        var rounds = Rounds(options);
        using var progress = BenchProgress.Begin("embedding cache: a service with it beside one without", 2 + 3 * rounds);
        var fillSeconds = options.Quick ? 0 : await FillAsync(driverOn, serviceOn, clientOn.Client, bodiesOn, maxBytes);
        progress.Advance();

        // The Zipf sentences and the hit sentences: far above the indices the load blocks hand out from 0, so no other
        // window of A ever sends one of them.
        var stream = new ZipfStream(ZipfSentences, ZipfExponent, seed: 19);
        var zipfBase = workloads.DistinctShortTexts - ZipfSentences;
        var hitBase = zipfBase - HitSentences;
        var zipfOn = new ZipfReader(workloads, stream, zipfBase, options.Model);
        var zipfOff = new ZipfReader(workloads, stream, zipfBase, options.Model);
        var window = options.RoundWindowSeconds;
        var jitter = new Random(19);

        // The warm-up stretch of the stream: as long as the measured windows together.
        var warmSeconds = rounds * window;
        await driverOn.RunAsync("zipf warm-up", 64, 1, zipfOn.Next(warmSeconds + 2), 0, warmSeconds, serviceOn, requestsPerSecondCeiling: HitRequestsPerSecondCeiling);
        await driverOff.RunAsync("zipf warm-up", 64, 1, zipfOff.Next(warmSeconds + 2), 0, warmSeconds, serviceOff, requestsPerSecondCeiling: HitRequestsPerSecondCeiling);
        await PrimeAsync(clientOn.Client, Enumerable.Range(0, HitSentences).Select(k => workloads.Short(hitBase + k)).ToArray(), options.Model);
        progress.Advance();

        List<LoadResult> zipfWindowsOn = [], zipfWindowsOff = [], distinctOn = [], distinctOff = [], distinctBypass = [], hits = [], misses = [];
        for (var round = 0; round < rounds; round++)
        {
            var leadIn = 1 + jitter.NextDouble();
            async Task ZipfOnAsync() => zipfWindowsOn.Add(ServiceLoad.LogWindow(await driverOn.RunAsync("zipf cache on", 64, 1,
                zipfOn.Next(leadIn + window + 2), leadIn, window, serviceOn, requestsPerSecondCeiling: HitRequestsPerSecondCeiling)));
            async Task ZipfOffAsync() => zipfWindowsOff.Add(ServiceLoad.LogWindow(await driverOff.RunAsync("zipf cache off", 64, 1,
                zipfOff.Next(leadIn + window + 2), leadIn, window, serviceOff, requestsPerSecondCeiling: HitRequestsPerSecondCeiling)));
            async Task DistinctOnAsync() => distinctOn.Add(ServiceLoad.LogWindow(await driverOn.RunAsync("distinct cache on", 64, 1, bodiesOn.ShortBlock(), leadIn, window, serviceOn)));
            async Task DistinctBypassAsync() => distinctBypass.Add(ServiceLoad.LogWindow(await driverOn.RunAsync("distinct cache on, no-store", 64, 1, bodiesOn.ShortBlock(), leadIn, window, serviceOn,
                ILoadDriver.NoStore)));
            async Task DistinctOffAsync() => distinctOff.Add(ServiceLoad.LogWindow(await driverOff.RunAsync("distinct cache off", 64, 1, bodiesOff.ShortBlock(), leadIn, window, serviceOff)));
            async Task HitAsync() => hits.Add(ServiceLoad.LogWindow(await driverOn.RunAsync("cached sentence", 1, 1,
                i => RequestBodies.Embed([workloads.Short(hitBase + (i % HitSentences))], options.Model), leadIn, window, serviceOn,
                requestsPerSecondCeiling: HitRequestsPerSecondCeiling)));
            async Task MissAsync() => misses.Add(ServiceLoad.LogWindow(await driverOn.RunAsync("new sentence", 1, 1,
                bodiesOn.ShortBlock(), leadIn, window, serviceOn)));

            Func<Task>[][] pairs = [[ZipfOnAsync, ZipfOffAsync], [DistinctOnAsync, DistinctOffAsync], [HitAsync, MissAsync]];
            foreach (var pair in pairs)
            {
                // A, B in even rounds; B, A in odd ones.
                await pair[round % 2]();
                await pair[1 - round % 2]();
                progress.Advance();
            }

            await DistinctBypassAsync();
        }

        var cacheAtEnd = await CacheInfoAsync(clientOn.Client);
        return new CacheResult(LoadResult.Combine(zipfWindowsOn), LoadResult.Combine(zipfWindowsOff), LoadResult.Combine(hits), LoadResult.Combine(misses),
            LoadResult.Combine(distinctOn), LoadResult.Combine(distinctOff),
            zipfWindowsOn.Zip(zipfWindowsOff, static (a, b) => a.RequestsPerSecond / b.RequestsPerSecond).ToArray(),
            distinctOn.Zip(distinctOff, static (a, b) => a.RequestsPerSecond / b.RequestsPerSecond).ToArray(), fillSeconds)
        {
            DistinctBypass = LoadResult.Combine(distinctBypass),
            Stream = stream,
            MaxBytes = maxBytes,
            CacheAtEnd = (cacheAtEnd.Bytes, cacheAtEnd.Entries),
            PeakRssMbOn = serviceOn.PeakRssMb(),
            PeakRssMbOff = serviceOff.PeakRssMb(),
        };
    }

    /// <summary>Runs sentences A never sees again through it, in windows of a load block each, until its cache holds 95 %
    /// of its bound (the point where it starts to evict) or two minutes have passed. Returns the seconds it took.</summary>
    private static async Task<double> FillAsync(ILoadDriver driver, ServiceProcess service, HttpClient client, LoadBodies bodies, long maxBytes)
    {
        const double windowSeconds = 10;
        var seconds = 0.0;
        while (seconds < 120 && (await CacheInfoAsync(client)).Bytes < 0.95 * maxBytes)
        {
            await driver.RunAsync("fill the cache", 64, 1, bodies.ShortBlock(), 0, windowSeconds, service);
            seconds += windowSeconds;
        }

        var (_, bytes, entries) = await CacheInfoAsync(client);
        Console.WriteLine($"  cache filled in {seconds:F0} s: {bytes / 1048576.0:F1} MiB in {entries} entries (bound {maxBytes / 1048576.0:F0} MiB)");
        return seconds;
    }

    /// <summary>Embeds each sentence once, one per request (as the hit windows send them), so that A has them cached.</summary>
    private static async Task PrimeAsync(HttpClient client, string[] sentences, string model)
    {
        foreach (var sentence in sentences)
        {
            using var content = new ByteArrayContent(RequestBodies.Embed([sentence], model));
            content.Headers.ContentType = new("application/json");
            using var response = await client.PostAsync("embed", content);
            response.EnsureSuccessStatusCode();
        }
    }

    /// <summary>The service's embedding cache, as its <c>/info</c> says: its bound (0: off), bytes and entries held.</summary>
    public static async Task<(long MaxBytes, long Bytes, long Entries)> CacheInfoAsync(HttpClient client)
    {
        using var info = JsonDocument.Parse(await client.GetStringAsync("info"));
        var cache = info.RootElement.GetProperty("cache");
        return (cache.GetProperty("max_bytes").GetInt64(), cache.GetProperty("bytes").GetInt64(), cache.GetProperty("entries").GetInt64());
    }

    /// <summary>One service's read of the Zipf stream: each window continues where the last one's bodies ended.</summary>
    private sealed class ZipfReader(Workloads workloads, ZipfStream stream, long firstSentence, string model)
    {
        private long _position;

        /// <summary>Bodies for a run of <paramref name="runSeconds"/>, from the stream's next unread position on.</summary>
        public Func<long, byte[]> Next(double runSeconds)
        {
            var first = _position;
            // As many positions as the driver may write for the run (its ceiling per second), all of them this run's.
            _position += (long)Math.Ceiling((runSeconds + 1) * HitRequestsPerSecondCeiling) + 64;
            return i => RequestBodies.Embed([workloads.Short(firstSentence + stream.RankAt(first + i))], model);
        }
    }
}
