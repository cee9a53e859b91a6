using System.Text.Json;
using System.Text.RegularExpressions;

namespace EmbeddingService.Tests.Deployment;

/// <summary>The compose "monitoring" profile: Prometheus and Grafana, Grafana's provisioning and the dashboard's queries.</summary>
public sealed partial class DeploymentConsistencyTests
{
    private const string Monitoring = "monitoring";
    private const string DashboardsTarget = "/etc/grafana/dashboards";

    private static Dictionary<string, object?> Grafana => s_compose.Map("services").Map("grafana");

    [Fact]
    public void Compose_monitoring_profile_holds_prometheus_and_grafana_and_only_there()
    {
        var services = s_compose.Map("services");
        var inMonitoring = services.Where(static s => ((Dictionary<string, object?>)s.Value!).TryGetValue("profiles", out var profiles)
                && ((List<object?>)profiles!).Contains(Monitoring))
            .Select(static s => s.Key).Order();
        Assert.Equal(new[] { "grafana", "prometheus" }, inMonitoring);
        foreach (var name in new[] { "prometheus", "grafana" })
        {
            var service = services.Map(name);
            Assert.Equal(new[] { Monitoring }, service.Seq("profiles").Cast<string>());
            // A moving tag would change the dashboards' behaviour under the same commit.
            Assert.Matches(@"^[\w./-]+:v?\d+\.\d+\.\d+$", service.Str("image"));
        }
    }

    [Fact]
    public void Compose_grafana_mounts_its_provisioning_and_dashboards_read_only_and_waits_for_prometheus()
    {
        Assert.Equal("3000:3000", Assert.Single(Grafana.Seq("ports")));
        Assert.Equal(new[] { "prometheus" }, Grafana.Seq("depends_on").Cast<string>());
        foreach (var volume in Grafana.Seq("volumes").Cast<string>())
        {
            var parts = volume.Split(':');
            Assert.True(parts is [var host, _, "ro"] && Directory.Exists(DeploymentFiles.PathOf(host.TrimStart('.', '/'))),
                $"'{volume}' must mount a folder of the repository read-only");
        }

        // Anonymous visitors may look but not change anything, and land on the dashboard.
        var environment = Grafana.Map("environment");
        Assert.Equal("true", environment.Str("GF_AUTH_ANONYMOUS_ENABLED"));
        Assert.Equal("Viewer", environment.Str("GF_AUTH_ANONYMOUS_ORG_ROLE"));
        var home = environment.Str("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH");
        Assert.StartsWith(DashboardsTarget + "/", home, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(MountedPath(Grafana, DashboardsTarget), Path.GetFileName(home))), $"{home} is not among the mounted dashboards");
    }

    [Fact]
    public void Grafana_datasource_is_the_compose_prometheus_at_its_scrape_interval()
    {
        var datasource = Assert.Single(GrafanaProvisioning("datasources").Seq("datasources").Maps());
        Assert.Equal("prometheus", datasource.Str("type"));
        Assert.Equal("proxy", datasource.Str("access"));

        var url = new Uri(datasource.Str("url"));
        var prometheus = s_compose.Map("services").Map(url.Host);
        Assert.Equal(new[] { Monitoring }, prometheus.Seq("profiles").Cast<string>());
        var containerPort = ((string)Assert.Single(prometheus.Seq("ports"))!).Split(':')[^1];
        Assert.Equal(containerPort, url.Port.ToString());

        // $__rate_interval is derived from this: it must be the real scrape interval for rate() windows to hold samples.
        var scrapeInterval = YamlFile.Load(MountedFile(prometheus, "/etc/prometheus/prometheus.yml")).Map("global").Str("scrape_interval");
        Assert.Equal(scrapeInterval, datasource.Map("jsonData").Str("timeInterval"));
    }

    [Fact]
    public void Grafana_dashboard_provider_reads_the_mounted_dashboards()
    {
        var provider = Assert.Single(GrafanaProvisioning("dashboards").Seq("providers").Maps());
        Assert.Equal("file", provider.Str("type"));
        Assert.Equal(DashboardsTarget, provider.Map("options").Str("path"));
        Assert.Equal("false", provider.Str("allowUiUpdates"));
        Assert.Contains("embedding-service.json", Directory.GetFiles(MountedPath(Grafana, DashboardsTarget), "*.json").Select(Path.GetFileName));
    }

    [Fact]
    public void Dashboard_queries_only_the_provisioned_datasource()
    {
        var uid = Assert.Single(GrafanaProvisioning("datasources").Seq("datasources").Maps()).Str("uid");
        using var dashboard = ReadDashboard();
        var references = Descendants(dashboard.RootElement)
            .Where(static e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("datasource", out _))
            .Select(static e => e.GetProperty("datasource")).ToList();
        Assert.NotEmpty(references);
        Assert.All(references, reference =>
        {
            Assert.Equal("prometheus", reference.GetProperty("type").GetString());
            Assert.Equal(uid, reference.GetProperty("uid").GetString());
        });

        // Every panel but a row queries something.
        Assert.All(Panels(dashboard).Where(static p => p.GetProperty("type").GetString() != "row"),
            static p => Assert.NotEmpty(p.GetProperty("targets").EnumerateArray()));
        var ids = Panels(dashboard).Select(static p => p.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Dashboard_reads_only_metrics_and_labels_the_service_exports_and_shows_them_all()
    {
        using var dashboard = ReadDashboard();
        var expressions = PanelExpressions(dashboard).Concat(Variables(dashboard).Select(VariableSelector)).ToList();
        Assert.NotEmpty(expressions);
        foreach (var expression in expressions)
        {
            ExportedMetrics.AssertReadsOnlyExported(expression);
        }

        var shown = expressions.SelectMany(PromQl.Selectors).Select(static s => ExportedMetrics.OfSeries(s.Metric)!.Name).Distinct();
        Assert.Equal(ExportedMetrics.All.Select(static m => m.Name).Order(), shown.Order());
    }

    [Fact]
    public void Dashboard_repeats_a_row_per_model_and_every_model_metric_follows_the_model_variable()
    {
        using var dashboard = ReadDashboard();
        var variable = Assert.Single(Variables(dashboard), static v => v.GetProperty("name").GetString() == "model");
        var values = LabelValues().Match(variable.GetProperty("query").GetString()!);
        Assert.True(values.Success, "the model variable lists label_values(<metric>, model)");
        Assert.Equal("model", values.Groups["label"].Value);
        Assert.Contains("model", ExportedMetrics.OfSeries(values.Groups["metric"].Value)!.Labels);
        Assert.True(variable.GetProperty("multi").GetBoolean() && variable.GetProperty("includeAll").GetBoolean());

        Assert.Contains(Panels(dashboard), static p => p.GetProperty("type").GetString() == "row"
            && p.TryGetProperty("repeat", out var repeat) && repeat.GetString() == "model");

        foreach (var selector in PanelExpressions(dashboard).SelectMany(PromQl.Selectors))
        {
            if (ExportedMetrics.OfSeries(selector.Metric)!.Labels.Contains("model"))
            {
                Assert.True(selector.Matchers.TryGetValue("model", out var model) && model.Contains("$model", StringComparison.Ordinal),
                    $"{selector.Metric} ignores the model variable");
            }
        }
    }

    private static Dictionary<string, object?> GrafanaProvisioning(string kind)
    {
        var folder = MountedPath(Grafana, $"/etc/grafana/provisioning/{kind}");
        return YamlFile.Load(Assert.Single(Directory.GetFiles(folder, "*.yaml")));
    }

    private static JsonDocument ReadDashboard() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(MountedPath(Grafana, DashboardsTarget), "embedding-service.json")));

    private static IEnumerable<JsonElement> Panels(JsonDocument dashboard) => dashboard.RootElement.GetProperty("panels").EnumerateArray();

    private static IEnumerable<JsonElement> Variables(JsonDocument dashboard) =>
        dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray();

    /// <summary>A <c>label_values(metric, label)</c> variable as the selector it reads, <c>metric{label=""}</c>.</summary>
    private static string VariableSelector(JsonElement variable)
    {
        var match = LabelValues().Match(variable.GetProperty("query").GetString()!);
        Assert.True(match.Success, $"variable {variable.GetProperty("name")} is not label_values(<metric>, <label>)");
        return $"{match.Groups["metric"].Value}{{{match.Groups["label"].Value}=\"\"}}";
    }

    private static List<string> PanelExpressions(JsonDocument dashboard) =>
        Panels(dashboard).Where(static p => p.TryGetProperty("targets", out _))
            .SelectMany(static p => p.GetProperty("targets").EnumerateArray()).Select(static t => t.GetProperty("expr").GetString()!)
            .ToList();

    private static IEnumerable<JsonElement> Descendants(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(static p => Descendants(p.Value)).Prepend(element),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Descendants).Prepend(element),
        _ => [element],
    };

    [GeneratedRegex(@"^label_values\(\s*(?<metric>[A-Za-z_:][\w:]*)\s*,\s*(?<label>\w+)\s*\)$")]
    private static partial Regex LabelValues();
}
