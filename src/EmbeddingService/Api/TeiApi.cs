using System.Numerics.Tensors;
using Microsoft.AspNetCore.Http.HttpResults;
using Serilog;
using EmbeddingService.Api.Contracts;
using EmbeddingService.Inference;

namespace EmbeddingService.Api;

/// <summary>The Text Embeddings Inference surface: <c>/embed</c>, <c>/tokenize</c>, <c>/similarity</c>.</summary>
internal static class TeiApi
{
    public static IEndpointRouteBuilder MapTeiApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("").WithTags("Text Embeddings Inference");

        api.MapPost("/embed", EmbedAsync)
            .WithName("Embed")
            .WithSummary("Embed one or more texts")
            .WithDescription("Returns one vector per input, in input order, always as a list of lists.")
            .ProducesTeiErrors();

        api.MapPost("/tokenize", Tokenize)
            .WithName("Tokenize")
            .WithSummary("Tokenize one or more texts with the model's tokenizer")
            .ProducesTeiErrors();

        api.MapPost("/similarity", SimilarityAsync)
            .WithName("Similarity")
            .WithSummary("Cosine similarity of a source sentence with each of several sentences")
            .ProducesTeiErrors();

        return app;
    }

    public static async Task<Ok<float[][]>> EmbedAsync(EmbedRequest request, Embedder embedder, RequestRules rules, IDiagnosticContext diagnostics, HttpContext context)
    {
        rules.CheckTexts(request.Inputs?.Items, "inputs", allowEmptyStrings: true);
        var options = new EmbeddingRequestOptions
        {
            Model = request.Model,
            Normalize = request.Normalize,
            Truncate = rules.ResolveTruncate(request.Truncate),
            TruncationDirection = RequestRules.ParseDirection(request.TruncationDirection),
            PromptName = request.PromptName,
            Dimensions = request.Dimensions,
        };

        var result = await embedder.EmbedAsync(request.Inputs!.Items, options, context.RequestAborted);
        ResponseTimings.Report(context, diagnostics, result);
        var vectors = new float[result.Count][];
        for (var i = 0; i < result.Count; i++)
        {
            vectors[i] = result[i].ToArray();
        }

        return TypedResults.Ok(vectors);
    }

    public static Ok<List<List<SimpleToken>>> Tokenize(TokenizeRequest request, Embedder embedder, RequestRules rules)
    {
        rules.CheckTexts(request.Inputs?.Items, "inputs", allowEmptyStrings: true);
        var result = new List<List<SimpleToken>>(request.Inputs!.Items.Count);
        foreach (var text in request.Inputs.Items)
        {
            result.Add(embedder.Tokenize(text, request.Model, request.PromptName, request.AddSpecialTokens)
                .Select(static t => new SimpleToken(t.Id, t.Text, t.Special, t.Start, t.Stop))
                .ToList());
        }

        return TypedResults.Ok(result);
    }

    public static async Task<Ok<float[]>> SimilarityAsync(SimilarityRequest request, Embedder embedder, RequestRules rules, IDiagnosticContext diagnostics, HttpContext context)
    {
        if (request.Inputs?.SourceSentence is null)
        {
            throw EmbeddingException.Validation("`inputs.source_sentence` is required.", "inputs");
        }

        rules.CheckCount(request.Inputs.Sentences?.Count, "inputs.sentences");
        var texts = new List<string>(request.Inputs.Sentences!.Count + 1) { request.Inputs.SourceSentence };
        texts.AddRange(request.Inputs.Sentences);
        rules.CheckTexts(texts, "inputs", allowEmptyStrings: true);

        var options = new EmbeddingRequestOptions
        {
            Model = request.Model,
            Truncate = rules.ResolveTruncate(request.Truncate),
            TruncationDirection = RequestRules.ParseDirection(request.TruncationDirection),
            PromptName = request.PromptName,
        };
        var result = await embedder.EmbedAsync(texts, options, context.RequestAborted);
        ResponseTimings.Report(context, diagnostics, result);

        var scores = new float[result.Count - 1];
        for (var i = 1; i < result.Count; i++)
        {
            scores[i - 1] = TensorPrimitives.CosineSimilarity(result[0], result[i]);
        }

        return TypedResults.Ok(scores);
    }

}
