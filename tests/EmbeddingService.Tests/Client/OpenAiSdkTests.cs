using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using EmbeddingService.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Embeddings;

namespace EmbeddingService.Tests.Client;

/// <summary>The official OpenAI .NET SDK and Microsoft.Extensions.AI.OpenAI, pointed at <c>/v1</c>: only the endpoint changes.</summary>
public sealed class OpenAiSdkTests(EmbeddingServiceFactory factory)
{
    private static readonly string[] s_texts = ["The food was delicious and the waiter was friendly.", "Quantum computers use qubits."];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private EmbeddingClient NewClient(string model) => new(model, new ApiKeyCredential("any-key"), new OpenAIClientOptions
    {
        Endpoint = new Uri(factory.Server.BaseAddress, "v1"),
        Transport = new HttpClientPipelineTransport(factory.CreateClient()),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    });

    [Fact]
    public async Task Sdk_default_base64_path_gets_the_embed_vectors()
    {
        var client = NewClient("all-MiniLM-L6-v2");
        var expected = await Vectors.FromEmbedAsync(factory.CreateClient(), s_texts);

        OpenAIEmbeddingCollection embeddings = await client.GenerateEmbeddingsAsync(s_texts, cancellationToken: Ct);
        Assert.Equal(2, embeddings.Count);
        Vectors.AssertSame(expected[0], embeddings[0].ToFloats().Span);
        Vectors.AssertSame(expected[1], embeddings[1].ToFloats().Span);
        Assert.Equal("all-MiniLM-L6-v2", embeddings.Model);
        Assert.True(embeddings.Usage.InputTokenCount > 0);

        OpenAIEmbedding single = await client.GenerateEmbeddingAsync(s_texts[0], new OpenAI.Embeddings.EmbeddingGenerationOptions { Dimensions = 64 }, Ct);
        Assert.Equal(64, single.ToFloats().Length);
    }

    [Fact]
    public async Task Sdk_protocol_method_with_float_encoding_gets_the_embed_vectors()
    {
        var client = NewClient("all-MiniLM-L6-v2");
        var expected = await Vectors.FromEmbedAsync(factory.CreateClient(), s_texts);
        var body = BinaryContent.Create(BinaryData.FromObjectAsJson(new { model = "all-MiniLM-L6-v2", input = s_texts, encoding_format = "float" }));

        var result = await client.GenerateEmbeddingsAsync(body, new RequestOptions { CancellationToken = Ct });

        using var json = JsonDocument.Parse(result.GetRawResponse().Content);
        var data = json.RootElement.GetProperty("data");
        for (var i = 0; i < s_texts.Length; i++)
        {
            var vector = data[i].GetProperty("embedding").EnumerateArray().Select(static v => v.GetSingle()).ToArray();
            Vectors.AssertSame(expected[i], vector);
        }
    }

    [Fact]
    public async Task Sdk_unknown_model_is_a_404_ClientResultException()
    {
        var exception = await Assert.ThrowsAsync<ClientResultException>(() => NewClient("no-such-model").GenerateEmbeddingsAsync(s_texts, cancellationToken: Ct));
        Assert.Equal(404, exception.Status);
        Assert.Contains("no-such-model", exception.Message);
    }

    [Fact]
    public async Task Extensions_ai_openai_generator_gets_the_embed_vectors()
    {
        using var generator = NewClient("all-MiniLM-L6-v2").AsIEmbeddingGenerator();
        var expected = await Vectors.FromEmbedAsync(factory.CreateClient(), s_texts);

        var embeddings = await generator.GenerateAsync(s_texts, cancellationToken: Ct);

        Assert.Equal(2, embeddings.Count);
        Vectors.AssertSame(expected[0], embeddings[0].Vector.Span);
        Vectors.AssertSame(expected[1], embeddings[1].Vector.Span);
        Assert.True(embeddings.Usage?.InputTokenCount > 0);

        var shortened = await generator.GenerateAsync(["hello"], new Microsoft.Extensions.AI.EmbeddingGenerationOptions { Dimensions = 32 }, Ct);
        Assert.Equal(32, shortened[0].Dimensions);
    }

    [Fact]
    public async Task Extensions_ai_openai_generator_unknown_model_is_a_404_ClientResultException()
    {
        using var generator = NewClient("no-such-model").AsIEmbeddingGenerator();
        var exception = await Assert.ThrowsAsync<ClientResultException>(() => generator.GenerateAsync(["hello"], cancellationToken: Ct));
        Assert.Equal(404, exception.Status);
    }
}
