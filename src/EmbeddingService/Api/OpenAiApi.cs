using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Serilog;
using EmbeddingService.Api.Contracts;
using EmbeddingService.Hosting;
using EmbeddingService.Inference;
using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Api;

/// <summary>The OpenAI surface: <c>/v1/embeddings</c> and <c>/v1/models</c>, so OpenAI SDKs work by changing the base URL.</summary>
internal static class OpenAiApi
{
    /// <summary>OpenAI's <c>created</c>: when this build was made (the models ship with it).</summary>
    private static readonly long s_created = new DateTimeOffset(File.GetLastWriteTimeUtc(typeof(OpenAiApi).Assembly.Location)).ToUnixTimeSeconds();

    /// <summary>TEI serves the OpenAI route without <c>/v1</c> too.</summary>
    public const string EmbeddingsAlias = "/embeddings";

    public static IEndpointRouteBuilder MapOpenAiApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("OpenAI");

        api.MapPost("/embeddings", CreateEmbeddingsAsync)
            .WithName("CreateEmbeddings")
            .WithSummary("Create embeddings (OpenAI-compatible)")
            .WithDescription("Accepts a string, a list of strings, or token ids (cl100k_base by default). encoding_format base64 returns little-endian float32.")
            .ProducesOpenAiErrors();

        // The same handler (body, answer, OpenAI error shape, middleware); left out of the OpenAPI document like TEI's other
        // aliases, so generated clients get one method for the operation.
        app.MapPost(EmbeddingsAlias, CreateEmbeddingsAsync).WithTags("OpenAI").ExcludeFromDescription();

        api.MapGet("/models", ListModels)
            .WithName("ListModels")
            .WithSummary("List the loaded models (OpenAI-compatible)")
            .ProducesOpenAiErrors();

        return app;
    }

    public static async Task<Ok<OpenAiEmbeddingResponse>> CreateEmbeddingsAsync(OpenAiEmbeddingRequest request, Embedder embedder, RequestRules rules,
        Cl100kTokenDecoder cl100k, IOptions<OpenAiOptions> openAiOptions, IDiagnosticContext diagnostics, HttpContext context)
    {
        if (string.IsNullOrWhiteSpace(request.Model))
        {
            throw EmbeddingException.Validation("You must provide a model parameter (see GET /v1/models).", "model");
        }

        var base64 = request.EncodingFormat?.ToLowerInvariant() switch
        {
            null or "float" => false,
            "base64" => true,
            _ => throw EmbeddingException.Validation($"`encoding_format` must be 'float' or 'base64'. Given: '{request.EncodingFormat}'", "encoding_format"),
        };

        var options = new EmbeddingRequestOptions
        {
            Model = request.Model,
            Dimensions = request.Dimensions,
            LongInput = rules.ResolveLongInput(request.LongInput),
            MaxChunks = rules.MaxChunks,
            Cache = RequestRules.ParseCacheUse(context.Request),
        };
        var input = request.Input;
        EmbeddingResult result;
        if (input?.TokenIds is { } tokenIds)
        {
            rules.CheckCount(tokenIds.Count, "input");
            if (tokenIds.Any(static ids => ids.Count == 0))
            {
                throw new EmbeddingException(EmbeddingErrorKind.Empty, "`input` holds an empty list of token ids.", "input");
            }

            if (openAiOptions.Value.TokenIdInputs == TokenIdVocabulary.Model)
            {
                result = await embedder.EmbedTokenIdsAsync(tokenIds, options, context.RequestAborted);
            }
            else
            {
                var texts = tokenIds.Select(cl100k.Decode).ToList();
                rules.CheckTexts(texts, "input", allowEmptyStrings: true);
                result = await embedder.EmbedAsync(texts, options, context.RequestAborted);
            }
        }
        else
        {
            // OpenAI rejects empty strings; so do we, on this surface.
            rules.CheckTexts(input?.Texts, "input", allowEmptyStrings: false);
            result = await embedder.EmbedAsync(input!.Texts!, options, context.RequestAborted);
        }

        ResponseTimings.Report(context, diagnostics, result);
        var data = new OpenAiEmbedding[result.Count];
        for (var i = 0; i < result.Count; i++)
        {
            data[i] = new OpenAiEmbedding("embedding", i, new EmbeddingVector(result.GetVector(i), base64));
        }

        return TypedResults.Ok(new OpenAiEmbeddingResponse("list", data, result.ModelId, new OpenAiUsage(result.PromptTokens, result.PromptTokens)));
    }

    public static Ok<OpenAiModelList> ListModels(ModelCatalog catalog)
    {
        catalog.EnsureReady();
        var models = catalog.Models.OrderBy(static m => m.Id, StringComparer.Ordinal)
            .Select(static m => new OpenAiModel(m.Id, "model", s_created, "embedding-service", m.Manifest.Dtype))
            .ToList();
        return TypedResults.Ok(new OpenAiModelList("list", models));
    }
}
