namespace EmbeddingService.Api.Contracts;

/// <summary>Body of <c>GET /info</c>: TEI's fields for the default model, plus every loaded model and the limits.</summary>
public sealed record InfoResponse(
    string ModelId,
    string ModelDtype,
    string ModelType,
    int MaxInputLength,
    int MaxBatchTokens,
    int MaxBatchRequests,
    int MaxClientBatchSize,
    bool AutoTruncate,
    string Version,
    IReadOnlyList<ModelInfo> Models,
    LimitsInfo Limits);

/// <summary>One loaded model.</summary>
/// <param name="Id">The id to put in <c>model</c>.</param>
/// <param name="Dimensions">Embedding width.</param>
/// <param name="MaxInputLength">Most tokens per input, special tokens included.</param>
/// <param name="Pooling"><c>mean</c> or <c>cls</c>.</param>
/// <param name="Prompts">Prompt names usable as <c>prompt_name</c>, with their text.</param>
/// <param name="Default">Whether requests naming no model use it.</param>
public sealed record ModelInfo(string Id, int Dimensions, int MaxInputLength, string Pooling, IReadOnlyDictionary<string, string> Prompts, bool Default);

/// <summary>The server's limits and defaults.</summary>
/// <param name="MaxInputsPerRequest">Inputs per request.</param>
/// <param name="MaxInputChars">Characters (UTF-16 code units) per input.</param>
/// <param name="MaxRequestBodyBytes">Request body size.</param>
/// <param name="MaxQueuedInputs">Inputs that may wait per model.</param>
/// <param name="MaxBatchSize">Inputs per forward pass.</param>
/// <param name="MaxBatchTokens">Padded tokens per forward pass.</param>
/// <param name="RequestTimeoutSeconds">Time a request may take, queue included.</param>
/// <param name="LongInput">The long-input policy of requests that choose none: <c>truncate</c>, <c>error</c> or <c>mean</c>.</param>
/// <param name="MaxChunksPerRequest">Model inputs (chunks) one request may make.</param>
/// <param name="MaxEmbedAllTokens">Tokens of one <c>/embed_all</c> request.</param>
public sealed record LimitsInfo(int MaxInputsPerRequest, int MaxInputChars, long MaxRequestBodyBytes, int MaxQueuedInputs, int MaxBatchSize, int MaxBatchTokens,
    int RequestTimeoutSeconds, string LongInput, int MaxChunksPerRequest, int MaxEmbedAllTokens);

/// <summary>Body of <c>/health</c> and <c>/health/live</c>.</summary>
/// <param name="Status">Healthy or Unhealthy.</param>
/// <param name="Checks">Each check's finding.</param>
public sealed record HealthResponse(string Status, IReadOnlyDictionary<string, string> Checks);
