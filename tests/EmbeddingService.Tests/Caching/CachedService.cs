using EmbeddingService.Inference.Caching;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Caching;

/// <summary>The real service with the embedding cache on at its default bound (the assembly's shared service runs without it).</summary>
public sealed class CachedService : IAsyncLifetime
{
    public EmbeddingServiceFactory Service { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Cache:MaxBytes"] = EmbeddingCacheOptions.DefaultMaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    public async ValueTask DisposeAsync() => await Service.DisposeAsync();
}
