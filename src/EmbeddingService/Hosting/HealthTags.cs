using Microsoft.Extensions.Diagnostics.HealthChecks;
using EmbeddingService.Inference.Models;

namespace EmbeddingService.Hosting;

internal static class HealthTags
{
    /// <summary>Checks that say the service can take traffic (models loaded and warmed, not shutting down).</summary>
    public const string Ready = "ready";

    /// <summary>Checks that say the process is alive.</summary>
    public const string Live = "live";
}

/// <summary>Healthy only while the model catalog is <see cref="ModelCatalogState.Ready"/>.</summary>
internal sealed class ModelsReadyHealthCheck(ModelCatalog catalog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(catalog.State switch
        {
            ModelCatalogState.Ready => HealthCheckResult.Healthy($"{catalog.Models.Count} model(s) loaded."),
            ModelCatalogState.Loading => HealthCheckResult.Unhealthy("Models are loading."),
            ModelCatalogState.Stopping => HealthCheckResult.Unhealthy("Shutting down."),
            _ => HealthCheckResult.Unhealthy("Models failed to load."),
        });
}
