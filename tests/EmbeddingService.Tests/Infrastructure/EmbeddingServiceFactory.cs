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
    private readonly bool _kestrel;

    public EmbeddingServiceFactory()
        : this(new Dictionary<string, string?>(), null, kestrel: false)
    {
    }

    private EmbeddingServiceFactory(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? configureServices, bool kestrel)
    {
        _settings = settings;
        _configureServices = configureServices;
        _kestrel = kestrel;
        if (kestrel)
        {
            // Port 0: the system picks a free one on loopback (ClientOptions.BaseAddress points at it).
            UseKestrel(0);
        }
    }

    /// <summary>A separate service with configuration overrides (keys as in appsettings, e.g. <c>Limits:MaxInputsPerRequest</c>)
    /// and, optionally, replaced services (e.g. a fake <c>IBatchRunnerFactory</c> to control inference timing).</summary>
    /// <param name="kestrel">Serve on a real Kestrel socket on loopback instead of the in-memory test server, for tests of
    /// what happens on the connection itself (see <see cref="KestrelAddress"/>).</param>
    public static async Task<EmbeddingServiceFactory> StartAsync(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? configureServices = null,
        bool waitForReady = true, bool kestrel = false)
    {
        var factory = new EmbeddingServiceFactory(settings, configureServices, kestrel);
        if (waitForReady)
        {
            await factory.InitializeAsync();
        }
        else
        {
            factory.StartHost();
        }

        return factory;
    }

    /// <summary>Where the Kestrel-hosted service listens (services started with <c>kestrel: true</c>).</summary>
    public Uri KestrelAddress => _kestrel ? ClientOptions.BaseAddress : throw new InvalidOperationException("This service runs on the in-memory test server.");

    /// <summary>Completes when the models are loaded and warmed (the service reports ready).</summary>
    public async ValueTask InitializeAsync()
    {
        StartHost();
        var catalog = Services.GetRequiredService<ModelCatalog>();
        await catalog.Ready.WaitAsync(TimeSpan.FromMinutes(2));
    }

    private void StartHost()
    {
        if (_kestrel)
        {
            StartServer();
        }
        else
        {
            _ = Server; // builds and starts the host
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Same content root as Program.cs picks (the binaries' folder), where appsettings.json and models/ are copied.
        builder.UseContentRoot(AppContext.BaseDirectory);
        builder.UseEnvironment("Testing");
        // Without the embedding cache unless a test turns it on: tests that compare vectors (a batch against its inputs
        // alone, concurrent against sequential, int8 in and out of a batch) must compare computed ones, not a cached copy
        // with itself. The cache's own tests (Caching/) and the publish smoke test run it as configured.
        if (!_settings.ContainsKey("Cache:MaxBytes"))
        {
            builder.UseSetting("Cache:MaxBytes", "0");
        }

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
