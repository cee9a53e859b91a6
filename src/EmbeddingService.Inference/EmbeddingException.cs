namespace EmbeddingService.Inference;

/// <summary>What went wrong, in the categories every API surface maps to a status code (TEI's ErrorType).</summary>
public enum EmbeddingErrorKind
{
    /// <summary>The request is well-formed but breaks a rule (too long, unknown prompt, bad dimensions...).</summary>
    Validation,
    /// <summary>The request holds no input, or an empty input where one is not allowed.</summary>
    Empty,
    /// <summary>An input could not be tokenized or decoded (e.g. token ids outside the vocabulary).</summary>
    Tokenizer,
    /// <summary>The model named in the request is not loaded.</summary>
    ModelNotFound,
    /// <summary>The route needs a kind of model the service does not serve (a re-ranker, a classifier, a sparse model).</summary>
    ModelType,
    /// <summary>The queue is full: try again later.</summary>
    Overloaded,
    /// <summary>The request did not finish within its time limit.</summary>
    Timeout,
    /// <summary>The models are not loaded yet, or the service is shutting down.</summary>
    Unhealthy,
    /// <summary>ONNX Runtime failed while running a batch.</summary>
    Backend,
}

/// <summary>
/// The one exception type the inference library throws for expected failures. The host maps <see cref="Kind"/> to a
/// status code and error body in one place, so every surface reports the same failure the same way.
/// </summary>
public sealed class EmbeddingException : Exception
{
    public EmbeddingException(EmbeddingErrorKind kind, string message, string? parameter = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        Parameter = parameter;
    }

    public EmbeddingErrorKind Kind { get; }

    /// <summary>The request field at fault, when there is one (reported as OpenAI's <c>param</c>).</summary>
    public string? Parameter { get; }

    /// <summary>For <see cref="EmbeddingErrorKind.Overloaded"/>: how long the caller should wait before retrying.</summary>
    public TimeSpan? RetryAfter { get; init; }

    public static EmbeddingException Validation(string message, string? parameter = null) =>
        new(EmbeddingErrorKind.Validation, message, parameter);
}
