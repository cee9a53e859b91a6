using System.Text.Json.Nodes;

namespace EmbeddingService.Api.OpenApi;

/// <summary>What the OpenAPI filters add by hand: the security scheme's id, and the examples and texts for each status.</summary>
internal static class OpenApiDocumentation
{
    public const string SecuritySchemeId = "bearer";

    /// <summary>What each error status means on this service, for the response's description.</summary>
    public static string DescribeError(int status) => status switch
    {
        400 => "Bad request: malformed JSON, an empty input (TEI), or any invalid request on the OpenAI routes.",
        401 => "Missing or wrong API key (`Authorization: Bearer <key>`), when the server has `Auth:ApiKeys` configured.",
        404 => "Unknown model (or route).",
        413 => "The request body is larger than `Limits:MaxRequestBodyBytes`.",
        415 => "The request body is not JSON (`Content-Type: application/json`).",
        422 => "Invalid request (TEI routes): wrong types, too many inputs (`Limits:MaxInputsPerRequest`), an input over `Limits:MaxInputChars`, an input over the model's limit with `long_input: error` (or `truncate: false`), a bad `long_input`, `chunk_tokens` or `overlap_tokens`, more chunks than `Limits:MaxChunksPerRequest`, more /embed_all tokens than `Limits:MaxEmbedAllTokens`.",
        429 => "Overloaded: the model's queue is full (`Batching:MaxQueuedInputs`), or the rate limit is hit. Retry after `Retry-After` seconds: for a full queue, the time the model should take to run what waits.",
        500 => "Internal error.",
        503 => "Not ready: models loading, shutting down, or the request ran past `Limits:RequestTimeoutSeconds`. Retry after `Retry-After` seconds.",
        _ => "Error.",
    };

    public static JsonNode TeiErrorExample(int status) => status switch
    {
        400 => Tei("`inputs` cannot be empty.", "Empty"),
        401 => Tei("Missing or invalid API key.", "Unauthorized"),
        404 => Tei("Model 'no-such-model' not found. Available models: all-MiniLM-L6-v2, snowflake-arctic-embed-xs.", "Validation"),
        413 => Tei("The request body has 3000000 bytes; the limit is 2000000 (Limits:MaxRequestBodyBytes).", "Validation"),
        415 => Tei("The request body must be JSON (Content-Type: application/json).", "Validation"),
        422 => Tei("batch size 4096 > maximum allowed batch size 2048 (Limits:MaxInputsPerRequest).", "Validation"),
        429 => Tei("Model overloaded: 4096 inputs are queued and the limit is 4096.", "Overloaded"),
        503 => Tei("The models are still loading.", "Unhealthy"),
        _ => Tei("An internal error occurred.", "Backend"),
    };

    public static JsonNode OpenAiErrorExample(int status) => status switch
    {
        400 => OpenAi("You must provide a model parameter (see GET /v1/models).", "invalid_request_error", "model", null),
        401 => OpenAi("Missing or invalid API key.", "invalid_request_error", null, "invalid_api_key"),
        404 => OpenAi("Model 'no-such-model' not found. Available models: all-MiniLM-L6-v2, snowflake-arctic-embed-xs.", "invalid_request_error", "model", "model_not_found"),
        413 => OpenAi("The request body has 3000000 bytes; the limit is 2000000 (Limits:MaxRequestBodyBytes).", "invalid_request_error", null, "request_too_large"),
        415 => OpenAi("The request body must be JSON (Content-Type: application/json).", "invalid_request_error", null, null),
        422 => OpenAi("Invalid request body at $.input: `input` must be a string, a list of strings or a list of token ids; got a boolean.", "invalid_request_error", "input", null),
        429 => OpenAi("Model overloaded: 4096 inputs are queued and the limit is 4096.", "requests", null, "rate_limit_exceeded"),
        503 => OpenAi("The models are still loading.", "server_error", null, "service_unavailable"),
        _ => OpenAi("An internal error occurred.", "server_error", null, null),
    };

    /// <summary>Request examples by operation id.</summary>
    public static JsonNode? RequestExample(string? operationId) => operationId switch
    {
        "Embed" => JsonNode.Parse("""{"inputs": ["What is Deep Learning?", "Deep learning is a subset of machine learning."], "normalize": true}"""),
        "EmbedChunks" => JsonNode.Parse("""{"inputs": "Deep learning is a subset of machine learning. It uses neural networks with many layers.\nEach layer learns features of the one before.", "chunk_tokens": 12, "overlap_tokens": 0}"""),
        "EmbedAll" => JsonNode.Parse("""{"inputs": "What is Deep Learning?"}"""),
        "Tokenize" => JsonNode.Parse("""{"inputs": "What is Deep Learning?", "add_special_tokens": true}"""),
        "Similarity" => JsonNode.Parse("""{"inputs": {"source_sentence": "What is Deep Learning?", "sentences": ["Deep learning is a subset of machine learning.", "The cat sat on the mat."]}}"""),
        "CreateEmbeddings" => JsonNode.Parse("""{"input": ["The food was delicious.", "The waiter was friendly."], "model": "all-MiniLM-L6-v2", "encoding_format": "float"}"""),
        _ => null,
    };

    /// <summary>Success examples by operation id (vectors shortened: real ones have the model's dimensions, 384 for the built-in models).</summary>
    public static JsonNode? ResponseExample(string? operationId) => operationId switch
    {
        "Embed" => JsonNode.Parse("[[0.0189, -0.0452, 0.0731, 0.0012], [0.0263, -0.0518, 0.0655, -0.0104]]"),
        "EmbedChunks" => JsonNode.Parse("""
            [[{"start": 0, "end": 46, "tokens": 9, "embedding": [0.0189, -0.0452, 0.0731, 0.0012]},
              {"start": 47, "end": 88, "tokens": 8, "embedding": [0.0263, -0.0518, 0.0655, -0.0104]},
              {"start": 89, "end": 134, "tokens": 9, "embedding": [-0.0311, 0.0127, 0.0484, 0.0539]}]]
            """),
        "EmbedAll" => JsonNode.Parse("[[[0.1032, -0.2213, 0.0417], [0.2871, 0.0153, -0.1190], [0.0945, -0.0611, 0.2236]]]"),
        "Tokenize" => JsonNode.Parse("""
            [[{"id": 101, "text": "[CLS]", "special": true, "start": null, "stop": null},
              {"id": 2054, "text": "what", "special": false, "start": 0, "stop": 4},
              {"id": 102, "text": "[SEP]", "special": true, "start": null, "stop": null}]]
            """),
        "Similarity" => JsonNode.Parse("[0.7436, 0.0413]"),
        "CreateEmbeddings" => JsonNode.Parse("""
            {"object": "list", "data": [
              {"object": "embedding", "index": 0, "embedding": [0.0189, -0.0452, 0.0731, 0.0012]},
              {"object": "embedding", "index": 1, "embedding": "PFqaPGTmOb0="}],
             "model": "all-MiniLM-L6-v2", "usage": {"prompt_tokens": 14, "total_tokens": 14}}
            """),
        "ListModels" => JsonNode.Parse("""
            {"object": "list", "data": [
              {"id": "all-MiniLM-L6-v2", "object": "model", "created": 1764374400, "owned_by": "embedding-service"},
              {"id": "snowflake-arctic-embed-xs", "object": "model", "created": 1764374400, "owned_by": "embedding-service"}]}
            """),
        _ => null,
    };

    private static JsonNode Tei(string error, string type) => new JsonObject { ["error"] = error, ["error_type"] = type };

    private static JsonNode OpenAi(string message, string type, string? param, string? code) => new JsonObject
    {
        ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = param, ["code"] = code },
    };
}
