using EmbeddingService.Inference.Diagnostics;

namespace EmbeddingService.Tests.Deployment;

internal enum MetricKind
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>A metric as Prometheus sees it at <c>/metrics</c>.</summary>
/// <param name="Name">The exported name: counters end in <c>_total</c>; a histogram is read through <see cref="Series"/>.</param>
/// <param name="Meter">The .NET meter that records it (the exporter's <c>otel_scope_name</c> label).</param>
/// <param name="Labels">Its own labels, besides those every series has.</param>
internal sealed record ExportedMetric(string Name, MetricKind Kind, string Meter, params string[] Labels)
{
    public IReadOnlyList<string> Series => Kind == MetricKind.Histogram ? [Name + "_bucket", Name + "_sum", Name + "_count"] : [Name];

    public bool HasLabel(string series, string label) =>
        Labels.Contains(label) || ExportedMetrics.CommonLabels.Contains(label) || (label == "le" && series == Name + "_bucket");
}

/// <summary>
/// The one list of what the service exports, as the OpenTelemetry Prometheus exporter names it. The Grafana dashboard and
/// the KEDA trigger are checked against it, and <see cref="ExportedMetricsTests"/> checks it against the running app.
/// </summary>
internal static class ExportedMetrics
{
    public const string ServiceMeter = EmbeddingMetrics.MeterName;

    /// <summary>ASP.NET Core's per-host meter (see <see cref="ExportedMetricsTests"/> for where its names are proven).</summary>
    public const string AspNetCoreMeter = "Microsoft.AspNetCore.Hosting";

    /// <summary>Labels on every series: the exporter's scope, and what the scrape adds (instance and job; in Kubernetes,
    /// namespace and pod as well).</summary>
    public static readonly IReadOnlySet<string> CommonLabels = new HashSet<string>(StringComparer.Ordinal)
    {
        "otel_scope_name", "instance", "job", "namespace", "pod",
    };

    public static IReadOnlyList<ExportedMetric> All { get; } =
    [
        new("embedding_inputs_total", MetricKind.Counter, ServiceMeter, "model"),
        new("embedding_tokens_total", MetricKind.Counter, ServiceMeter, "model"),
        new("embedding_dropped_inputs_total", MetricKind.Counter, ServiceMeter, "model"),
        new("embedding_rejections_total", MetricKind.Counter, ServiceMeter, "reason"),
        new("embedding_cache_hits_total", MetricKind.Counter, ServiceMeter, "model"),
        new("embedding_cache_misses_total", MetricKind.Counter, ServiceMeter, "model"),
        new("embedding_cache_entries", MetricKind.Gauge, ServiceMeter),
        new("embedding_cache_bytes", MetricKind.Gauge, ServiceMeter),
        new("embedding_queue_inputs", MetricKind.Gauge, ServiceMeter, "model"),
        new("embedding_queue_tokens", MetricKind.Gauge, ServiceMeter, "model"),
        new("embedding_queue_drain_seconds", MetricKind.Gauge, ServiceMeter, "model"),
        new("embedding_batch_size", MetricKind.Histogram, ServiceMeter, "model"),
        new("embedding_batch_tokens", MetricKind.Histogram, ServiceMeter, "model"),
        new("embedding_batch_duration_seconds", MetricKind.Histogram, ServiceMeter, "model", "session"),
        new("embedding_tokenization_duration_seconds", MetricKind.Histogram, ServiceMeter, "model"),
        new("embedding_queue_duration_seconds", MetricKind.Histogram, ServiceMeter, "model"),
        new("embedding_inference_duration_seconds", MetricKind.Histogram, ServiceMeter, "model"),
        new("http_server_request_duration_seconds", MetricKind.Histogram, AspNetCoreMeter,
            "http_route", "http_response_status_code", "http_request_method", "network_protocol_version", "url_scheme", "error_type"),
    ];

    /// <summary>The metric a series belongs to (<c>embedding_batch_size_bucket</c> to <c>embedding_batch_size</c>), or null.</summary>
    public static ExportedMetric? OfSeries(string series) => All.SingleOrDefault(m => m.Series.Contains(series));

    /// <summary>Fails naming what <paramref name="expression"/> reads that the service does not export.</summary>
    public static void AssertReadsOnlyExported(string expression)
    {
        var problems = ProblemsIn(expression).ToList();
        Assert.True(problems.Count == 0, $"{expression}: {string.Join("; ", problems)}");
    }

    /// <summary>What an expression reads that the service does not export: unknown series, or labels a series lacks.</summary>
    private static IEnumerable<string> ProblemsIn(string expression)
    {
        foreach (var selector in PromQl.Selectors(expression))
        {
            if (OfSeries(selector.Metric) is not { } metric)
            {
                yield return $"{selector.Metric} is not a series the service exports";
                continue;
            }

            foreach (var label in selector.Matchers.Keys.Where(label => !metric.HasLabel(selector.Metric, label)))
            {
                yield return $"{selector.Metric} has no label {label}";
            }
        }
    }
}
