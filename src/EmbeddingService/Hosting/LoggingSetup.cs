using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace EmbeddingService.Hosting;

/// <summary>
/// Serilog from configuration: levels and enrichers from the <c>Serilog</c> section, console output as text or, with
/// <c>Logging:Format=json</c>, as compact JSON for log collectors. No static bootstrap logger, and each host logs
/// through its own logger, never Serilog's static <c>Log.Logger</c> (<c>preserveStaticLogger</c>): otherwise every host
/// in the process (integration tests start many) would log through the latest one's sinks, and the first host disposed
/// would silence them all (<c>Log.CloseAndFlush</c>).
/// </summary>
internal static class LoggingSetup
{
    public static IHostApplicationBuilder AddEmbeddingLogging(this IHostApplicationBuilder builder)
    {
        var json = string.Equals(builder.Configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase);
        builder.Services.AddSerilog((services, logger) =>
        {
            // An unhealthy readiness check is the service saying "loading" or "draining" (ModelCatalog logs those changes
            // itself), not a fault: the health-check service's Error line for it would fire on every probe during each
            // start and shutdown. This also silences a check that throws; ours only read state (the catalog's, or none).
            // Set first, so the Serilog section can still override it.
            logger.MinimumLevel.Override("Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService", LogEventLevel.Fatal);
            logger.ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext();
            if (json)
            {
                logger.WriteTo.Console(new RenderedCompactJsonFormatter());
            }
            else
            {
                logger.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}");
            }
        }, preserveStaticLogger: true);
        return builder;
    }

    /// <summary>One line per request: route, status, duration, and the inputs, tokens and timings the handler reported.</summary>
    public static IApplicationBuilder UseEmbeddingRequestLogging(this IApplicationBuilder app) =>
        app.UseSerilogRequestLogging(options =>
        {
            // The host's own logger: left unset, the middleware logs through the static Log.Logger, which no host sets.
            options.Logger = app.ApplicationServices.GetRequiredService<Serilog.ILogger>();
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            // Probes and scrapes are verbose whatever they answer: /health's 503 while loading or draining is its job.
            options.GetLevel = static (context, _, exception) =>
                exception is not null ? LogEventLevel.Error
                : HealthRoutes.IsProbe(context.Request) || context.Request.Path.StartsWithSegments("/metrics") ? LogEventLevel.Verbose
                : context.Response.StatusCode >= 500 ? LogEventLevel.Error
                : LogEventLevel.Information;
            options.EnrichDiagnosticContext = static (diagnostics, context) =>
            {
                var endpoint = context.GetEndpoint() as RouteEndpoint;
                diagnostics.Set("Route", endpoint?.RoutePattern.RawText ?? context.Request.Path.Value ?? string.Empty);
            };
        });
}
