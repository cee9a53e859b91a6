using EmbeddingService.Client;
using EmbeddingService.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace EmbeddingService.Tests.Client;

/// <summary>Our <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>, registered by <c>AddEmbeddingServiceClient</c>, against the real service.</summary>
public sealed class EmbeddingGeneratorTests(EmbeddingServiceFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private (ServiceProvider Provider, List<HttpRequestMessage> Requests) Build(Action<EmbeddingServiceClientOptions> configure)
    {
        var requests = new List<HttpRequestMessage>();
        var services = new ServiceCollection();
        services.AddEmbeddingServiceClient(options =>
            {
                options.BaseAddress = factory.Server.BaseAddress;
                configure(options);
            })
            .ConfigurePrimaryHttpMessageHandler(() => factory.Server.CreateHandler())
            .AddHttpMessageHandler(() => new RecordingHandler(requests));
        return (services.BuildServiceProvider(), requests);
    }

    [Fact]
    public async Task The_long_input_policy_comes_from_the_options_or_the_call()
    {
        var document = string.Join(" ", EvalData.StsPairs("dev").Take(80).Select(static p => p.First));
        var (provider, _) = Build(o => o.LongInput = OpenAiEmbeddingRequestLongInput.Mean);
        await using var __ = provider;
        var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();

        var mean = await generator.GenerateAsync([document], cancellationToken: Ct);
        var expected = await factory.CreateClient().EmbedAsync(new { inputs = document, long_input = "mean" });
        Vectors.AssertSame(expected[0], mean[0].Vector.Span);

        var refused = await Assert.ThrowsAsync<EmbeddingServiceApiException<OpenAiErrorResponse>>(() => generator.GenerateAsync([document],
            new EmbeddingGenerationOptions { AdditionalProperties = new AdditionalPropertiesDictionary { ["long_input"] = "error" } }, Ct));
        Assert.Equal(400, refused.StatusCode);
        Assert.Contains("the limit of model 'all-MiniLM-L6-v2' is 256", refused.Result.Error.Message);
    }

    [Fact]
    public async Task Large_inputs_go_in_batches_and_come_back_in_order_with_summed_usage()
    {
        var texts = Enumerable.Range(0, 10).Select(i => $"Sentence number {i} about {(i % 2 == 0 ? "cats" : "the stock market")}.").ToList();
        var (provider, requests) = Build(o => o.MaxInputsPerRequest = 3);
        await using var _ = provider;
        var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();

        var embeddings = await generator.GenerateAsync(texts, cancellationToken: Ct);

        Assert.Equal(texts.Count, embeddings.Count);
        Assert.Equal(4, requests.Count(r => r.RequestUri!.AbsolutePath == "/v1/embeddings"));
        var expected = await Vectors.FromEmbedAsync(factory.CreateClient(), texts);
        for (var i = 0; i < texts.Count; i++)
        {
            Vectors.AssertSame(expected[i], embeddings[i].Vector.Span);
            Assert.Equal("all-MiniLM-L6-v2", embeddings[i].ModelId);
        }

        var whole = await new EmbeddingServiceApiClient(factory.CreateClient())
            .CreateEmbeddingsAsync(new OpenAiEmbeddingRequest { Input = texts, Model = "all-MiniLM-L6-v2" }, Ct);
        Assert.NotNull(embeddings.Usage);
        Assert.Equal(whole.Usage.PromptTokens, embeddings.Usage.InputTokenCount);
        Assert.Equal(whole.Usage.TotalTokens, embeddings.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Model_and_dimensions_options_are_passed_through()
    {
        var (provider, _) = Build(static _ => { });
        await using var __ = provider;
        var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();

        var embeddings = await generator.GenerateAsync(["hello world"],
            new EmbeddingGenerationOptions { ModelId = "snowflake-arctic-embed-xs", Dimensions = 64 }, Ct);

        Assert.Equal(64, embeddings[0].Dimensions);
        Assert.Equal("snowflake-arctic-embed-xs", embeddings[0].ModelId);
        var expected = await Vectors.FromEmbedAsync(factory.CreateClient(), ["hello world"], "snowflake-arctic-embed-xs", 64);
        Vectors.AssertSame(expected[0], embeddings[0].Vector.Span);
    }

    [Fact]
    public async Task Api_key_is_sent_as_a_bearer_token_and_metadata_names_the_service()
    {
        var (provider, requests) = Build(static o => o.ApiKey = "secret-key");
        await using var _ = provider;
        var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();

        await generator.GenerateAsync(["hi"], cancellationToken: Ct);

        Assert.All(requests, r => Assert.Equal("Bearer secret-key", r.Headers.Authorization?.ToString()));
        var metadata = generator.GetService<EmbeddingGeneratorMetadata>();
        Assert.Equal("embedding-service", metadata!.ProviderName);
        Assert.Equal(factory.Server.BaseAddress, metadata.ProviderUri);
    }

    [Fact]
    public async Task A_cancelled_call_throws_without_sending()
    {
        var (provider, requests) = Build(static o => o.DefaultModelId = "all-MiniLM-L6-v2");
        await using var _ = provider;
        var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => generator.GenerateAsync(["a", "b"], cancellationToken: cancelled.Token));
        Assert.Empty(requests);
    }

    [Fact]
    public void Batches_respect_both_the_count_and_the_character_limits()
    {
        var generator = new EmbeddingServiceEmbeddingGenerator(() => null!, new EmbeddingServiceClientOptions { MaxInputsPerRequest = 3, MaxCharsPerRequest = 10 });
        var batches = generator.Cut(["aaaa", "bbbb", "ccc", "dddddddddddddd", "e", "f", "g", "h"]);
        Assert.Equal([(0, 2), (2, 1), (3, 1), (4, 3), (7, 1)], batches.Select(b => (b.Offset, b.Inputs.Count)));
    }

    private sealed class RecordingHandler(List<HttpRequestMessage> requests) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (requests)
            {
                requests.Add(request);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
