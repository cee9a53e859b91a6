using System.Text.Json;
using Microsoft.AspNetCore.Http;
using EmbeddingService.Inference;

namespace EmbeddingService.Api.Errors;

/// <summary>
/// The one place that decides status codes and error types. Each kind has a status per surface (TEI's table:
/// 400 empty, 413 too large, 422 validation, 429 overloaded, 503 unhealthy; OpenAI's: 400 for any invalid request,
/// 404 for an unknown model) and names for TEI's <c>error_type</c> and OpenAI's <c>type</c>/<c>code</c>.
/// </summary>
internal static class ApiErrors
{
    public static ApiError From(EmbeddingException exception) => new(
        exception.Kind switch
        {
            EmbeddingErrorKind.Validation => ApiErrorKind.Validation,
            EmbeddingErrorKind.Empty => ApiErrorKind.Empty,
            EmbeddingErrorKind.Tokenizer => ApiErrorKind.Tokenizer,
            EmbeddingErrorKind.ModelNotFound => ApiErrorKind.ModelNotFound,
            EmbeddingErrorKind.ModelType => ApiErrorKind.ModelType,
            EmbeddingErrorKind.Overloaded => ApiErrorKind.Overloaded,
            EmbeddingErrorKind.Timeout => ApiErrorKind.Timeout,
            EmbeddingErrorKind.Unhealthy => ApiErrorKind.Unhealthy,
            _ => ApiErrorKind.Backend,
        },
        exception.Message,
        exception.Parameter,
        RetryAfter: exception.RetryAfter ?? (exception.Kind is EmbeddingErrorKind.Unhealthy or EmbeddingErrorKind.Timeout ? TimeSpan.FromSeconds(1) : null));

    /// <summary>A request the framework could not read: bad JSON (400), wrong types (422), too large (413), wrong content type (415).</summary>
    public static ApiError From(BadHttpRequestException exception)
    {
        var json = FindJsonException(exception);
        if (json is not null)
        {
            // A syntax error surfaces as a JsonException wrapping the reader's own JsonException, and bytes that are not
            // UTF-8 as a decoder failure somewhere below; a value of the wrong type or shape is a JsonException of its own.
            var syntax = json.InnerException is JsonException || HasInChain<System.Text.DecoderFallbackException>(json);
            var where = json.Path is { Length: > 0 } path && path != "$" ? $" at {path}" : string.Empty;
            var detail = (json.InnerException is JsonException inner ? inner.Message
                : syntax ? "the body is not valid UTF-8." : json.Message).Split(" Path:", 2)[0];
            return new ApiError(ApiErrorKind.Validation, $"Invalid request body{where}: {detail}", Param: ParamOf(json.Path),
                StatusOverride: syntax ? StatusCodes.Status400BadRequest : StatusCodes.Status422UnprocessableEntity);
        }

        return exception.StatusCode switch
        {
            StatusCodes.Status413PayloadTooLarge => new ApiError(ApiErrorKind.Validation, "The request body is larger than the server accepts (Limits:MaxRequestBodyBytes).", StatusOverride: 413),
            StatusCodes.Status415UnsupportedMediaType => new ApiError(ApiErrorKind.Validation, "The request body must be JSON (Content-Type: application/json).", StatusOverride: 415),
            _ => new ApiError(ApiErrorKind.Validation, BodyMessage(exception.Message), StatusOverride: exception.StatusCode is >= 400 and < 500 ? exception.StatusCode : 400),
        };
    }

    public static int StatusOf(ApiError error, ApiSurface surface) => error.StatusOverride ?? (error.Kind, surface) switch
    {
        (ApiErrorKind.Validation or ApiErrorKind.Tokenizer, ApiSurface.Tei) => StatusCodes.Status422UnprocessableEntity,
        (ApiErrorKind.Validation or ApiErrorKind.Tokenizer, ApiSurface.OpenAi) => StatusCodes.Status400BadRequest,
        (ApiErrorKind.Empty, _) => StatusCodes.Status400BadRequest,
        (ApiErrorKind.ModelNotFound or ApiErrorKind.NotFound, _) => StatusCodes.Status404NotFound,
        // TEI's answer when a route needs another kind of model (its model-type check): 424 Failed Dependency.
        (ApiErrorKind.ModelType, _) => StatusCodes.Status424FailedDependency,
        (ApiErrorKind.Overloaded or ApiErrorKind.RateLimited, _) => StatusCodes.Status429TooManyRequests,
        (ApiErrorKind.Timeout or ApiErrorKind.Unhealthy, _) => StatusCodes.Status503ServiceUnavailable,
        (ApiErrorKind.Unauthorized, _) => StatusCodes.Status401Unauthorized,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>TEI's <c>error_type</c>.</summary>
    public static string TeiType(ApiError error) => error.Kind switch
    {
        ApiErrorKind.Empty => "Empty",
        ApiErrorKind.Tokenizer => "Tokenizer",
        ApiErrorKind.Overloaded or ApiErrorKind.RateLimited or ApiErrorKind.Timeout => "Overloaded",
        ApiErrorKind.Unhealthy => "Unhealthy",
        // TEI reports a wrong model type as a backend error; clients written for TEI see the same body.
        ApiErrorKind.Backend or ApiErrorKind.Internal or ApiErrorKind.ModelType => "Backend",
        ApiErrorKind.Unauthorized => "Unauthorized",
        _ => "Validation",
    };

    /// <summary>OpenAI's <c>type</c> and <c>code</c>.</summary>
    public static (string Type, string? Code) OpenAiType(ApiError error) => error.Kind switch
    {
        ApiErrorKind.ModelNotFound => ("invalid_request_error", "model_not_found"),
        ApiErrorKind.NotFound => ("invalid_request_error", "not_found"),
        ApiErrorKind.Unauthorized => ("invalid_request_error", "invalid_api_key"),
        ApiErrorKind.Overloaded or ApiErrorKind.RateLimited => ("requests", "rate_limit_exceeded"),
        ApiErrorKind.Timeout => ("server_error", "timeout"),
        ApiErrorKind.Unhealthy => ("server_error", "service_unavailable"),
        ApiErrorKind.Backend or ApiErrorKind.Internal => ("server_error", null),
        _ => ("invalid_request_error", error.StatusOverride == 413 ? "request_too_large" : null),
    };

    /// <summary>The <c>reason</c> label of the rejections metric.</summary>
    public static string ReasonOf(ApiError error) => error.Kind switch
    {
        ApiErrorKind.Overloaded => "overloaded",
        ApiErrorKind.RateLimited => "rate_limited",
        ApiErrorKind.Timeout => "timeout",
        ApiErrorKind.Unauthorized => "unauthorized",
        ApiErrorKind.Unhealthy => "unhealthy",
        ApiErrorKind.ModelType => "model_type",
        ApiErrorKind.Backend or ApiErrorKind.Internal => "error",
        _ => "validation",
    };

    private static bool HasInChain<T>(Exception? exception)
        where T : Exception
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is T)
            {
                return true;
            }
        }

        return false;
    }

    private static JsonException? FindJsonException(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is JsonException json)
            {
                return json;
            }
        }

        return null;
    }

    private static string? ParamOf(string? jsonPath) =>
        jsonPath is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..].Split('[', '.')[0] : null;

    private static string BodyMessage(string frameworkMessage) =>
        frameworkMessage.Contains("was not provided", StringComparison.Ordinal) || frameworkMessage.Contains("empty", StringComparison.OrdinalIgnoreCase)
            ? "The request body is missing: send a JSON object."
            : $"Invalid request: {frameworkMessage}";
}
