using System.Net.Http.Headers;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using EmbeddingService.Client;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the EmbeddingService client with IHttpClientFactory.</summary>
public static class EmbeddingServiceClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IEmbeddingServiceApiClient"/> (a typed HttpClient with the base address and API key) and a singleton
    /// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of <c>string</c> to <c>Embedding&lt;float&gt;</c> over it.
    /// </summary>
    /// <returns>The HttpClient builder, to add handlers (resilience, logging) or a primary handler.</returns>
    public static IHttpClientBuilder AddEmbeddingServiceClient(this IServiceCollection services, Action<EmbeddingServiceClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<EmbeddingServiceClientOptions>()
            .Configure(configure)
            .Validate(static o => o.BaseAddress is { IsAbsoluteUri: true }, "EmbeddingServiceClientOptions.BaseAddress must be an absolute URI, e.g. http://localhost:8080/.")
            .Validate(static o => o.MaxInputsPerRequest >= 1 && o.MaxCharsPerRequest >= 1 && o.MaxConcurrentRequests >= 1,
                "EmbeddingServiceClientOptions: MaxInputsPerRequest, MaxCharsPerRequest and MaxConcurrentRequests must be at least 1.");

        var builder = services.AddHttpClient<IEmbeddingServiceApiClient, EmbeddingServiceApiClient>(static (provider, http) =>
        {
            var options = provider.GetRequiredService<IOptions<EmbeddingServiceClientOptions>>().Value;
            http.BaseAddress = WithTrailingSlash(options.BaseAddress!);
            http.Timeout = options.Timeout;
            if (!string.IsNullOrEmpty(options.ApiKey))
            {
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
            }
        });

        services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(static provider =>
            new EmbeddingServiceEmbeddingGenerator(provider.GetRequiredService<IEmbeddingServiceApiClient>,
                provider.GetRequiredService<IOptions<EmbeddingServiceClientOptions>>().Value));
        return builder;
    }

    /// <summary>Registers the client for a base address and an optional API key.</summary>
    public static IHttpClientBuilder AddEmbeddingServiceClient(this IServiceCollection services, Uri baseAddress, string? apiKey = null)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        return services.AddEmbeddingServiceClient(options =>
        {
            options.BaseAddress = baseAddress;
            options.ApiKey = apiKey;
        });
    }

    /// <summary>The generated client uses relative paths (<c>v1/embeddings</c>): a base path must end with a slash to keep its last segment.</summary>
    private static Uri WithTrailingSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
