using Microsoft.Extensions.AI;

namespace EmbeddingService.Client;

/// <summary>Turns the generated client into a Microsoft.Extensions.AI embedding generator.</summary>
public static class EmbeddingServiceClientExtensions
{
    /// <summary>
    /// An <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> that calls <c>POST /v1/embeddings</c> through <paramref name="client"/>,
    /// cutting large inputs into requests under the limits in <paramref name="options"/>.
    /// </summary>
    public static IEmbeddingGenerator<string, Embedding<float>> AsIEmbeddingGenerator(this IEmbeddingServiceApiClient client, EmbeddingServiceClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new EmbeddingServiceEmbeddingGenerator(() => client, options ?? new EmbeddingServiceClientOptions());
    }
}
