namespace EmbeddingService.Api.Contracts;

/// <summary>Body of <c>GET /info</c>: TEI's fields for the default model, plus every loaded model, the limits and the CPU.</summary>
/// <param name="ModelId">The default model's id.</param>
/// <param name="ModelDtype">The default model's precision: <c>float32</c>, or <c>int8</c> for an int8 variant.</param>
/// <param name="ModelType">Always <c>embedding</c>.</param>
/// <param name="MaxInputLength">The default model's most tokens per input, special tokens included.</param>
/// <param name="MaxBatchTokens">Padded tokens per forward pass.</param>
/// <param name="MaxBatchRequests">Inputs per forward pass.</param>
/// <param name="MaxClientBatchSize">Inputs per request.</param>
/// <param name="AutoTruncate">Whether inputs over the model's maximum are truncated when the request does not say.</param>
/// <param name="Version">The service's version.</param>
/// <param name="Models">Every loaded model.</param>
/// <param name="Limits">The server's limits and defaults.</param>
/// <param name="Cpu">What the machine offers the models.</param>
/// <param name="Cache">The embedding cache's bound and what it holds now.</param>
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
    LimitsInfo Limits,
    CpuInfo Cpu,
    CacheInfo Cache);

/// <summary>One loaded model.</summary>
/// <param name="Id">The id to put in <c>model</c>.</param>
/// <param name="Dimensions">Embedding width.</param>
/// <param name="MaxInputLength">Most tokens per input, special tokens included.</param>
/// <param name="Pooling"><c>mean</c> or <c>cls</c>.</param>
/// <param name="Prompts">Prompt names usable as <c>prompt_name</c>, with their text.</param>
/// <param name="Default">Whether requests naming no model use it.</param>
/// <param name="ModelDtype">Its precision: <c>float32</c>, or <c>int8</c> for an int8 variant (vectors close to, not equal
/// to, the fp32 model's: never mix the two in one index).</param>
/// <param name="Sha256">The SHA-256 of its <c>model.onnx</c>: which weights answer, whatever the id (the embedding cache keys
/// entries by it).</param>
public sealed record ModelInfo(string Id, int Dimensions, int MaxInputLength, string Pooling, IReadOnlyDictionary<string, string> Prompts, bool Default,
    string ModelDtype, string Sha256);

/// <summary>The embedding cache (<c>Cache:MaxBytes</c>; per request <c>Cache-Control: no-cache</c> or <c>no-store</c>).</summary>
/// <param name="Enabled">False when <c>Cache:MaxBytes</c> is 0.</param>
/// <param name="MaxBytes">The bound on what it holds.</param>
/// <param name="Entries">Entries held now.</param>
/// <param name="Bytes">Bytes held now (ids, vector and a fixed overhead per entry).</param>
/// <param name="Eviction">What goes first when it is full: <c>least-recently-used</c>.</param>
public sealed record CacheInfo(bool Enabled, long MaxBytes, long Entries, long Bytes, string Eviction);

/// <summary>What the machine offers the models.</summary>
/// <param name="Int8DotProduct">The CPU's int8 dot-product instructions (<c>avx512_vnni</c>, <c>avx_vnni</c>,
/// <c>arm_dotprod</c>), or <c>none</c>: without them int8 models work but run no faster than fp32.</param>
/// <param name="Cores">Logical processors this process may use.</param>
public sealed record CpuInfo(string Int8DotProduct, int Cores);

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
