using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;

namespace EmbeddingService.Bench;

/// <summary>
/// <c>--soak --minutes N</c>: mixed-length load for N minutes with a share of bad requests (malformed JSON, more inputs than
/// <c>Limits:MaxInputsPerRequest</c>) and of requests the client aborts mid-flight. Reports what was answered, every
/// outcome by kind and status, and the service's RSS over time (it must stay flat).
/// </summary>
internal sealed class SoakRunner(ServiceProcess service, LoadDriver driver, Workloads workloads, string model)
{
    private const int Workers = 16;
    private const int TooManyInputs = 2049;

    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    private readonly ConcurrentDictionary<string, long> _outcomes = new(StringComparer.Ordinal);
    private long _answered;
    private long _sentences;

    public async Task RunAsync(double minutes)
    {
        var tooMany = RequestBodies.Embed(Enumerable.Repeat("too many inputs", TooManyInputs).ToArray(), model);
        var rssStart = service.RssMb();
        Console.WriteLine($"Soak: {minutes} min, {Workers} workers; 80 % good mixed requests (1-32 inputs), 8 % malformed, 4 % too many inputs ({TooManyInputs}), 8 % aborted by the client.");
        Console.WriteLine($"{"elapsed",8} {"answered",9} {"sent/s",8} {"RSS MB",8}");
        Console.WriteLine($"{"0 s",8} {0,9} {"",8} {rssStart,8:F0}");

        var began = Stopwatch.GetTimestamp();
        var stopAt = began + (long)(minutes * 60 * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(() => WorkAsync(w, stopAt, tooMany))).ToArray();
        var rssSamples = new List<double> { rssStart };
        long lastSentences = 0;
        var lastTick = began;
        while (!Task.WhenAll(workers).IsCompleted)
        {
            await Task.WhenAny(Task.WhenAll(workers), Task.Delay(TimeSpan.FromSeconds(15)));
            var now = Stopwatch.GetTimestamp();
            var sentences = Interlocked.Read(ref _sentences);
            var rss = service.RssMb();
            rssSamples.Add(rss);
            Console.WriteLine($"{Stopwatch.GetElapsedTime(began).TotalSeconds,6:F0} s {Interlocked.Read(ref _answered),9} {(sentences - lastSentences) / Stopwatch.GetElapsedTime(lastTick, now).TotalSeconds,8:F0} {rss,8:F0}");
            lastSentences = sentences;
            lastTick = now;
        }

        await Task.WhenAll(workers);
        var healthy = await CheckStillServesAsync();
        Console.WriteLine();
        Console.WriteLine($"Requests answered (any HTTP status): {_answered}; good sentences embedded: {_sentences}");
        Console.WriteLine("Outcomes by kind and status:");
        foreach (var (outcome, count) in _outcomes.OrderBy(static o => o.Key, StringComparer.Ordinal))
        {
            Console.WriteLine($"  {outcome,-40} {count,9}");
        }

        Console.WriteLine($"RSS: start {rssStart:F0} MB, end {service.RssMb():F0} MB, min {rssSamples.Min():F0} MB, max {rssSamples.Max():F0} MB, peak (VmHWM) {service.PeakRssMb():F0} MB");
        Console.WriteLine($"After the soak a fresh request {(healthy ? "was answered correctly" : "FAILED")}.");
    }

    private async Task WorkAsync(int worker, long stopAt, byte[] tooMany)
    {
        var random = new Random(1000 + worker);
        var buffer = new byte[64 * 1024];
        while (Stopwatch.GetTimestamp() < stopAt)
        {
            var roll = random.NextDouble();
            string kind;
            byte[] body;
            var abortAfterMs = 0;
            var inputs = 0;
            if (roll < 0.08)
            {
                (kind, body) = RequestBodies.Malformed[random.Next(RequestBodies.Malformed.Length)];
            }
            else if (roll < 0.12)
            {
                (kind, body) = ("too many inputs", tooMany);
            }
            else
            {
                inputs = random.Next(1, 33);
                var start = random.Next(workloads.Mixed.Length - inputs);
                body = RequestBodies.Embed(workloads.Mixed.AsSpan(start, inputs).ToArray(), model);
                kind = "good";
                if (roll < 0.20)
                {
                    kind = "aborted";
                    abortAfterMs = random.Next(1, 40);
                }
            }

            using var cancel = new CancellationTokenSource();
            if (abortAfterMs > 0)
            {
                cancel.CancelAfter(abortAfterMs);
            }

            var content = new ByteArrayContent(body);
            content.Headers.ContentType = s_json;
            try
            {
                using var response = await driver.Client.PostAsync("embed", content, cancel.Token);
                await using (var stream = await response.Content.ReadAsStreamAsync(cancel.Token))
                {
                    while (await stream.ReadAsync(buffer, cancel.Token) > 0)
                    {
                    }
                }

                Interlocked.Increment(ref _answered);
                if (response.IsSuccessStatusCode && inputs > 0)
                {
                    Interlocked.Add(ref _sentences, inputs);
                }

                Count($"{kind} -> {(int)response.StatusCode}");
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                Count($"{kind} -> client aborted mid-flight");
            }
            catch (HttpRequestException ex)
            {
                Count($"{kind} -> transport error ({ex.HttpRequestError})");
            }
        }
    }

    private async Task<bool> CheckStillServesAsync()
    {
        var content = new ByteArrayContent(RequestBodies.Embed(["after the soak", "still serving"], model));
        content.Headers.ContentType = s_json;
        using var response = await driver.Client.PostAsync("embed", content);
        if (!response.IsSuccessStatusCode)
        {
            return false;
        }

        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
        return json.RootElement.GetArrayLength() == 2 && json.RootElement[0].GetArrayLength() > 0;
    }

    private void Count(string outcome) => _outcomes.AddOrUpdate(outcome, 1, static (_, n) => n + 1);
}
