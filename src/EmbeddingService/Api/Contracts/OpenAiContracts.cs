using System.ComponentModel;

namespace EmbeddingService.Api.Contracts;

/// <summary>Body of <c>POST /v1/embeddings</c> (OpenAI).</summary>
public sealed record OpenAiEmbeddingRequest
{
    /// <summary>A string, a list of strings, a list of token ids, or a list of lists of token ids.</summary>
    public OpenAiInput? Input { get; set; }

    /// <summary>The model id (see <c>GET /v1/models</c>).</summary>
    public string? Model { get; set; }

    /// <summary><c>float</c> or <c>base64</c> (little-endian float32).</summary>
    [DefaultValue("float")]
    public string? EncodingFormat { get; set; }

    /// <summary>Keep only the first N components (then re-normalize).</summary>
    public int? Dimensions { get; set; }

    /// <summary>Not OpenAI's: an input longer than the model's limit is <c>truncate</c>d, an <c>error</c> (400), or embedded
    /// in chunks and pooled by their token-weighted <c>mean</c>. Default: the server's <c>Limits:LongInput</c>. OpenAI SDKs
    /// send it as an extra body field (Python: <c>extra_body={"long_input": "mean"}</c>).</summary>
    public string? LongInput { get; set; }

    /// <summary>An end-user id; accepted for compatibility and not stored.</summary>
    public string? User { get; set; }
}

public sealed record OpenAiEmbeddingResponse(string Object, IReadOnlyList<OpenAiEmbedding> Data, string Model, OpenAiUsage Usage);

/// <param name="Object">Always <c>embedding</c>.</param>
/// <param name="Index">The input's position in the request.</param>
/// <param name="Embedding">The vector: a list of floats, or a base64 string of little-endian float32 values.</param>
public sealed record OpenAiEmbedding(string Object, int Index, EmbeddingVector Embedding);

public sealed record OpenAiUsage(int PromptTokens, int TotalTokens);

public sealed record OpenAiModelList(string Object, IReadOnlyList<OpenAiModel> Data);

/// <param name="Id">The id to put in <c>model</c>.</param>
/// <param name="Object">Always <c>model</c>.</param>
/// <param name="Created">When the service was built (Unix seconds).</param>
/// <param name="OwnedBy">Always <c>embedding-service</c>.</param>
/// <param name="ModelDtype">Not in OpenAI's shape (its SDKs ignore it): <c>float32</c>, or <c>int8</c> for an int8 variant.</param>
public sealed record OpenAiModel(string Id, string Object, long Created, string OwnedBy, string ModelDtype);

/// <summary>OpenAI's error body.</summary>
public sealed record OpenAiErrorResponse(OpenAiError Error);

public sealed record OpenAiError(string Message, string Type, string? Param, string? Code);
