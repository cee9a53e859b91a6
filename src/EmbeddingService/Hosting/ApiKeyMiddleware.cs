using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using EmbeddingService.Api.Errors;

namespace EmbeddingService.Hosting;

/// <summary>
/// Checks <c>Authorization: Bearer &lt;key&gt;</c> against <c>Auth:ApiKeys</c> when any are configured. Health routes and the
/// OpenAPI document stay public (and <c>/metrics</c> unless <c>Auth:ProtectMetrics</c>). Keys are compared as SHA-256 digests
/// in constant time, against every configured key, so neither timing nor length leaks which key is close; keys are never logged.
/// </summary>
internal sealed class ApiKeyMiddleware
{
    /// <summary>The index of the key that authenticated the request, in <see cref="HttpContext.Items"/> (for rate limiting).</summary>
    public const string KeyIdItem = "embedding.api-key-id";

    private readonly RequestDelegate _next;
    private readonly byte[][] _keyDigests;
    private readonly bool _protectMetrics;

    public ApiKeyMiddleware(RequestDelegate next, IOptions<AuthOptions> options)
    {
        _next = next;
        _keyDigests = options.Value.ApiKeys.Where(static k => !string.IsNullOrEmpty(k)).Select(Digest).ToArray();
        _protectMetrics = options.Value.ProtectMetrics;
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (_keyDigests.Length == 0 || IsPublic(context.Request))
        {
            return _next(context);
        }

        var keyId = Authenticate(context.Request.Headers.Authorization.ToString());
        if (keyId < 0)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return ApiErrorWriter.WriteAsync(context, new ApiError(ApiErrorKind.Unauthorized,
                "A valid API key is required: send 'Authorization: Bearer <key>'."));
        }

        context.Items[KeyIdItem] = keyId;
        return _next(context);
    }

    private bool IsPublic(HttpRequest request) =>
        HealthRoutes.IsProbe(request) || request.Path.StartsWithSegments("/swagger") || (!_protectMetrics && request.Path.StartsWithSegments("/metrics"));

    /// <returns>The index of the matching key, or -1.</returns>
    private int Authenticate(string header)
    {
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return -1;
        }

        var presented = Digest(header[scheme.Length..].Trim());
        var match = -1;
        for (var i = 0; i < _keyDigests.Length; i++)
        {
            // No early exit: every key is compared whatever matched.
            if (CryptographicOperations.FixedTimeEquals(presented, _keyDigests[i]))
            {
                match = i;
            }
        }

        return match;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
