using System.Text.Json;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using EmbeddingService.Api;
using EmbeddingService.Api.Contracts;
using EmbeddingService.Api.Errors;
using EmbeddingService.Inference;

namespace EmbeddingService.Hosting;

/// <summary>Registers everything the host needs, and builds its request pipeline.</summary>
internal static class ServiceSetup
{
    public static IHostApplicationBuilder AddEmbeddingServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddEmbeddingInference(builder.Configuration);

        services.AddOptions<LimitsOptions>().Bind(builder.Configuration.GetSection(LimitsOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LimitsOptions>, LimitsOptionsValidator>();
        services.AddSingleton<IValidateOptions<LimitsOptions>, LimitsOptionsConsistency>();
        services.AddOptions<OpenAiOptions>().Bind(builder.Configuration.GetSection(OpenAiOptions.SectionName)).ValidateOnStart();
        services.AddOptions<AuthOptions>().Bind(builder.Configuration.GetSection(AuthOptions.SectionName));
        services.AddOptions<RateLimitingOptions>().Bind(builder.Configuration.GetSection(RateLimitingOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RateLimitingOptions>, RateLimitingOptionsValidator>();
        services.AddEmbeddingRateLimiting();

        services.AddEmbeddingCors(builder.Configuration);
        services.AddSingleton<RequestRules>();

        // Kestrel refuses bodies over the limit before they are parsed.
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<LimitsOptions>>(
            static (kestrel, limits) => kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBodyBytes);

        services.ConfigureHttpJsonOptions(static options =>
        {
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, EmbeddingsJsonContext.Default);
            options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            options.SerializerOptions.MaxDepth = 32;
            // Error messages quote the caller's values; keep them readable ('x' rather than \u0027x\u0027).
            options.SerializerOptions.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        });
        // Malformed bodies throw instead of answering a bare 400, so the exception handler writes them in the route's error shape.
        services.Configure<RouteHandlerOptions>(static options => options.ThrowOnBadRequest = true);
        services.AddExceptionHandler<EmbeddingExceptionHandler>();
        // UseExceptionHandler() without a path needs a fallback writer registered; ours handles every exception first.
        services.AddProblemDetails();

        services.AddRequestTimeouts();
        services.AddOptions<RequestTimeoutOptions>().Configure<IOptions<LimitsOptions>>(static (timeouts, limits) =>
            timeouts.DefaultPolicy = new RequestTimeoutPolicy
            {
                Timeout = TimeSpan.FromSeconds(limits.Value.RequestTimeoutSeconds),
                TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
                WriteTimeoutResponse = static context => ApiErrorWriter.WriteAsync(context, new ApiError(ApiErrorKind.Timeout,
                    "The request did not finish within Limits:RequestTimeoutSeconds and was dropped.", RetryAfter: TimeSpan.FromSeconds(1))),
            });

        services.AddHealthChecks()
            .AddCheck("self", static () => Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy(), [HealthTags.Live])
            .AddCheck<ModelsReadyHealthCheck>("models", tags: [HealthTags.Ready]);

        services.AddEmbeddingOpenApi();
        services.AddEmbeddingMetrics();
        return builder;
    }

    /// <summary>The middleware, outermost first, and every route.</summary>
    public static WebApplication MapEmbeddingsApi(this WebApplication app)
    {
        app.Use(static (context, next) =>
        {
            ResponseTimings.MarkStart(context);
            return next(context);
        });
        app.UseEmbeddingRequestLogging();
        app.UseExceptionHandler();
        app.UseStatusCodePages(static context => WriteBareStatusAsync(context.HttpContext));
        app.Use(RejectOversizedBodies);
        app.UseCors();
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseRateLimiter();
        app.UseRouting();
        app.UseRequestTimeouts();
        app.UseRequestBodyBuffering();

        app.UseEmbeddingOpenApi();
        app.MapTeiApi();
        app.MapOpenAiApi();
        app.MapOpsApi();
        app.MapEmbeddingMetrics();
        return app;
    }

    /// <summary>Kestrel enforces the body limit while reading; this answers at once when Content-Length already says so
    /// (and covers hosts that do not enforce it, such as the test server).</summary>
    private static Task RejectOversizedBodies(HttpContext context, RequestDelegate next)
    {
        var limit = context.RequestServices.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            return ApiErrorWriter.WriteAsync(context, new ApiError(ApiErrorKind.Validation,
                $"The request body has {context.Request.ContentLength} bytes; the limit is {limit} (Limits:MaxRequestBodyBytes).", StatusOverride: 413));
        }

        return next(context);
    }

    /// <summary>Unknown routes and wrong methods get the error shape too, not an empty body.</summary>
    private static Task WriteBareStatusAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var error = status switch
        {
            404 => new ApiError(ApiErrorKind.NotFound, $"No route {context.Request.Method} {context.Request.Path}."),
            405 => new ApiError(ApiErrorKind.Validation, $"Method {context.Request.Method} is not allowed on {context.Request.Path}.", StatusOverride: 405),
            415 => new ApiError(ApiErrorKind.Validation, "The request body must be JSON (Content-Type: application/json).", StatusOverride: 415),
            _ => new ApiError(status >= 500 ? ApiErrorKind.Internal : ApiErrorKind.Validation, $"HTTP {status}.", StatusOverride: status),
        };
        return ApiErrorWriter.WriteAsync(context, error);
    }
}
