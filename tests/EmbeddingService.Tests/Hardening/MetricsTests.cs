using System.Net.Http.Json;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Hardening;

public sealed class MetricsTests(EmbeddingServiceFactory factory)
{
    [Fact]
    public async Task Prometheus_endpoint_exports_request_batch_and_rejection_metrics()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = factory.CreateClient();
        (await client.PostAsJsonAsync("/embed", new { inputs = new[] { "metrics", "are part of the feature" } }, ct)).EnsureSuccessStatusCode();
        await client.PostAsJsonAsync("/embed", new { inputs = Array.Empty<string>() }, ct);

        var text = await client.GetStringAsync("/metrics", ct);

        foreach (var name in new[]
        {
            "http_server_request_duration_seconds",
            "embedding_inputs", "embedding_tokens", "embedding_batch_size", "embedding_batch_tokens",
            "embedding_tokenization_duration", "embedding_queue_duration", "embedding_inference_duration",
            "embedding_queue_depth", "embedding_rejections",
        })
        {
            Assert.True(text.Contains(name, StringComparison.Ordinal), $"/metrics lacks {name}:\n{text[..Math.Min(text.Length, 3000)]}");
        }

        Assert.Contains("reason=\"validation\"", text);
    }
}
