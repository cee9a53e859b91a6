namespace EmbeddingService.Client;

/// <summary>Where the service is, how to authenticate, and how <see cref="Microsoft.Extensions.AI.IEmbeddingGenerator{TInput, TEmbedding}"/> cuts requests.</summary>
public sealed class EmbeddingServiceClientOptions
{
    /// <summary>The service's root, e.g. <c>http://embeddings:8080/</c> (the OpenAI routes are under <c>v1/</c> of it).</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>Sent as <c>Authorization: Bearer &lt;key&gt;</c> when set (the server's <c>Auth:ApiKeys</c>).</summary>
    public string? ApiKey { get; set; }

    /// <summary>The model for requests whose options name none; when null, the server's default (read once from <c>GET /info</c>).</summary>
    public string? DefaultModelId { get; set; }

    /// <summary>Most inputs per request. Keep it at or under the server's <c>Limits:MaxInputsPerRequest</c> (2048 by default).</summary>
    public int MaxInputsPerRequest { get; set; } = 256;

    /// <summary>Most characters per request, so a batch of long texts stays under the server's <c>Limits:MaxRequestBodyBytes</c> (2 MB by default).</summary>
    public int MaxCharsPerRequest { get; set; } = 500_000;

    /// <summary>How many batch requests of one call run at once (the server batches across requests anyway).</summary>
    public int MaxConcurrentRequests { get; set; } = 2;

    /// <summary>What the service does with a text longer than the model's limit: truncate it, refuse it, or embed it in
    /// chunks and average them (<c>Mean</c>); null leaves it to the server's <c>Limits:LongInput</c>. A call can choose its
    /// own with <c>EmbeddingGenerationOptions.AdditionalProperties["long_input"]</c> (<c>"truncate"</c>, <c>"error"</c>,
    /// <c>"mean"</c>, or the enum).</summary>
    public OpenAiEmbeddingRequestLongInput? LongInput { get; set; }

    /// <summary>HTTP timeout per request.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);

    internal void Validate()
    {
        if (MaxInputsPerRequest < 1 || MaxCharsPerRequest < 1 || MaxConcurrentRequests < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxInputsPerRequest), "MaxInputsPerRequest, MaxCharsPerRequest and MaxConcurrentRequests must be at least 1.");
        }
    }
}
