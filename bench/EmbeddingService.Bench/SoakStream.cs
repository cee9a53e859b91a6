using System.Collections.Concurrent;
using System.Diagnostics;

namespace EmbeddingService.Bench;

/// <summary>One request of a soak stream: its kind (for the outcome), its body, and when its client gives up on it (the
/// outcome then is <paramref name="GiveUpOutcome"/>). <paramref name="Inputs"/>: texts embedded if it is answered 200.</summary>
internal sealed record SoakRequest(string Kind, HttpContent Content, TimeSpan GiveUpAfter, string GiveUpOutcome, int Inputs = 0);

/// <summary>
/// One stream of the soak: <paramref name="clients"/> closed-loop clients, each with one request in flight, sending what
/// <paramref name="next"/> makes, with <paramref name="pause"/> between requests. The stream has a connection pool of
/// its own, as separate client processes would. A request given up is cancelled, which closes its connection. Counts every
/// outcome (by kind and status, give-up or transport error) and the latency of every answered request, whatever its status.
/// </summary>
internal sealed class SoakStream(string name, Uri baseAddress, int clients, Func<Random, SoakRequest> next, TimeSpan pause = default) : IDisposable
{
    // No client-wide timeout: each request carries its own give-up time, so a give-up is always ours and counted as one.
    private readonly HttpClient _client = LoadDriver.CreateClient(baseAddress, Timeout.InfiniteTimeSpan);
    private readonly ConcurrentDictionary<string, long> _outcomes = new(StringComparer.Ordinal);
    private readonly LatencyStats _latency = new();
    private long _ok;
    private long _serverErrors;
    private long _gaveUp;
    private long _transportErrors;
    private long _sentences;

    public string Name => name;

    /// <summary>Requests answered 200.</summary>
    public long Ok => Interlocked.Read(ref _ok);

    /// <summary>Requests answered 500-599.</summary>
    public long ServerErrors => Interlocked.Read(ref _serverErrors);

    /// <summary>Requests the client gave up on (for a patient stream: over its timeout).</summary>
    public long GaveUp => Interlocked.Read(ref _gaveUp);

    /// <summary>Requests that got no answer because the connection failed (not given up by the client).</summary>
    public long TransportErrors => Interlocked.Read(ref _transportErrors);

    /// <summary>Texts embedded in the requests answered 200.</summary>
    public long Sentences => Interlocked.Read(ref _sentences);

    /// <summary>Outcome ("kind -> status", "kind -> gave up …", "kind -> transport error (…)") and count, by name.</summary>
    public IEnumerable<KeyValuePair<string, long>> Outcomes => _outcomes.OrderBy(static o => o.Key, StringComparer.Ordinal);

    /// <summary>Latency of every answered request, any status. Read after <see cref="RunAsync"/> has finished.</summary>
    public LatencyStats Latency => _latency;

    /// <summary>Runs the stream's clients until <paramref name="stopAt"/> (a <see cref="Stopwatch"/> timestamp); requests
    /// in flight then run to their end.</summary>
    public Task RunAsync(long stopAt, int seed) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => ClientAsync(new Random(seed + c), stopAt))));

    public void Dispose() => _client.Dispose();

    private async Task ClientAsync(Random random, long stopAt)
    {
        var buffer = new byte[64 * 1024];
        while (Stopwatch.GetTimestamp() < stopAt)
        {
            await SendAsync(next(random), buffer);
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause);
            }
        }
    }

    private async Task SendAsync(SoakRequest request, byte[] buffer)
    {
        using var content = request.Content;
        using var giveUp = new CancellationTokenSource(request.GiveUpAfter);
        var began = Stopwatch.GetTimestamp();
        try
        {
            using var response = await _client.PostAsync("embed", content, giveUp.Token);
            await using (var stream = await response.Content.ReadAsStreamAsync(giveUp.Token))
            {
                while (await stream.ReadAsync(buffer, giveUp.Token) > 0)
                {
                }
            }

            var elapsed = Stopwatch.GetTimestamp() - began;
            lock (_latency)
            {
                _latency.Add(elapsed);
            }

            var status = (int)response.StatusCode;
            if (status == 200)
            {
                Interlocked.Increment(ref _ok);
                Interlocked.Add(ref _sentences, request.Inputs);
            }
            else if (status >= 500)
            {
                Interlocked.Increment(ref _serverErrors);
            }

            Count(request.Kind, status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
        {
            Interlocked.Increment(ref _gaveUp);
            Count(request.Kind, request.GiveUpOutcome);
        }
        catch (HttpRequestException ex)
        {
            Interlocked.Increment(ref _transportErrors);
            Count(request.Kind, $"transport error ({ex.HttpRequestError})");
        }
        catch (HttpIOException ex)
        {
            // The connection failed while the response body was read.
            Interlocked.Increment(ref _transportErrors);
            Count(request.Kind, $"transport error ({ex.HttpRequestError}, reading the body)");
        }
    }

    private void Count(string kind, string outcome) => _outcomes.AddOrUpdate($"{kind} -> {outcome}", 1, static (_, n) => n + 1);
}
