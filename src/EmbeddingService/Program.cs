using EmbeddingService.Hosting;
using EmbeddingService.Inference.Models;

// `--health-check [url]` is the container's probe: it asks /health and exits without starting the service.
if (await HealthProbe.TryRunAsync(args) is int probeExitCode)
{
    Environment.ExitCode = probeExitCode;
    return;
}

// The content root is where the binaries and the copied appsettings.json live, whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.AddEmbeddingLogging();
builder.AddEmbeddingServices();

var app = builder.Build();
app.MapEmbeddingsApi();
var started = app.Lifetime.ApplicationStarted;
var catalog = app.Services.GetRequiredService<ModelCatalog>();
try
{
    await app.RunAsync();
    if (catalog.State == ModelCatalogState.Failed)
    {
        // The models did not load (the catalog logged why) and the service stopped itself: not a clean exit.
        Environment.ExitCode = 1;
    }
}
catch (Exception ex) when (!started.IsCancellationRequested)
{
    // Start-up failed (a port in use, invalid settings): the host has logged the exception. Exit with 1 and one plain
    // line, not with an unhandled exception's abort (exit code 134, and a core dump in a container).
    await Console.Error.WriteLineAsync($"EmbeddingService did not start: {ex.Message}");
    Environment.ExitCode = 1;
}

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
