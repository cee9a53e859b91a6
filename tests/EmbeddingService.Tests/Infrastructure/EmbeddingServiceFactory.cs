using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using EmbeddingService.Inference.Models;

namespace EmbeddingService.Tests.Infrastructure;

/// <summary>
/// The real service, real models and all, in memory. One instance is shared by the whole test assembly (an assembly
/// fixture), so the models load once; tests that need other settings call <see cref="WithSettings"/>.
/// </summary>
public sealed class EmbeddingServiceFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _configureServices;

    public EmbeddingServiceFactory()
        : this(new Dictionary<string, string?>(), null)
    {
    }

    private EmbeddingServiceFactory(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? configureServices)
    {
        _settings = settings;
        _configureServices = configureServices;
    }

    /// <summary>A separate service with configuration overrides (keys as in appsettings, e.g. <c>Limits:MaxInputsPerRequest</c>)
    /// and, optionally, replaced services (e.g. a fake <c>IBatchRunnerFactory</c> to control inference timing).</summary>
    public static async Task<EmbeddingServiceFactory> StartAsync(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? configureServices = null,
        bool waitForReady = true)
    {
        var factory = new EmbeddingServiceFactory(settings, configureServices);
        if (waitForReady)
        {
            await factory.InitializeAsync();
        }
        else
        {
            _ = factory.Server;
        }

        return factory;
    }

    /// <summary>Completes when the models are loaded and warmed (the service reports ready).</summary>
    public async ValueTask InitializeAsync()
    {
        _ = Server; // builds and starts the host
        var catalog = Services.GetRequiredService<ModelCatalog>();
        await catalog.Ready.WaitAsync(TimeSpan.FromMinutes(2));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Same content root as Program.cs picks (the binaries' folder), where appsettings.json and models/ are copied.
        builder.UseContentRoot(AppContext.BaseDirectory);
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        if (_configureServices is not null)
        {
            builder.ConfigureServices(_configureServices);
        }
    }
}
