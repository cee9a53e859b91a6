using EmbeddingService.Inference;

namespace EmbeddingService.Api.Errors;

/// <summary>A failure as the API reports it, whatever its origin. <see cref="ApiErrors"/> builds them; <see cref="ApiErrorWriter"/> writes them.</summary>
/// <param name="Kind">The category, which picks the status code and the error type of each surface.</param>
/// <param name="Message">What went wrong, for the caller.</param>
/// <param name="Param">The request field at fault, if known.</param>
/// <param name="StatusOverride">A status fixed by the source (e.g. 413 or 415 from the framework) instead of the kind's.</param>
/// <param name="RetryAfter">Sent as <c>Retry-After</c> when set.</param>
internal sealed record ApiError(ApiErrorKind Kind, string Message, string? Param = null, int? StatusOverride = null, TimeSpan? RetryAfter = null);

/// <summary><see cref="EmbeddingErrorKind"/> plus the failures only the HTTP layer knows about.</summary>
internal enum ApiErrorKind
{
    Validation,
    Empty,
    Tokenizer,
    ModelNotFound,
    ModelType,
    Overloaded,
    Timeout,
    Unhealthy,
    Backend,
    Unauthorized,
    RateLimited,
    NotFound,
    Internal,
}
