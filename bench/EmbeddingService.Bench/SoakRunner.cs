using System.Diagnostics;

namespace EmbeddingService.Bench;

/// <summary>
/// <c>--soak --minutes N</c> (3 by default): the issue's mix (<see cref="SoakMix"/>) for N minutes. Reports every stream's
/// outcomes by kind and status, the patient and one-sentence streams' latency, the two checks the issue sets (no 5xx, no
/// patient request over its timeout), the service's RSS over time (it must stay flat), that a fresh request is still
/// answered afterwards, and the warnings and errors in the service's log.
/// </summary>
internal sealed class SoakRunner(ServiceProcess service, Workloads workloads, string model)
{
    private static readonly TimeSpan s_sampleEvery = TimeSpan.FromSeconds(15);

    public async Task RunAsync(double minutes)
    {
        var streams = SoakMix.Create(service.BaseAddress, workloads, model);
        try
        {
            var (patient, impatient, caller) = (streams[0], streams[1], streams[3]);
            var rssStart = service.RssMb();
            Console.WriteLine($"Soak: {minutes} min; {SoakMix.Description}.");
            Console.WriteLine($"{"elapsed",8} {"patient 200",12} {"impatient gave up",18} {"caller 200",11} {"5xx",6} {"good sent/s",12} {"RSS MB",8}");
            Console.WriteLine($"{"0 s",8} {0,12} {0,18} {0,11} {0,6} {"",12} {rssStart,8:F0}");

            var began = Stopwatch.GetTimestamp();
            var stopAt = began + (long)(minutes * 60 * Stopwatch.Frequency);
            var running = Task.WhenAll(streams.Select((s, i) => s.RunAsync(stopAt, seed: 1000 * (i + 1))));
            var rssSamples = new List<double> { rssStart };
            long lastSentences = 0;
            var lastTick = began;
            while (!running.IsCompleted)
            {
                await Task.WhenAny(running, Task.Delay(s_sampleEvery));
                var now = Stopwatch.GetTimestamp();
                var sentences = streams.Sum(static s => s.Sentences);
                var rss = service.RssMb();
                rssSamples.Add(rss);
                Console.WriteLine($"{Stopwatch.GetElapsedTime(began).TotalSeconds,6:F0} s {patient.Ok,12} {impatient.GaveUp,18} {caller.Ok,11} {streams.Sum(static s => s.ServerErrors),6} {(sentences - lastSentences) / Stopwatch.GetElapsedTime(lastTick, now).TotalSeconds,12:F0} {rss,8:F0}");
                lastSentences = sentences;
                lastTick = now;
            }

            await running;
            var fresh = await FreshRequestAsync();
            Console.WriteLine();
            PrintOutcomes(streams);
            PrintLatency(patient, caller);
            PrintChecks(streams, patient);
            Console.WriteLine($"RSS: start {rssStart:F0} MB, end {service.RssMb():F0} MB, min {rssSamples.Min():F0} MB, max {rssSamples.Max():F0} MB, peak (VmHWM) {service.PeakRssMb():F0} MB");
            Console.WriteLine($"After the soak a fresh request {fresh}.");
            Console.WriteLine(await CacheSummaryAsync());
            Console.WriteLine();
            ServiceLogSummary.Read(service.LogLines()).Print();
        }
        finally
        {
            foreach (var stream in streams)
            {
                stream.Dispose();
            }
        }
    }

    private static void PrintOutcomes(IReadOnlyList<SoakStream> streams)
    {
        Console.WriteLine("## Soak outcomes by stream, kind and status");
        Console.WriteLine("| stream | kind -> outcome | requests |");
        Console.WriteLine("|---|---|---:|");
        foreach (var stream in streams)
        {
            foreach (var (outcome, count) in stream.Outcomes)
            {
                Console.WriteLine($"| {stream.Name} | {outcome} | {count} |");
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Good sentences embedded: {streams.Sum(static s => s.Sentences)} ({string.Join(", ", streams.Where(static s => s.Sentences > 0).Select(static s => $"{s.Name} {s.Sentences}"))})");
        Console.WriteLine();
    }

    /// <summary>Over every answered request of the stream, whatever its status; requests given up are counted apart.</summary>
    private static void PrintLatency(params SoakStream[] streams)
    {
        Console.WriteLine("| stream | answered | p50 ms | p99 ms | max ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var stream in streams)
        {
            var latency = stream.Latency;
            Console.WriteLine($"| {stream.Name} | {latency.Count} | {latency.PercentileMs(50):F1} | {latency.PercentileMs(99):F1} | {latency.PercentileMs(100):F1} |");
        }

        Console.WriteLine();
    }

    /// <summary>The issue's done-when: no 5xx, and no patient request over its timeout (the client gave up on it).</summary>
    private static void PrintChecks(IReadOnlyList<SoakStream> streams, SoakStream patient)
    {
        var serverErrors = streams.Sum(static s => s.ServerErrors);
        Console.WriteLine($"patient requests over the {SoakMix.Patience.TotalSeconds:F0} s timeout: {patient.GaveUp} — {(patient.GaveUp == 0 ? "PASS" : "FAIL")}");
        Console.WriteLine($"5xx: {serverErrors} ({PerStream(streams, static s => s.ServerErrors)}) — {(serverErrors == 0 ? "PASS" : "FAIL")}");
        // Not one of the issue's checks, but a reset is an answer lost: it must not hide in the outcome table.
        Console.WriteLine($"transport errors (connection failed, not given up): {streams.Sum(static s => s.TransportErrors)} ({PerStream(streams, static s => s.TransportErrors)})");
    }

    private static string PerStream(IEnumerable<SoakStream> streams, Func<SoakStream, long> count) =>
        string.Join(", ", streams.Select(s => $"{s.Name} {count(s)}"));

    private async Task<string> FreshRequestAsync()
    {
        using var client = LoadDriver.CreateClient(service.BaseAddress, SoakMix.Patience);
        try
        {
            await ServiceLoad.EnsureEmbedsAsync(client, model);
            return "was answered correctly — PASS";
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or TaskCanceledException)
        {
            return $"FAILED: {ex.Message}";
        }
    }

    /// <summary>The embedding cache after the soak (on, as configured: the soak's texts repeat), from <c>/info</c> and
    /// <c>/metrics</c>.</summary>
    private async Task<string> CacheSummaryAsync()
    {
        using var client = LoadDriver.CreateClient(service.BaseAddress, TimeSpan.FromSeconds(10));
        var (maxBytes, bytes, entries) = await CacheLevel.CacheInfoAsync(client);
        var metrics = (await client.GetStringAsync("metrics")).Split('\n');
        double Total(string name) => metrics.Where(l => l.StartsWith(name + "{", StringComparison.Ordinal))
            .Sum(static l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        var (hits, misses) = (Total("embedding_cache_hits_total"), Total("embedding_cache_misses_total"));
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Embedding cache: {(maxBytes > 0 ? "on" : "off")}, {bytes / 1048576.0:F1} of {maxBytes / 1048576.0:F0} MiB in {entries} entries; {hits:F0} model inputs served from it, {misses:F0} missed ({hits / Math.Max(1, hits + misses):P1} hits).");
    }
}
