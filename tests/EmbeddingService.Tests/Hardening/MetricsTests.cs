using System.Net.Http.Json;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Hardening;

/// <summary>
/// Our instruments (one process-wide meter). ASP.NET Core's own request metric is metered per host, and with several test
/// hosts in one process an exporter listening by meter name may bind another host's meter, so it is checked where the
/// service runs alone: the publish smoke test (Deployment/PublishSmokeTests, .ci/publish-smoke.sh).
/// </summary>
public sealed class MetricsTests(EmbeddingServiceFactory factory)
{
    [Fact]
    public async Task Prometheus_endpoint_exports_request_batch_and_rejection_metrics()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = factory.CreateClient();
        (await client.PostAsJsonAsync("/embed", new { inputs = new[] { "metrics", "are part of the feature" } }, ct)).EnsureSuccessStatusCode();
        await client.PostAsJsonAsync("/embed", new { inputs = Array.Empty<string>() }, ct);

        string[] names =
        [
            "embedding_inputs", "embedding_tokens", "embedding_batch_size", "embedding_batch_tokens",
            "embedding_tokenization_duration", "embedding_queue_duration", "embedding_inference_duration",
            "embedding_queue_inputs", "embedding_queue_tokens", "embedding_queue_drain_seconds", "embedding_rejections",
        ];

        // The exporter answers a scrape that arrives while another one (another test's, on this shared host) is
        // collecting with that collection, which may predate the requests above: the next scrape collects afresh.
        var text = "";
        for (var scrape = 0; scrape < 3; scrape++)
        {
            text = await client.GetStringAsync("/metrics", ct);
            if (text.Contains("reason=\"validation\"", StringComparison.Ordinal))
            {
                break;
            }
        }

        foreach (var name in names)
        {
            Assert.True(text.Contains(name, StringComparison.Ordinal), $"/metrics lacks {name}:\n{text[..Math.Min(text.Length, 3000)]}");
        }

        Assert.Contains("reason=\"validation\"", text);
    }
}
