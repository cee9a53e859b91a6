using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using EmbeddingService.Inference.Batching;
using EmbeddingService.Inference.Caching;
using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Runtime;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Inference;

public static class InferenceServiceCollectionExtensions
{
    /// <summary>
    /// Registers the model catalog, the embedding cache, the embedder and their options (bound from <c>Models</c>, <c>Batching</c> and <c>Cache</c>,
    /// validated at start-up), and a hosted service that loads and warms the models, then drains them on shutdown.
    /// </summary>
    public static IServiceCollection AddEmbeddingInference(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<ModelsOptions>().Bind(configuration.GetSection(ModelsOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ModelsOptions>, ModelsOptionsValidator>();
        services.AddSingleton<IValidateOptions<ModelsOptions>, ModelsOptionsConsistencyValidator>();
        services.AddOptions<BatchingOptions>().Bind(configuration.GetSection(BatchingOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BatchingOptions>, BatchingOptionsValidator>();

        services.AddOptions<EmbeddingCacheOptions>().Bind(configuration.GetSection(EmbeddingCacheOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EmbeddingCacheOptions>, EmbeddingCacheOptionsValidator>();
        services.AddSingleton<EmbeddingCache>();

        services.AddSingleton<EmbeddingMetrics>();
        services.TryAddSingleton<IBatchRunnerFactory, OnnxBatchRunnerFactory>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<Embedder>();
        services.AddSingleton<Cl100kTokenDecoder>();
        services.AddHostedService<ModelLifetimeService>();
        return services;
    }
}
