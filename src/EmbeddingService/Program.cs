using EmbeddingService.Hosting;

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
app.Run();

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
