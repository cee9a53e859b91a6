using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace EmbeddingService.Bench;

/// <summary>One HTTP load window's result: <paramref name="Requests"/> answered 200 in <paramref name="Seconds"/>, and their
/// latencies.</summary>
internal sealed record LoadResult(string Name, int Connections, int SentencesPerRequest, long Requests, long Failed,
    double Seconds, LatencyStats Latency, double RssMb, ServerTimings Server, double ServiceCores, double DriverCores)
{
    /// <summary>Model inputs the service said it served from its cache (<c>x-cache-hits</c>) over the window's requests.</summary>
    public long CacheHits { get; init; }

    public double SentencesPerSecond => Requests * (double)SentencesPerRequest / Seconds;

    public double RequestsPerSecond => Requests / Seconds;

    public double P50Ms => Latency.PercentileMs(50);

    public double P99Ms => Latency.PercentileMs(99);

    /// <summary>Windows of one load level as one measurement: requests over the windows' total time, every latency
    /// sample, the medians of the windows' timing medians, busy cores weighted by time, the last window's RSS.</summary>
    public static LoadResult Combine(IReadOnlyList<LoadResult> windows)
    {
        var seconds = windows.Sum(static w => w.Seconds);
        return windows[^1] with
        {
            Requests = windows.Sum(static w => w.Requests),
            CacheHits = windows.Sum(static w => w.CacheHits),
            Failed = windows.Sum(static w => w.Failed),
            Seconds = seconds,
            Latency = LatencyStats.Pool(windows.Select(static w => w.Latency)),
            Server = new ServerTimings(
                Median(windows.Select(static w => w.Server.TotalP50Ms)),
                Median(windows.Select(static w => w.Server.QueueP50Ms)),
                Median(windows.Select(static w => w.Server.InferenceP50Ms))),
            ServiceCores = windows.Sum(w => w.ServiceCores * w.Seconds) / seconds,
            DriverCores = windows.Sum(w => w.DriverCores * w.Seconds) / seconds,
        };
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : (sorted[(sorted.Length - 1) / 2] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>Medians of the service's own timing headers over a load level's successful requests: where the time went.</summary>
internal sealed record ServerTimings(double TotalP50Ms, double QueueP50Ms, double InferenceP50Ms);

/// <summary>
/// A closed-loop HTTP load generator: <c>connections</c> workers, each a thread with one request in flight at a time over
/// its own keep-alive connection (HTTP/1.1, <see cref="SocketsHttpHandler"/> with enough connections), for a fixed time
/// after a warm-up. The workers send and read synchronously, and this process's thread pool does not spin-wait
/// (EmbeddingService.Bench.csproj): the driver shares the cores with the service it measures, so while a request is in
/// flight it should use none of them.
/// </summary>
internal sealed class LoadDriver : ILoadDriver
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    private readonly HttpClient _client;

    public LoadDriver(Uri baseAddress)
    {
        _client = CreateClient(baseAddress, TimeSpan.FromSeconds(60));
    }

    /// <summary>A client with a connection pool of its own (keep-alive HTTP/1.1, no proxy, cookies or decompression), as
    /// the load levels and the soak's streams use.</summary>
    public static HttpClient CreateClient(Uri baseAddress, TimeSpan timeout) =>
        new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1024,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        })
        {
            BaseAddress = baseAddress,
            Timeout = timeout,
        };

    public HttpClient Client => _client;

    public string Name => "HttpClient (one thread per connection, blocking sends)";

    public async Task<LoadResult> RunAsync(string name, int connections, int sentencesPerRequest, Func<long, byte[]>? body,
        double leadInSeconds, double seconds, ServiceProcess service, string? cacheControl = null,
        int requestsPerSecondCeiling = ILoadDriver.DefaultRequestsPerSecondCeiling)
    {
        long cacheHits = 0;
        long next = 0;
        var startAt = long.MaxValue;
        var stopAt = long.MaxValue;
        var results = new (LatencyStats Latency, long Failed, ServerTimingStats Server)[connections];
        var errors = new Exception?[connections];
        var workers = new Thread[connections];
        for (var w = 0; w < connections; w++)
        {
            var id = w;
            // Blocking sends on a thread, not async workers: an async client's thread-pool threads spin on the cores
            // while they wait for each response, which takes them from the forward pass being timed (at 1 connection
            // the async driver used 0.6-0.7 ms of CPU per request, and the service's x-inference-time was 0.3-0.5 ms
            // longer than under wrk). Blocked in a socket read, a worker uses no CPU until its response arrives.
            workers[w] = new Thread(() =>
            {
                try
                {
                    results[id] = RunWorker();
                }
                catch (Exception ex)
                {
                    errors[id] = ex;
                }
            }) { IsBackground = true, Name = $"load-{id}" };
            workers[w].Start();
        }

        (LatencyStats, long, ServerTimingStats) RunWorker()
        {
            var latency = new LatencyStats();
            var server = new ServerTimingStats();
            long failed = 0;
            var buffer = new byte[16 * 1024];
            while (Stopwatch.GetTimestamp() < Volatile.Read(ref stopAt))
            {
                using var request = new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, body is null ? "health/live" : "embed");
                if (body is not null)
                {
                    request.Content = new ByteArrayContent(body(Interlocked.Increment(ref next) - 1));
                    request.Content.Headers.ContentType = s_json;
                }

                if (cacheControl is not null)
                {
                    request.Headers.TryAddWithoutValidation("Cache-Control", cacheControl);
                }

                var began = Stopwatch.GetTimestamp();
                using var response = _client.Send(request, HttpCompletionOption.ResponseHeadersRead, CancellationToken.None);
                using (var stream = response.Content.ReadAsStream())
                {
                    while (stream.Read(buffer) > 0)
                    {
                    }
                }

                var ended = Stopwatch.GetTimestamp();
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    // Any failure counts, warm-up included.
                    failed++;
                }
                else if (ended >= Volatile.Read(ref startAt) && ended <= Volatile.Read(ref stopAt))
                {
                    // Requests that end inside the measured window count (throughput = completions per second).
                    latency.Add(ended - began);
                    server.Add(response.Headers);
                    if (response.Headers.TryGetValues("x-cache-hits", out var hits) && long.TryParse(hits.First(), out var served))
                    {
                        Interlocked.Add(ref cacheHits, served);
                    }
                }
            }

            return (latency, failed, server);
        }

        await Task.Delay(TimeSpan.FromSeconds(leadInSeconds));
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
        await Task.Run(() =>
        {
            foreach (var worker in workers)
            {
                worker.Join();
            }
        });
        if (errors.OfType<Exception>().ToArray() is { Length: > 0 } failures)
        {
            throw new AggregateException("A load worker failed.", failures);
        }

        var all = LatencyStats.Pool(results.Select(static r => r.Latency));
        var allServer = new ServerTimingStats();
        foreach (var (_, _, server) in results)
        {
            allServer.AddRange(server);
        }

        return new LoadResult(name, connections, sentencesPerRequest, all.Count, results.Sum(static r => r.Failed),
            seconds, all, rssAtEnd, allServer.Medians(), serviceCores, driverCores) { CacheHits = Interlocked.Read(ref cacheHits) };
    }

    public void Dispose() => _client.Dispose();

    private static TimeSpan DriverCpuTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }
}
