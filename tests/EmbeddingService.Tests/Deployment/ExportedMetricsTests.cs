using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Inference.Models;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Deployment;

/// <summary>
/// <see cref="ExportedMetrics"/>, the list the dashboard and the KEDA trigger are checked against, is what the running app
/// exports at <c>/metrics</c>: every listed metric of our meter with its labels, and nothing of our meter left off the list.
/// ASP.NET Core's request metric is metered per host, and with several test hosts in one process the exporter may bind
/// another host's meter (see Hardening/MetricsTests), so its names are proven by the publish smoke test instead.
/// </summary>
public sealed partial class ExportedMetricsTests(EmbeddingServiceFactory factory)
{
    private static readonly Lock s_scrapeLock = new();
    private static Task<Scrape>? s_scrape;

    public static TheoryData<string> ServiceMetrics() =>
        [.. ExportedMetrics.All.Where(static m => m.Meter == ExportedMetrics.ServiceMeter).Select(static m => m.Name)];

    [Theory]
    [MemberData(nameof(ServiceMetrics))]
    public async Task Listed_metric_is_exported_by_the_app_with_its_labels(string name)
    {
        var metric = ExportedMetrics.All.Single(m => m.Name == name);
        var scrape = await ScrapeOnceAsync();
        foreach (var series in metric.Series)
        {
            Assert.True(scrape.Labels.TryGetValue(series, out var labels), $"/metrics has no {series}; it has {string.Join(", ", scrape.Labels.Keys.Order())}");
            Assert.Contains($"otel_scope_name={ExportedMetrics.ServiceMeter}", labels);
            foreach (var label in metric.Labels)
            {
                Assert.True(labels.Any(l => l.StartsWith(label + "=", StringComparison.Ordinal)), $"{series} has no label {label}: {string.Join(", ", labels)}");
            }
        }
    }

    [Fact]
    public async Task Every_metric_of_the_service_meter_is_listed()
    {
        var scrape = await ScrapeOnceAsync();
        var ours = scrape.Labels.Where(static s => s.Value.Contains($"otel_scope_name={ExportedMetrics.ServiceMeter}")).Select(static s => s.Key);
        Assert.Empty(ours.Where(static series => ExportedMetrics.OfSeries(series) is null).Order());
    }

    [Fact]
    public void AspNetCore_metrics_on_the_list_are_checked_by_the_publish_smoke_test()
    {
        var script = File.ReadAllText(DeploymentFiles.PathOf(".ci/publish-smoke.sh"));
        foreach (var metric in ExportedMetrics.All.Where(static m => m.Meter == ExportedMetrics.AspNetCoreMeter))
        {
            Assert.Contains(metric.Series[^1], script, StringComparison.Ordinal);
        }
    }

    /// <summary>One scrape for every test here, after traffic that gives each of our instruments a series.</summary>
    private Task<Scrape> ScrapeOnceAsync()
    {
        lock (s_scrapeLock)
        {
            return s_scrape ??= ScrapeAfterTrafficAsync();
        }
    }

    private async Task<Scrape> ScrapeAfterTrafficAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = factory.CreateClient();
        (await client.PostAsJsonAsync("/embed", new { inputs = new[] { "what the dashboard", "shows" } }, ct)).EnsureSuccessStatusCode();
        await client.PostAsJsonAsync("/embed", new { inputs = Array.Empty<string>() }, ct); // a validation rejection

        // A real drop needs a caller that leaves while queued (Hardening/OverloadTests makes one with a gated runner);
        // adding zero gives the counter its series without changing any count, and the name is all this checks.
        var model = factory.Services.GetRequiredService<ModelCatalog>().Get(null).Id;
        factory.Services.GetRequiredService<EmbeddingMetrics>().RecordDroppedInputs(model, 0);
        // The same for the cache's counters: this host runs without the cache (Caching/CacheApiTests counts real hits).
        factory.Services.GetRequiredService<EmbeddingMetrics>().RecordCacheLookups(model, hits: 0, misses: 0);

        // A scrape that arrives while another one (another test's, on this shared host) collects gets that collection,
        // which may predate the lines above: the next scrape collects afresh.
        var text = string.Empty;
        for (var attempt = 0; attempt < 3 && !text.Contains("embedding_dropped_inputs_total{", StringComparison.Ordinal); attempt++)
        {
            text = await client.GetStringAsync("/metrics", ct);
        }

        return Scrape.Parse(text);
    }

    /// <summary>Each series name in a Prometheus text exposition, with every <c>label=value</c> seen on it.</summary>
    private sealed partial record Scrape(IReadOnlyDictionary<string, HashSet<string>> Labels)
    {
        public static Scrape Parse(string text)
        {
            var labels = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            foreach (Match sample in Sample().Matches(text))
            {
                var seen = labels.TryGetValue(sample.Groups["name"].Value, out var set) ? set : labels[sample.Groups["name"].Value] = new(StringComparer.Ordinal);
                foreach (Match label in Label().Matches(sample.Groups["labels"].Value))
                {
                    seen.Add($"{label.Groups[1].Value}={label.Groups[2].Value}");
                }
            }

            return new Scrape(labels);
        }

        [GeneratedRegex("""
            ^(?<name>[A-Za-z_:][\w:]*)(?:\{(?<labels>(?:[^}"]|"(?:[^"\\]|\\.)*")*)\})?\s
            """, RegexOptions.Multiline)]
        private static partial Regex Sample();

        [GeneratedRegex("""
            (\w+)="((?:[^"\\]|\\.)*)"
            """)]
        private static partial Regex Label();
    }
}
