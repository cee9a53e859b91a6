using System.Reflection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using EmbeddingService.Api.Contracts;
using EmbeddingService.Hosting;
using EmbeddingService.Inference;
using EmbeddingService.Inference.Batching;
using EmbeddingService.Inference.Caching;
using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Runtime;

namespace EmbeddingService.Api;

/// <summary>Operations: <c>/health</c> (ready), <c>/health/live</c>, <c>/info</c>.</summary>
internal static class OpsApi
{
    public static IEndpointRouteBuilder MapOpsApi(this IEndpointRouteBuilder app)
    {
        // Health checks read a flag; they never wait behind inference.
        app.MapGet("/health", static (HealthCheckService health, CancellationToken ct) => CheckAsync(health, HealthTags.Ready, ct))
            .WithName("Health")
            .WithSummary("Ready: 200 once the models are loaded and warmed, 503 before and while shutting down")
            .WithTags("Operations")
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);
        app.MapGet("/health/live", static (HealthCheckService health, CancellationToken ct) => CheckAsync(health, HealthTags.Live, ct))
            .WithName("Live")
            .WithSummary("Live: 200 while the process runs")
            .WithTags("Operations")
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);

        // TEI's aliases of /health: GET / (Hugging Face Inference API) and GET /ping (AWS SageMaker). Public like /health
        // (Hosting/HealthRoutes.cs); left out of the OpenAPI document.
        app.MapGet("/", static (HealthCheckService health, CancellationToken ct) => CheckAsync(health, HealthTags.Ready, ct)).ExcludeFromDescription();
        app.MapGet("/ping", static (HealthCheckService health, CancellationToken ct) => CheckAsync(health, HealthTags.Ready, ct)).ExcludeFromDescription();

        app.MapGet("/info", GetInfo)
            .WithName("Info")
            .WithSummary("The loaded models, their dimensions and limits, and the server's limits")
            .WithTags("Operations")
            .ProducesTeiErrors();

        return app;
    }

    public static async Task<Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>>> CheckAsync(HealthCheckService health, string tag, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(tag), cancellationToken);
        var body = new HealthResponse(
            report.Status.ToString(),
            report.Entries.ToDictionary(static e => e.Key, static e => e.Value.Description ?? e.Value.Status.ToString()));
        return report.Status == HealthStatus.Healthy
            ? TypedResults.Ok(body)
            : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    public static Ok<InfoResponse> GetInfo(ModelCatalog catalog, EmbeddingCache cache, IOptions<LimitsOptions> limits, IOptions<BatchingOptions> batching)
    {
        catalog.EnsureReady();
        var models = catalog.Models.OrderBy(static m => m.Id, StringComparer.Ordinal)
            .Select(m => new ModelInfo(m.Id, m.Dimensions, m.Manifest.MaxSequenceLength, m.Manifest.Pooling.ToString().ToLowerInvariant(),
                m.Manifest.Prompts, m.Id == catalog.DefaultModelId, m.Manifest.Dtype,
                m.Manifest.ModelSha256))
            .ToList();
        var defaultModel = catalog.Get(null);
        var l = limits.Value;
        var b = batching.Value;
        return TypedResults.Ok(new InfoResponse(
            ModelId: defaultModel.Id,
            ModelDtype: defaultModel.Manifest.Dtype,
            ModelType: "embedding",
            MaxInputLength: defaultModel.Manifest.MaxSequenceLength,
            MaxBatchTokens: b.MaxBatchTokens,
            MaxBatchRequests: b.MaxBatchSize,
            MaxClientBatchSize: l.MaxInputsPerRequest,
            AutoTruncate: l.DefaultLongInput == LongInputPolicy.Truncate,
            Version: Version,
            Models: models,
            Limits: new LimitsInfo(l.MaxInputsPerRequest, l.MaxInputChars, l.MaxRequestBodyBytes, b.MaxQueuedInputs, b.MaxBatchSize, b.MaxBatchTokens,
                l.RequestTimeoutSeconds, l.DefaultLongInput.ToString().ToLowerInvariant(), l.MaxChunksPerRequest, l.MaxEmbedAllTokens),
            Cpu: new CpuInfo(CpuFeatures.Int8DotProduct, Environment.ProcessorCount),
            Cache: new CacheInfo(cache.Enabled, cache.MaxBytes, cache.Entries, cache.Bytes, "least-recently-used")));
    }

    private static string Version { get; } =
        typeof(OpsApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
