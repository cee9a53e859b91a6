using Microsoft.Extensions.Hosting;

namespace EmbeddingService.Inference.Models;

/// <summary>
/// Loads the models in the background once the host starts (so the process answers <c>/health</c> with 503 at once
/// instead of refusing connections), stops taking requests as soon as shutdown begins, and drains the batchers last.
/// </summary>
internal sealed class ModelLifetimeService(ModelCatalog catalog, IHostApplicationLifetime lifetime) : IHostedService
{
    private Task? _loading;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(catalog.BeginShutdown);
        _loading = Task.Run(async () =>
        {
            try
            {
                await catalog.LoadAsync(lifetime.ApplicationStopping).ConfigureAwait(false);
            }
            catch (Exception) when (catalog.State == ModelCatalogState.Failed)
            {
                // Logged by the catalog. A service without its models is useless: stop, so the orchestrator restarts or reports it.
                lifetime.StopApplication();
            }
        }, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        catalog.BeginShutdown();
        if (_loading is not null)
        {
            await _loading.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await catalog.DrainAsync(cancellationToken).ConfigureAwait(false);
    }
}
