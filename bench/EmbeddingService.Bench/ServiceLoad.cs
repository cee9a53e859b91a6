using System.Text.Json;

namespace EmbeddingService.Bench;

/// <summary>The HTTP load plan: a warm-up (not reported), <c>GET /health/live</c> at 1 connection (the round-trip floor), then one distinct short sentence per request at 1, 8 and 64 connections, then mixed-length
/// requests of 32 texts at 4 connections (128 queued inputs: one scheduling window), measured for twice as long because
/// each request takes seconds.</summary>
internal static class ServiceLoad
{
    public const int MixedPerRequest = 32;
    private const int MixedConnections = 4;

    /// <param name="beforeOneConnection">Runs just before the 1-connection level, while the service idles (the raw
    /// batch-1 floor again); null for none.</param>
    public static async Task<List<LoadResult>> MeasureAsync(ILoadDriver driver, ServiceProcess service, Workloads workloads, BenchOptions options,
        Action? beforeOneConnection = null)
    {
        var results = new List<LoadResult>();
        var warmup = options.Quick ? 1.0 : 2.0;
        // Steady state, not start-up: let the JIT's tiered recompilation of the request path finish under a moderate load
        // (it took ~20 % of the CPU for the first seconds) before anything is measured. Start-up is reported as time to ready.
        var mixed = workloads.Mixed;
        await driver.RunAsync("warm-up", 8, 1, i => i % 8 == 0
            ? RequestBodies.Embed(mixed.AsSpan((int)(i % (mixed.Length - MixedPerRequest)), MixedPerRequest).ToArray(), options.Model)
            : RequestBodies.Embed([workloads.Short(50_000_000 + i)], options.Model), warmupSeconds: 0, options.Quick ? 3 : 6, service);
        // The HTTP round trip alone (client, loopback, Kestrel, a trivial endpoint): the part of p50@1 that is not embedding.
        results.Add(Log(await driver.RunAsync("http floor", 1, 0, body: null, warmup, options.LoadSeconds / 2, service)));
        foreach (var connections in new[] { 1, 8, 64 })
        {
            if (connections == 1)
            {
                beforeOneConnection?.Invoke();
            }

            results.Add(Log(await driver.RunAsync("short", connections, 1,
                i => RequestBodies.Embed([workloads.Short(i)], options.Model), warmup, options.LoadSeconds, service)));
        }

        results.Add(Log(await driver.RunAsync("mixed", MixedConnections, MixedPerRequest,
            i => RequestBodies.Embed(mixed.AsSpan((int)(i * MixedPerRequest % (mixed.Length - MixedPerRequest)), MixedPerRequest).ToArray(), options.Model),
            warmup * 3, options.LoadSeconds * 2, service)));
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

    private static LoadResult Log(LoadResult r)
    {
        Console.Error.WriteLine($"  http {r.Name} x{r.Connections}: {r.SentencesPerSecond:F0} sentences/s, p50 {r.P50Ms:F2} ms, p99 {r.P99Ms:F2} ms, non-200 {r.Failed}; server p50 total {r.Server.TotalP50Ms:F2}, queue {r.Server.QueueP50Ms:F2}, inference {r.Server.InferenceP50Ms:F2} ms; cores busy: service {r.ServiceCores:F2}, driver {r.DriverCores:F2}");
        return r;
    }
}
