using OpenTelemetry.Metrics;
using EmbeddingService.Inference.Diagnostics;

namespace EmbeddingService.Hosting;

/// <summary>
/// Prometheus metrics at <c>/metrics</c> through OpenTelemetry's exporter. Chosen over prometheus-net because it keeps
/// System.Diagnostics.Metrics types as they are (counters stay counters, histograms keep their bucket advice), while
/// prometheus-net's meter adapter turns counters into gauges. Exported meters: ours (<c>EmbeddingService</c>: inputs, tokens,
/// the queue (inputs, tokens, drain seconds), batch size and tokens, tokenization/queue/inference time, rejections by reason) and ASP.NET Core's own
/// (<c>http.server.request.duration</c> by route and status, active requests, Kestrel connections).
/// </summary>
internal static class MetricsSetup
{
    public static IServiceCollection AddEmbeddingMetrics(this IServiceCollection services)
    {
        services.AddOpenTelemetry().WithMetrics(static metrics => metrics
            .AddMeter(EmbeddingMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            // No response cache: a scrape always shows what happened before it (scrapes come every few seconds at most).
            .AddPrometheusExporter(static exporter => exporter.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    public static IEndpointConventionBuilder MapEmbeddingMetrics(this IEndpointRouteBuilder app) =>
        app.MapPrometheusScrapingEndpoint("/metrics");
}
