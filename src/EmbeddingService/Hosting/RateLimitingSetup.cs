using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using EmbeddingService.Api.Errors;

namespace EmbeddingService.Hosting;

/// <summary>ASP.NET Core's rate limiter: a token bucket per API key, or per client IP when no key is used.
/// Health and metrics routes are never limited. Refusals are 429 with <c>Retry-After</c> in the route's error shape.</summary>
internal static class RateLimitingSetup
{
    public static IServiceCollection AddEmbeddingRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimiter(static _ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitingOptions>>(static (limiter, settings) =>
        {
            var options = settings.Value;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (!options.Enabled || HealthRoutes.IsProbe(context.Request) || context.Request.Path.StartsWithSegments("/metrics"))
                {
                    return RateLimitPartition.GetNoLimiter("unlimited");
                }

                var partition = context.Items.TryGetValue(ApiKeyMiddleware.KeyIdItem, out var keyId)
                    ? $"key:{keyId}"
                    : $"ip:{context.Connection.RemoteIpAddress}";
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.TokenLimit,
                    TokensPerPeriod = options.TokensPerPeriod,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(options.ReplenishmentPeriodSeconds),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = static (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                return new ValueTask(ApiErrorWriter.WriteAsync(context.HttpContext, new ApiError(ApiErrorKind.RateLimited,
                    "Rate limit exceeded for this API key or client (RateLimiting settings).", RetryAfter: retryAfter)));
            };
        });
        return services;
    }
}
