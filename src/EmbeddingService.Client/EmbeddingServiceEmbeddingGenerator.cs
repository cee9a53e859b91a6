using Microsoft.Extensions.AI;

namespace EmbeddingService.Client;

/// <summary>
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over the generated client's <c>POST /v1/embeddings</c>: cuts the inputs
/// into requests under the server's limits, runs a few at once, and puts the vectors back in input order with the summed usage.
/// Safe for concurrent use.
/// </summary>
internal sealed class EmbeddingServiceEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly Func<IEmbeddingServiceApiClient> _clientFactory;
    private readonly EmbeddingServiceClientOptions _options;
    private readonly EmbeddingGeneratorMetadata _metadata;
    private Task<string>? _serverDefaultModel;

    /// <param name="clientFactory">Gives a client per call (with IHttpClientFactory, a fresh typed client; otherwise the same one).</param>
    /// <param name="options">Limits and the default model; <see cref="EmbeddingServiceClientOptions.BaseAddress"/> is only reported in the metadata.</param>
    public EmbeddingServiceEmbeddingGenerator(Func<IEmbeddingServiceApiClient> clientFactory, EmbeddingServiceClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(clientFactory);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _clientFactory = clientFactory;
        _options = options;
        _metadata = new EmbeddingGeneratorMetadata("embedding-service", options.BaseAddress, options.DefaultModelId);
    }

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var inputs = values as IReadOnlyList<string> ?? values.ToList();
        if (inputs.Count == 0)
        {
            return [];
        }

        var model = options?.ModelId ?? _options.DefaultModelId ?? await DefaultModelAsync(cancellationToken);
        var batches = Cut(inputs);
        var results = new Embedding<float>[inputs.Count];
        long promptTokens = 0;
        long totalTokens = 0;
        var client = _clientFactory();

        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentRequests, CancellationToken = cancellationToken },
            async (batch, ct) =>
            {
                var request = new OpenAiEmbeddingRequest
                {
                    Input = batch.Inputs,
                    Model = model,
                    Dimensions = options?.Dimensions,
                    EncodingFormat = OpenAiEmbeddingRequestEncodingFormat.Float,
                    LongInput = LongInputOf(options) ?? _options.LongInput,
                };
                var response = await client.CreateEmbeddingsAsync(request, ct).ConfigureAwait(false);
                if (response.Data.Count != batch.Inputs.Count)
                {
                    throw new InvalidOperationException($"The service returned {response.Data.Count} embeddings for {batch.Inputs.Count} inputs.");
                }

                var created = DateTimeOffset.UtcNow;
                foreach (var item in response.Data)
                {
                    var vector = item.Embedding as float[] ?? [.. item.Embedding];
                    results[batch.Offset + item.Index] = new Embedding<float>(vector) { ModelId = response.Model, CreatedAt = created };
                }

                Interlocked.Add(ref promptTokens, response.Usage.PromptTokens);
                Interlocked.Add(ref totalTokens, response.Usage.TotalTokens);
            }).ConfigureAwait(false);

        return new GeneratedEmbeddings<Embedding<float>>(results)
        {
            Usage = new UsageDetails { InputTokenCount = promptTokens, TotalTokenCount = totalTokens },
        };
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
            : serviceType == typeof(IEmbeddingServiceApiClient) ? _clientFactory()
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    public void Dispose()
    {
        // The HTTP clients belong to whoever made them (IHttpClientFactory or the caller).
    }

    /// <summary>Consecutive slices of the inputs, each under the count and character limits (a single over-long input goes alone).</summary>
    internal List<(int Offset, List<string> Inputs)> Cut(IReadOnlyList<string> inputs)
    {
        var batches = new List<(int, List<string>)>();
        var current = new List<string>();
        var offset = 0;
        var chars = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var text = inputs[i] ?? throw new ArgumentException($"Input {i} is null.", nameof(inputs));
            if (current.Count > 0 && (current.Count == _options.MaxInputsPerRequest || chars + text.Length > _options.MaxCharsPerRequest))
            {
                batches.Add((offset, current));
                offset = i;
                current = [];
                chars = 0;
            }

            current.Add(text);
            chars += text.Length;
        }

        batches.Add((offset, current));
        return batches;
    }

    private async Task<string> DefaultModelAsync(CancellationToken cancellationToken)
    {
        // Read once and shared; a failure (e.g. the server was still starting) is not remembered: the next call asks again.
        var task = Volatile.Read(ref _serverDefaultModel);
        if (task is null || task.IsFaulted || task.IsCanceled)
        {
            var fresh = ReadDefaultModelAsync();
            task = Interlocked.CompareExchange(ref _serverDefaultModel, fresh, task) == task ? fresh : Volatile.Read(ref _serverDefaultModel)!;
        }

        return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> ReadDefaultModelAsync()
    {
        var info = await _clientFactory().InfoAsync().ConfigureAwait(false);
        return info.ModelId;
    }

    /// <summary>A call's own long-input policy, from <c>AdditionalProperties["long_input"]</c>.</summary>
    /// <exception cref="ArgumentException">A value that is not a policy.</exception>
    private static OpenAiEmbeddingRequestLongInput? LongInputOf(EmbeddingGenerationOptions? options) =>
        options?.AdditionalProperties?.TryGetValue("long_input", out var value) != true || value is null ? null
        : value is OpenAiEmbeddingRequestLongInput policy ? policy
        : Enum.TryParse<OpenAiEmbeddingRequestLongInput>(value.ToString(), ignoreCase: true, out var parsed) ? parsed
        : throw new ArgumentException($"long_input must be truncate, error or mean; got '{value}'.", nameof(options));
}
