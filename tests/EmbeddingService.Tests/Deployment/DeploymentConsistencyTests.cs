using System.Collections;
using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using EmbeddingService.Hosting;
using EmbeddingService.Inference.Batching;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Deployment;

/// <summary>
/// The Dockerfile, docker-compose.yml, deploy/ and the app agree: one port, health routes that exist, environment
/// variables that name real configuration keys with valid values, and Kubernetes objects that point at each other.
/// Static: no Docker engine or cluster needed. The KEDA overlay and the monitoring profile have their own partial files.
/// </summary>
public sealed partial class DeploymentConsistencyTests(EmbeddingServiceFactory factory)
{
    private const int Port = 8080;
    private const string AppUid = "1654"; // the aspnet image's 'app' user ($APP_UID)

    private static readonly string s_entryDll = typeof(Program).Assembly.GetName().Name + ".dll";
    private static readonly Dockerfile s_dockerfile = DeploymentFiles.ReadDockerfile();
    private static readonly Dictionary<string, object?> s_compose = YamlFile.Load(DeploymentFiles.PathOf("docker-compose.yml"));
    private static readonly Dictionary<string, Dictionary<string, object?>> s_kube = ReadKubernetes();

    // ------------------------------------------------------------------ Dockerfile

    [Fact]
    public void Dockerfile_builds_on_the_sdk_and_runs_on_the_aspnet_image_with_pinned_tags()
    {
        Assert.Equal(2, s_dockerfile.Stages.Count);
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/sdk:10\.0\.\d+ AS build$", s_dockerfile.Stages[0].From);
        // The default (Ubuntu) aspnet image has ICU; Alpine, chiseled and distroless tags do not.
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/aspnet:10\.0\.\d+ AS final$", s_dockerfile.Final.From);

        Assert.Contains("dotnet publish src/EmbeddingService -c Release -o /app", s_dockerfile.Stages[0].All("RUN"));
        Assert.Equal("/app", s_dockerfile.Final.Single("WORKDIR"));
        Assert.Equal("--from=build /app .", s_dockerfile.Final.Single("COPY"));
    }

    [Fact]
    public void Dockerfile_entrypoint_is_the_app_assembly()
    {
        Assert.Equal(new[] { "dotnet", s_entryDll }, DockerStage.ExecForm(s_dockerfile.Final.Single("ENTRYPOINT")));
        // The published project is src/EmbeddingService/EmbeddingService.csproj and keeps its default assembly name.
        Assert.Equal("EmbeddingService.dll", s_entryDll);
        Assert.DoesNotContain("<AssemblyName>", File.ReadAllText(DeploymentFiles.PathOf("src/EmbeddingService/EmbeddingService.csproj")), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, s_entryDll)), $"{s_entryDll} is not among the built assemblies");
    }

    [Fact]
    public void Dockerfile_runs_as_the_non_root_user_on_port_8080_with_icu_and_a_curl_free_health_check()
    {
        var final = s_dockerfile.Final;
        Assert.Equal("$APP_UID", final.Single("USER"));
        Assert.Equal(Port.ToString(), final.Single("EXPOSE"));

        var env = final.Env().ToDictionary(static e => e.Key, static e => e.Value);
        Assert.Equal($"http://+:{Port}", env["Urls"]);
        // appsettings.json sets Urls, which outranks ASPNETCORE_URLS: that variable would be silently ignored.
        Assert.False(env.ContainsKey("ASPNETCORE_URLS"), "ASPNETCORE_URLS is overridden by appsettings.json's Urls; set Urls instead");
        Assert.False(env.TryGetValue("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", out var invariant) && invariant is "true" or "1",
            "the tokenizer's Unicode normalization needs ICU");
        foreach (var project in new[] { "Directory.Build.props", "src/EmbeddingService/EmbeddingService.csproj", "src/EmbeddingService.Inference/EmbeddingService.Inference.csproj" })
        {
            Assert.DoesNotContain("InvariantGlobalization", File.ReadAllText(DeploymentFiles.PathOf(project)), StringComparison.Ordinal);
        }

        var healthcheck = final.Single("HEALTHCHECK");
        var command = DockerStage.ExecForm(healthcheck[(healthcheck.IndexOf(" CMD ", StringComparison.Ordinal) + 5)..]);
        Assert.Equal(new[] { "dotnet", s_entryDll, HealthProbe.Switch }, command);
        Assert.Equal(Port, HealthProbe.DefaultUrl.Port);
        Assert.Equal("/health", HealthProbe.DefaultUrl.AbsolutePath);
    }

    [Fact]
    public void Dockerignore_keeps_build_outputs_out_and_lets_the_copied_files_in()
    {
        var ignored = File.ReadAllLines(DeploymentFiles.PathOf(".dockerignore")).Select(static l => l.Trim())
            .Where(static l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Contains("**/bin/", ignored);
        Assert.Contains("**/obj/", ignored);

        var copied = s_dockerfile.Stages[0].All("COPY").SelectMany(static c => c.Split(' ')[..^1]);
        foreach (var source in copied)
        {
            Assert.True(File.Exists(DeploymentFiles.PathOf(source)) || Directory.Exists(DeploymentFiles.PathOf(source)), $"COPY source {source} does not exist");
            Assert.DoesNotContain(ignored, pattern => pattern.TrimEnd('/') == source.TrimEnd('/'));
        }
    }

    // ------------------------------------------------------------------ docker-compose.yml and what it mounts

    [Fact]
    public void Compose_runs_the_image_on_port_8080_with_its_health_check_limits_and_grace()
    {
        var services = s_compose.Map("services");
        var embedding = services.Map("embedding");
        Assert.Equal($"{Port}:{Port}", Assert.Single(embedding.Seq("ports")));

        foreach (var name in new[] { "embedding", "embedding-scaled" })
        {
            var service = services.Map(name);
            Assert.Equal(".", service.Map("build").Str("context"));
            Assert.Equal("Dockerfile", service.Map("build").Str("dockerfile"));

            var healthcheck = service.Map("healthcheck");
            var dockerCommand = DockerStage.ExecForm(s_dockerfile.Final.Single("HEALTHCHECK").Split(" CMD ", 2)[1]);
            Assert.Equal(new[] { "CMD" }.Concat(dockerCommand), healthcheck.Seq("test").Cast<string>());

            var limits = service.Map("deploy").Map("resources").Map("limits");
            Assert.Equal("2", limits.Str("cpus"));
            Assert.True(ParseBytes(limits.Str("memory")) >= 768L << 20, "memory limit below what two models and their batches need");
            Assert.True(ParseSeconds(service.Str("stop_grace_period")) >= EffectiveLimits().RequestTimeoutSeconds,
                "stop_grace_period must let running requests finish (Limits:RequestTimeoutSeconds)");
            Assert.Equal("true", service.Str("read_only"));
            Assert.Contains("/tmp", service.Seq("tmpfs"));
        }
    }

    [Fact]
    public void Compose_scale_profile_puts_replicas_behind_nginx_on_the_service_port()
    {
        var services = s_compose.Map("services");
        var scaled = services.Map("embedding-scaled");
        Assert.Equal(new[] { "scale" }, scaled.Seq("profiles").Cast<string>());
        Assert.True(int.Parse(scaled.Map("deploy").Str("replicas")) > 1);
        Assert.False(scaled.ContainsKey("ports"), "replicas must not bind a host port");

        var nginx = services.Map("nginx");
        Assert.Equal(new[] { "scale" }, nginx.Seq("profiles").Cast<string>());
        Assert.Equal("service_healthy", nginx.Map("depends_on").Map("embedding-scaled").Str("condition"));
        var config = File.ReadAllText(MountedFile(nginx, "/etc/nginx/nginx.conf"));
        Assert.Matches(@"server embedding-scaled:" + Port + @"\b", config);
        var listen = NginxListen().Match(config).Groups[1].Value;
        Assert.EndsWith(":" + listen, Assert.Single(nginx.Seq("ports")) as string, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_monitoring_profile_scrapes_metrics_of_every_instance()
    {
        var prometheus = s_compose.Map("services").Map("prometheus");
        Assert.Equal(new[] { "monitoring" }, prometheus.Seq("profiles").Cast<string>());
        var config = YamlFile.Load(MountedFile(prometheus, "/etc/prometheus/prometheus.yml"));
        var job = Assert.Single(config.Seq("scrape_configs").Maps());
        Assert.Equal("/metrics", job.Str("metrics_path"));
        var discovery = Assert.Single(job.Seq("dns_sd_configs").Maps());
        Assert.Equal(Port.ToString(), discovery.Str("port"));
        Assert.Equal(AppServices().Keys.Order(), discovery.Seq("names").Cast<string>().Order());
    }

    // ------------------------------------------------------------------ Kubernetes

    [Fact]
    public void Kustomization_lists_every_manifest()
    {
        var folder = DeploymentFiles.PathOf("deploy/kubernetes");
        var listed = YamlFile.Load(Path.Combine(folder, "kustomization.yaml")).Seq("resources").Cast<string>().Order();
        var present = Directory.GetFiles(folder, "*.yaml").Select(Path.GetFileName).Where(static f => f != "kustomization.yaml").Order();
        Assert.Equal(present, listed);
        Assert.Equal(new[] { "ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Secret", "Service" }, s_kube.Keys.Order());
    }

    [Fact]
    public void Deployment_probes_port_security_and_draining_match_the_app()
    {
        var deployment = s_kube["Deployment"];
        var pod = deployment.Map("spec").Map("template");
        var podSpec = pod.Map("spec");
        var container = Assert.Single(podSpec.Seq("containers").Maps());

        var port = Assert.Single(container.Seq("ports").Maps());
        Assert.Equal(Port.ToString(), port.Str("containerPort"));
        var portName = port.Str("name");

        Assert.Equal("/health", ProbePath(container, "readinessProbe", portName));
        Assert.Equal("/health", ProbePath(container, "startupProbe", portName));
        Assert.Equal("/health/live", ProbePath(container, "livenessProbe", portName));
        Assert.Equal(Port.ToString(), pod.Map("metadata").Map("annotations").Str("prometheus.io/port"));

        var podSecurity = podSpec.Map("securityContext");
        Assert.Equal("true", podSecurity.Str("runAsNonRoot"));
        Assert.Equal(AppUid, podSecurity.Str("runAsUser"));
        var security = container.Map("securityContext");
        Assert.Equal("false", security.Str("allowPrivilegeEscalation"));
        Assert.Equal("true", security.Str("readOnlyRootFilesystem"));
        var tmpMount = Assert.Single(container.Seq("volumeMounts").Maps(), static m => m.Str("mountPath") == "/tmp");
        Assert.Contains(podSpec.Seq("volumes").Maps(), v => v.Str("name") == tmpMount.Str("name") && v.ContainsKey("emptyDir"));

        var resources = container.Map("resources");
        Assert.Equal("2", resources.Map("limits").Str("cpu"));
        Assert.Equal(s_compose.Map("services").Map("embedding").Map("deploy").Map("resources").Map("limits").Str("cpus"), resources.Map("limits").Str("cpu"));
        Assert.True(ParseBytes(resources.Map("requests").Str("memory")) >= 512L << 20);
        Assert.True(ParseBytes(resources.Map("limits").Str("memory")) >= ParseBytes(resources.Map("requests").Str("memory")));

        var preStop = container.Map("lifecycle").Map("preStop").Map("exec").Seq("command").Cast<string>().ToArray();
        Assert.Equal("sleep", preStop[0]);
        var grace = int.Parse(podSpec.Str("terminationGracePeriodSeconds"));
        Assert.True(grace >= int.Parse(preStop[1]) + EffectiveLimits().RequestTimeoutSeconds,
            $"terminationGracePeriodSeconds ({grace}) must cover the preStop sleep ({preStop[1]} s) and Limits:RequestTimeoutSeconds");
    }

    [Fact]
    public void Service_hpa_pdb_and_configuration_point_at_the_deployment()
    {
        var deployment = s_kube["Deployment"];
        var name = deployment.Map("metadata").Str("name");
        var podLabels = deployment.Map("spec").Map("template").Map("metadata").Map("labels");
        Assert.Equal(deployment.Map("spec").Map("selector").Map("matchLabels"), podLabels);
        var container = Assert.Single(deployment.Map("spec").Map("template").Map("spec").Seq("containers").Maps());

        var service = s_kube["Service"].Map("spec");
        Assert.Equal(podLabels, service.Map("selector"));
        var servicePort = Assert.Single(service.Seq("ports").Maps());
        Assert.Equal(Assert.Single(container.Seq("ports").Maps()).Str("name"), servicePort.Str("targetPort"));

        var hpa = s_kube["HorizontalPodAutoscaler"].Map("spec");
        Assert.Equal("Deployment", hpa.Map("scaleTargetRef").Str("kind"));
        Assert.Equal(name, hpa.Map("scaleTargetRef").Str("name"));
        var metric = Assert.Single(hpa.Seq("metrics").Maps());
        Assert.Equal("cpu", metric.Map("resource").Str("name"));
        Assert.True(int.Parse(hpa.Str("minReplicas")) >= 2, "one replica cannot survive a disruption");

        var pdb = s_kube["PodDisruptionBudget"].Map("spec");
        Assert.Equal(podLabels, pdb.Map("selector").Map("matchLabels"));
        Assert.True(int.Parse(pdb.Str("minAvailable")) < int.Parse(hpa.Str("minReplicas")), "the PDB must leave room to drain a node");

        var envFrom = container.Seq("envFrom").Maps().ToList();
        Assert.Contains(envFrom, e => e.ContainsKey("configMapRef") && e.Map("configMapRef").Str("name") == s_kube["ConfigMap"].Map("metadata").Str("name"));
        Assert.Contains(envFrom, e => e.ContainsKey("secretRef") && e.Map("secretRef").Str("name") == s_kube["Secret"].Map("metadata").Str("name"));
        Assert.Equal("Opaque", s_kube["Secret"].Str("type"));
    }

    // ------------------------------------------------------------------ routes and configuration keys

    [Fact]
    public async Task Routes_named_by_the_deployment_files_exist_in_the_app_and_answer()
    {
        var container = Assert.Single(s_kube["Deployment"].Map("spec").Map("template").Map("spec").Seq("containers").Maps());
        var named = new SortedSet<string>(StringComparer.Ordinal)
        {
            HealthProbe.DefaultUrl.AbsolutePath,
            ProbePath(container, "readinessProbe", "http"),
            ProbePath(container, "livenessProbe", "http"),
            ProbePath(container, "startupProbe", "http"),
            s_kube["Deployment"].Map("spec").Map("template").Map("metadata").Map("annotations").Str("prometheus.io/path"),
        };
        var prometheus = YamlFile.Load(DeploymentFiles.PathOf("deploy/prometheus/prometheus.yml"));
        named.Add(Assert.Single(prometheus.Seq("scrape_configs").Maps()).Str("metrics_path"));
        Assert.Equal(new[] { "/health", "/health/live", "/metrics" }, named);

        var routes = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(static e => "/" + e.RoutePattern.RawText!.TrimStart('/')).ToHashSet(StringComparer.Ordinal);
        using var client = factory.CreateClient();
        foreach (var path in named)
        {
            Assert.Contains(path, routes);
            var response = await client.GetAsync(path, TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)response.StatusCode}");
        }
    }

    public static TheoryData<string> EnvironmentSources() => ["Dockerfile", "docker-compose.yml", "kubernetes ConfigMap", "kubernetes Secret"];

    [Theory]
    [MemberData(nameof(EnvironmentSources))]
    public void Environment_variables_name_real_configuration_keys_with_valid_values(string source)
    {
        var variables = EnvironmentOf(source);
        Assert.NotEmpty(variables);
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in variables)
        {
            Assert.False(name == "ASPNETCORE_URLS", $"{source}: ASPNETCORE_URLS is overridden by appsettings.json's Urls; set Urls instead");
            if (s_hostVariables.Contains(name))
            {
                continue;
            }

            Assert.Matches(@"^[A-Za-z][A-Za-z0-9]*(__[A-Za-z0-9]+)*$", name);
            var key = name.Replace("__", ":", StringComparison.Ordinal);
            Assert.True(ConfigurationKeyExists(key), $"{source}: {name} ({key}) is neither an options property nor a key of appsettings.json");
            settings[key] = value;
        }

        // The values bind (no unknown keys, right types) and pass the same validators the app runs at start-up.
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(DeploymentFiles.PathOf("appsettings.json"))
            .AddInMemoryCollection(settings)
            .Build();
        foreach (var (section, type) in s_optionsSections)
        {
            var options = configuration.GetSection(section).Get(type, static o => o.ErrorOnUnknownConfiguration = true) ?? Activator.CreateInstance(type)!;
            foreach (var failure in Validate(type, options))
            {
                Assert.Fail($"{source}: {section}: {failure}");
            }
        }

        Assert.Contains(configuration["Logging:Format"], new[] { "text", "json" });
        if (configuration["Urls"] is { } urls)
        {
            Assert.EndsWith(":" + Port, urls, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Api_key_secret_maps_to_the_auth_options()
    {
        var keys = EnvironmentOf("kubernetes Secret").Select(static v => v.Key).ToList();
        Assert.Equal(new[] { "Auth__ApiKeys__0" }, keys);
        Assert.Equal(typeof(AuthOptions), s_optionsSections[AuthOptions.SectionName]);
        Assert.True(ConfigurationKeyExists("Auth:ApiKeys:0"), "Auth:ApiKeys must be a list of keys");
    }

    [Fact]
    public void The_service_runtimeconfig_caps_the_gen0_budget_for_every_way_of_running_it()
    {
        // dotnet run, the bench and the Docker image all start the same EmbeddingService.runtimeconfig.json, so the GC
        // setting that keeps peak RSS under load near 400 MB lives there rather than in an environment variable.
        var path = Path.Combine(AppContext.BaseDirectory, "EmbeddingService.runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(16 * 1024 * 1024, properties.GetProperty("System.GC.Gen0MaxBudget").GetInt64());
        Assert.False(properties.GetProperty("System.GC.Server").GetBoolean());
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Variables the .NET host reads itself rather than through the app's configuration sections.</summary>
    private static readonly HashSet<string> s_hostVariables = new(StringComparer.Ordinal) { "ASPNETCORE_HTTP_PORTS", "DOTNET_RUNNING_IN_CONTAINER" };

    /// <summary>Every configuration section the app binds to an options class (found by its <c>SectionName</c> constant).</summary>
    private static readonly Dictionary<string, Type> s_optionsSections =
        new[] { typeof(Program).Assembly, typeof(BatchingOptions).Assembly }
            .SelectMany(static a => a.GetTypes())
            .Select(static t => (Type: t, Field: t.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)))
            .Where(static x => x.Field is { IsLiteral: true } && x.Field.FieldType == typeof(string))
            .ToDictionary(static x => (string)x.Field!.GetRawConstantValue()!, static x => x.Type, StringComparer.OrdinalIgnoreCase);

    private static readonly HashSet<string> s_appsettingsKeys = FlattenJson(DeploymentFiles.PathOf("appsettings.json"));

    /// <summary>True when the key is a property path of an options class (list indexes allowed) or a key of appsettings.json.</summary>
    private static bool ConfigurationKeyExists(string key)
    {
        var segments = key.Split(':');
        if (s_optionsSections.TryGetValue(segments[0], out var type))
        {
            foreach (var segment in segments.Skip(1))
            {
                if (int.TryParse(segment, out _) && ElementType(type) is { } element)
                {
                    type = element;
                    continue;
                }

                var property = type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
                if (property is null)
                {
                    return false;
                }

                type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            }

            return true;
        }

        return s_appsettingsKeys.Contains(key);
    }

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type) && type.IsGenericType ? type.GetGenericArguments()[0]
        : null;

    private static IEnumerable<string> Validate(Type optionsType, object options)
    {
        var validatorInterface = typeof(IValidateOptions<>).MakeGenericType(optionsType);
        var validators = new[] { typeof(Program).Assembly, typeof(BatchingOptions).Assembly }
            .SelectMany(static a => a.GetTypes())
            .Where(t => !t.IsAbstract && validatorInterface.IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null);
        foreach (var validatorType in validators)
        {
            var result = (ValidateOptionsResult)validatorInterface.GetMethod(nameof(IValidateOptions<object>.Validate))!
                .Invoke(Activator.CreateInstance(validatorType), [Options.DefaultName, options])!;
            if (result.Failed)
            {
                yield return result.FailureMessage;
            }
        }
    }

    private static LimitsOptions EffectiveLimits() =>
        new ConfigurationBuilder().AddJsonFile(DeploymentFiles.PathOf("appsettings.json"))
            .AddInMemoryCollection(EnvironmentOf("kubernetes ConfigMap").Select(static v => new KeyValuePair<string, string?>(v.Key.Replace("__", ":", StringComparison.Ordinal), v.Value)))
            .Build().GetSection(LimitsOptions.SectionName).Get<LimitsOptions>() ?? new LimitsOptions();

    private static IReadOnlyList<KeyValuePair<string, string>> EnvironmentOf(string source) => source switch
    {
        "Dockerfile" => s_dockerfile.Final.Env(),
        // Only the services that run the app: Grafana's GF_* variables are Grafana's own.
        "docker-compose.yml" => AppServices().Values
            .Where(static s => s.ContainsKey("environment"))
            .SelectMany(static s => s.Map("environment"))
            .Select(static e => new KeyValuePair<string, string>(e.Key, e.Value as string ?? string.Empty))
            .DistinctBy(static e => e.Key).ToList(),
        "kubernetes ConfigMap" => s_kube["ConfigMap"].Map("data").Select(static e => new KeyValuePair<string, string>(e.Key, (string)e.Value!)).ToList(),
        "kubernetes Secret" => s_kube["Secret"].Map("stringData").Select(static e => new KeyValuePair<string, string>(e.Key, (string)e.Value!)).ToList(),
        _ => throw new ArgumentOutOfRangeException(nameof(source)),
    };

    private static string ProbePath(Dictionary<string, object?> container, string probe, string portName)
    {
        var get = container.Map(probe).Map("httpGet");
        Assert.Contains(get.Str("port"), new[] { portName, Port.ToString() });
        return get.Str("path");
    }

    /// <summary>The compose services that run the app's image (built from the Dockerfile), by name.</summary>
    private static Dictionary<string, Dictionary<string, object?>> AppServices() =>
        s_compose.Map("services").Select(static s => (s.Key, Service: (Dictionary<string, object?>)s.Value!))
            .Where(static s => s.Service.ContainsKey("build")).ToDictionary(static s => s.Key, static s => s.Service);

    /// <summary>The host file a compose service mounts at <paramref name="target"/>.</summary>
    private static string MountedFile(Dictionary<string, object?> service, string target)
    {
        var path = MountedPath(service, target);
        Assert.True(File.Exists(path), $"{path} is mounted but missing");
        return path;
    }

    /// <summary>The host path (file or folder) a compose service mounts at <paramref name="target"/>.</summary>
    private static string MountedPath(Dictionary<string, object?> service, string target)
    {
        var volume = Assert.Single(service.Seq("volumes").Cast<string>(), v => v.Split(':')[1] == target);
        return DeploymentFiles.PathOf(volume.Split(':')[0].TrimStart('.', '/'));
    }

    private static Dictionary<string, Dictionary<string, object?>> ReadKubernetes()
    {
        var folder = DeploymentFiles.PathOf("deploy/kubernetes");
        return YamlFile.Load(Path.Combine(folder, "kustomization.yaml")).Seq("resources").Cast<string>()
            .Select(file => YamlFile.Load(Path.Combine(folder, file)))
            .ToDictionary(static m => m.Str("kind"), static m => m);
    }

    private static HashSet<string> FlattenJson(string path)
    {
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        Walk(document.RootElement, string.Empty);
        return keys;

        void Walk(JsonElement element, string prefix)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        Walk(property.Value, prefix.Length == 0 ? property.Name : $"{prefix}:{property.Name}");
                    }

                    break;
                case JsonValueKind.Array:
                    var i = 0;
                    foreach (var item in element.EnumerateArray())
                    {
                        Walk(item, $"{prefix}:{i++}");
                    }

                    break;
                default:
                    keys.Add(prefix);
                    break;
            }
        }
    }

    private static long ParseBytes(string value)
    {
        var match = Quantity().Match(value);
        Assert.True(match.Success, $"'{value}' is not a memory quantity");
        var number = long.Parse(match.Groups[1].Value);
        return match.Groups[2].Value.ToLowerInvariant() switch
        {
            "" or "b" => number,
            "k" or "kb" or "ki" => number << 10,
            "m" or "mb" or "mi" => number << 20,
            "g" or "gb" or "gi" => number << 30,
            var unit => throw new FormatException($"unit '{unit}'"),
        };
    }

    private static int ParseSeconds(string value) =>
        value.EndsWith('s') ? int.Parse(value[..^1]) : value.EndsWith('m') ? int.Parse(value[..^1]) * 60 : throw new FormatException(value);

    [GeneratedRegex(@"^(\d+)([A-Za-z]*)$")]
    private static partial Regex Quantity();

    [GeneratedRegex(@"^\s*listen\s+(\d+)\s*;", RegexOptions.Multiline)]
    private static partial Regex NginxListen();
}
