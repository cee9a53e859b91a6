using System.Globalization;
using System.Text.RegularExpressions;

namespace EmbeddingService.Tests.Deployment;

/// <summary>
/// deploy/kubernetes-keda: the base without its CPU HPA, plus a KEDA ScaledObject that scales the same Deployment within
/// the same bounds and pace on a metric the service exports.
/// </summary>
public sealed partial class DeploymentConsistencyTests
{
    private const string KedaFolder = "deploy/kubernetes-keda";

    [Fact]
    public void Keda_overlay_is_the_base_without_its_cpu_hpa_plus_the_scaled_object()
    {
        var folder = DeploymentFiles.PathOf(KedaFolder);
        var kustomization = KedaKustomization();
        var resources = kustomization.Seq("resources").Cast<string>().ToList();
        Assert.Equal("../kubernetes", resources[0]);
        var present = Directory.GetFiles(folder, "*.yaml").Select(Path.GetFileName).Where(static f => f != "kustomization.yaml").Order();
        Assert.Equal(present, resources.Skip(1).Order());

        // Two HPAs on one Deployment overwrite each other's replica count: the overlay deletes the base's.
        var hpa = s_kube["HorizontalPodAutoscaler"];
        var patch = YamlFile.Parse(Assert.Single(kustomization.Seq("patches").Maps()).Str("patch"), "the overlay's patch");
        Assert.Equal("delete", patch.Str("$patch"));
        Assert.Equal(hpa.Str("apiVersion"), patch.Str("apiVersion"));
        Assert.Equal(hpa.Str("kind"), patch.Str("kind"));
        Assert.Equal(hpa.Map("metadata").Str("name"), patch.Map("metadata").Str("name"));
    }

    [Fact]
    public void Keda_scaled_object_is_not_in_the_default_kustomization()
    {
        Assert.DoesNotContain("ScaledObject", s_kube.Keys);
        var baseFolder = DeploymentFiles.PathOf("deploy/kubernetes");
        Assert.DoesNotContain(Directory.GetFiles(baseFolder, "*.yaml", SearchOption.AllDirectories),
            file => YamlFile.Load(file).TryGetValue("kind", out var kind) && kind as string == "ScaledObject");
    }

    [Fact]
    public void Keda_scaled_object_scales_the_deployment_within_the_hpa_bounds_and_pace()
    {
        var scaledObject = ScaledObject();
        Assert.Equal("keda.sh/v1alpha1", scaledObject.Str("apiVersion"));
        var spec = scaledObject.Map("spec");
        var deployment = s_kube["Deployment"];
        var target = spec.Map("scaleTargetRef");
        Assert.Equal(deployment.Str("apiVersion"), target.Str("apiVersion"));
        Assert.Equal(deployment.Str("kind"), target.Str("kind"));
        Assert.Equal(deployment.Map("metadata").Str("name"), target.Str("name"));

        var hpa = s_kube["HorizontalPodAutoscaler"];
        var min = int.Parse(spec.Str("minReplicaCount"));
        var max = int.Parse(spec.Str("maxReplicaCount"));
        Assert.True(min <= max, $"minReplicaCount {min} > maxReplicaCount {max}");
        Assert.Equal(hpa.Map("spec").Str("minReplicas"), spec.Str("minReplicaCount"));
        Assert.Equal(hpa.Map("spec").Str("maxReplicas"), spec.Str("maxReplicaCount"));
        // Not zero: with no pods there is no queue gauge to wake the Deployment up with.
        Assert.True(min > int.Parse(s_kube["PodDisruptionBudget"].Map("spec").Str("minAvailable")), "the PDB must leave room to drain a node");

        // KEDA's HPA takes over the CPU HPA by name where the base ran before, and keeps its pace.
        var hpaConfig = spec.Map("advanced").Map("horizontalPodAutoscalerConfig");
        Assert.Equal(hpa.Map("metadata").Str("name"), hpaConfig.Str("name"));
        Assert.Equal("true", scaledObject.Map("metadata").Map("annotations").Str("scaledobject.keda.sh/transfer-hpa-ownership"));
        Assert.Equal(hpa.Map("spec").Map("behavior"), hpaConfig.Map("behavior"));
    }

    [Fact]
    public void Keda_trigger_sums_the_drain_estimate_of_this_deployments_pods()
    {
        var trigger = Assert.Single(ScaledObject().Map("spec").Seq("triggers").Maps());
        Assert.Equal("prometheus", trigger.Str("type"));
        // The HPA divides an AverageValue by the replica count: the query must be the total over pods, hence sum.
        Assert.Equal("AverageValue", trigger.Str("metricType"));
        var metadata = trigger.Map("metadata");
        var serverAddress = new Uri(metadata.Str("serverAddress"));
        Assert.Contains(serverAddress.Scheme, new[] { "http", "https" });

        var query = metadata.Str("query");
        ExportedMetrics.AssertReadsOnlyExported(query);
        Assert.StartsWith("sum(", query, StringComparison.Ordinal);
        var selector = Assert.Single(PromQl.Selectors(query));
        Assert.Equal("embedding_queue_drain_seconds", selector.Metric);

        // PromQL anchors regular expressions: the pattern must match this Deployment's pods and no other Deployment's.
        var pods = new Regex($"^(?:{selector.Matchers["pod"]})$");
        var name = s_kube["Deployment"].Map("metadata").Str("name");
        Assert.Matches(pods, $"{name}-6d4cf56db6-x2x4z");
        Assert.DoesNotMatch(pods, $"{name}-canary-6d4cf56db6-x2x4z");
        Assert.True(selector.Matchers.ContainsKey("namespace"), "without a namespace, the same Deployment in another namespace would add up");

        // Seconds of queued work per replica: above the activation step, and below the request timeout after which
        // queued requests are dropped rather than served.
        var threshold = double.Parse(metadata.Str("threshold"), CultureInfo.InvariantCulture);
        var activation = double.Parse(metadata.Str("activationThreshold"), CultureInfo.InvariantCulture);
        Assert.InRange(activation, 0, threshold);
        Assert.True(threshold < EffectiveLimits().RequestTimeoutSeconds, $"threshold {threshold} s is not below Limits:RequestTimeoutSeconds");
        Assert.Equal("false", metadata.Str("ignoreNullValues"));
    }

    private static Dictionary<string, object?> KedaKustomization() => YamlFile.Load(DeploymentFiles.PathOf(KedaFolder + "/kustomization.yaml"));

    private static Dictionary<string, object?> ScaledObject() =>
        Assert.Single(KedaKustomization().Seq("resources").Cast<string>().Skip(1)
            .Select(static file => YamlFile.Load(DeploymentFiles.PathOf($"{KedaFolder}/{file}"))), static m => m.Str("kind") == "ScaledObject");
}
