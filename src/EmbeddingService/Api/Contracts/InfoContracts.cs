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

public sealed record LimitsInfo(int MaxInputsPerRequest, int MaxInputChars, long MaxRequestBodyBytes, int MaxQueuedInputs, int MaxBatchSize, int MaxBatchTokens, int RequestTimeoutSeconds);

/// <summary>Body of <c>/health</c> and <c>/health/live</c>.</summary>
/// <param name="Status">Healthy or Unhealthy.</param>
/// <param name="Checks">Each check's finding.</param>
public sealed record HealthResponse(string Status, IReadOnlyDictionary<string, string> Checks);
