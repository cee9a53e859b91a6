using System.Text.Json;

namespace EmbeddingService.Bench;

/// <summary>The HTTP load plan: one distinct short sentence per request at 1, 8 and 64 connections, then mixed-length
/// requests of 32 texts at 4 connections (128 queued inputs: one scheduling window), measured for twice as long because
/// each request takes seconds.</summary>
internal static class ServiceLoad
{
    public const int MixedPerRequest = 32;
    private const int MixedConnections = 4;

    public static async Task<List<LoadResult>> MeasureAsync(LoadDriver driver, ServiceProcess service, Workloads workloads, BenchOptions options)
    {
        var results = new List<LoadResult>();
        var warmup = options.Quick ? 1.0 : 2.0;
        foreach (var connections in new[] { 1, 8, 64 })
        {
            results.Add(Log(await driver.RunAsync("short", connections, 1,
                i => RequestBodies.Embed([workloads.Short(i)], options.Model), warmup, options.LoadSeconds, service.RssMb)));
        }

        var mixed = workloads.Mixed;
        results.Add(Log(await driver.RunAsync("mixed", MixedConnections, MixedPerRequest,
            i => RequestBodies.Embed(mixed.AsSpan((int)(i * MixedPerRequest % (mixed.Length - MixedPerRequest)), MixedPerRequest).ToArray(), options.Model),
            warmup * 3, options.LoadSeconds * 2, service.RssMb)));
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
        Console.Error.WriteLine($"  http {r.Name} x{r.Connections}: {r.SentencesPerSecond:F0} sentences/s, p50 {r.P50Ms:F2} ms, p99 {r.P99Ms:F2} ms, non-200 {r.Failed}");
        return r;
    }
}
