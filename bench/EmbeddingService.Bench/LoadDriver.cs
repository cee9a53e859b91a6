using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace EmbeddingService.Bench;

/// <summary>One HTTP load level's result.</summary>
internal sealed record LoadResult(string Name, int Connections, int SentencesPerRequest, long Requests, long Failed,
    double SentencesPerSecond, double P50Ms, double P99Ms, double RssMb, ServerTimings Server,
    double ServiceCores, double DriverCores);

/// <summary>Medians of the service's own timing headers over a load level's successful requests: where the time went.</summary>
internal sealed record ServerTimings(double TotalP50Ms, double QueueP50Ms, double InferenceP50Ms);

/// <summary>
/// A closed-loop HTTP load generator: <c>connections</c> workers, each with one request in flight at a time over its own
/// keep-alive connection (HTTP/1.1, <see cref="SocketsHttpHandler"/> with enough connections), for a fixed time after a warm-up.
/// </summary>
internal sealed class LoadDriver : IDisposable
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    private readonly HttpClient _client;

    public LoadDriver(Uri baseAddress)
    {
        _client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1024,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public HttpClient Client => _client;

    /// <summary>Runs <paramref name="connections"/> workers; request number <c>i</c> posts <paramref name="body"/>(i) to
    /// <c>/embed</c>, or, when <paramref name="body"/> is null, is a <c>GET /health/live</c> (the HTTP round trip alone).</summary>
    public async Task<LoadResult> RunAsync(string name, int connections, int sentencesPerRequest, Func<long, byte[]>? body,
        double warmupSeconds, double seconds, ServiceProcess service)
    {
        long next = 0;
        var startAt = long.MaxValue;
        var stopAt = long.MaxValue;
        var workers = new Task<(LatencyStats Latency, long Failed, ServerTimingStats Server)>[connections];
        for (var w = 0; w < connections; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                var latency = new LatencyStats();
                var server = new ServerTimingStats();
                long failed = 0;
                var buffer = new byte[16 * 1024];
                while (Stopwatch.GetTimestamp() < Volatile.Read(ref stopAt))
                {
                    var content = body is null ? null : new ByteArrayContent(body(Interlocked.Increment(ref next) - 1));
                    if (content is not null)
                    {
                        content.Headers.ContentType = s_json;
                    }

                    var began = Stopwatch.GetTimestamp();
                    using var response = content is null
                        ? await _client.GetAsync("health/live", CancellationToken.None).ConfigureAwait(false)
                        : await _client.PostAsync("embed", content, CancellationToken.None).ConfigureAwait(false);
                    await using (var stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false))
                    {
                        while (await stream.ReadAsync(buffer).ConfigureAwait(false) > 0)
                        {
                        }
                    }

                    var ended = Stopwatch.GetTimestamp();
                    // Requests that end inside the measured window count (throughput = completions per second).
                    if (ended >= Volatile.Read(ref startAt) && ended <= Volatile.Read(ref stopAt))
                    {
                        if (response.StatusCode == HttpStatusCode.OK)
                        {
                            latency.Add(ended - began);
                            server.Add(response.Headers);
                        }
                        else
                        {
                            failed++;
                        }
                    }
                }

                return (latency, failed, server);
            });
        }

        await Task.Delay(TimeSpan.FromSeconds(warmupSeconds));
        var serviceCpuBefore = service.CpuTime();
        var driverCpuBefore = DriverCpuTime();
        var began = Stopwatch.GetTimestamp();
        Volatile.Write(ref stopAt, began + (long)(seconds * Stopwatch.Frequency));
        Volatile.Write(ref startAt, began);
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        var rssAtEnd = service.RssMb();
        // Cores busy on average over the window: the driver shares the machine with the service, so its share is the
        // handicap the service is measured with.
        var serviceCores = (service.CpuTime() - serviceCpuBefore).TotalSeconds / seconds;
        var driverCores = (DriverCpuTime() - driverCpuBefore).TotalSeconds / seconds;
        var results = await Task.WhenAll(workers);
        var elapsed = seconds;

        var all = new LatencyStats();
        var allServer = new ServerTimingStats();
        long failedTotal = 0;
        foreach (var (latency, failed, server) in results)
        {
            all.AddRange(latency);
            allServer.AddRange(server);
            failedTotal += failed;
        }

        return new LoadResult(name, connections, sentencesPerRequest, all.Count, failedTotal,
            all.Count * (double)sentencesPerRequest / elapsed, all.PercentileMs(50), all.PercentileMs(99), rssAtEnd, allServer.Medians(),
            serviceCores, driverCores);
    }

    public void Dispose() => _client.Dispose();

    private static TimeSpan DriverCpuTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }
}
