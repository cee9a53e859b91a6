using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using EmbeddingService.Api.Contracts;
using EmbeddingService.Inference.Diagnostics;

namespace EmbeddingService.Api.Errors;

/// <summary>Writes an <see cref="ApiError"/> in the shape of the route's surface, with <c>Retry-After</c> where it applies.</summary>
internal static class ApiErrorWriter
{
    private static JsonSerializerOptions JsonOptionsOf(HttpContext context) =>
        context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;

    /// <summary><c>Retry-After</c> takes whole seconds: the wait rounded up, and at least 1 (0 would invite an immediate retry).</summary>
    public static int RetryAfterSeconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));

    public static Task WriteAsync(HttpContext context, ApiError error)
    {
        var surface = ApiSurfaces.Of(context);
        context.RequestServices.GetRequiredService<EmbeddingMetrics>().RecordRejection(ApiErrors.ReasonOf(error));
        var response = context.Response;
        response.StatusCode = ApiErrors.StatusOf(error, surface);
        if (error.RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = RetryAfterSeconds(retryAfter).ToString(CultureInfo.InvariantCulture);
        }

        // Not RequestAborted: on a request timeout that token is already cancelled, and the error body must still go out.
        if (surface == ApiSurface.OpenAi)
        {
            var (type, code) = ApiErrors.OpenAiType(error);
            return response.WriteAsJsonAsync(new OpenAiErrorResponse(new OpenAiError(error.Message, type, error.Param, code)),
                JsonOptionsOf(context), contentType: null, CancellationToken.None);
        }

        return response.WriteAsJsonAsync(new TeiError(error.Message, ApiErrors.TeiType(error)),
            JsonOptionsOf(context), contentType: null, CancellationToken.None);
    }
}
