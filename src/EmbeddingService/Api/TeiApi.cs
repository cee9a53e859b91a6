using System.Numerics.Tensors;
using Microsoft.AspNetCore.Http.HttpResults;
using Serilog;
using EmbeddingService.Api.Contracts;
using EmbeddingService.Inference;
using EmbeddingService.Inference.Models;

namespace EmbeddingService.Api;

/// <summary>The Text Embeddings Inference surface: <c>/embed</c>, <c>/embed_chunks</c>, <c>/embed_all</c>, <c>/tokenize</c>,
/// <c>/decode</c>, <c>/similarity</c>; TEI's aliases of <c>/embed</c> (<c>POST /</c>, <c>POST /invocations</c>); and TEI's
/// routes for other kinds of model, which answer that no such model is served.</summary>
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

        api.MapPost("/embed_chunks", EmbedChunksAsync)
            .WithName("EmbedChunks")
            .WithSummary("Embed whole documents in chunks, with each chunk's span")
            .WithDescription("Cuts each document into chunks of at most `chunk_tokens` tokens, at word boundaries and, where one lies within the budget, at a sentence end, and returns per document its chunks in text order: where each lies in the text (`text[start:end]`), its tokens and its vector, equal to what /embed returns for that text. Each document is tokenized once; chunks share batches with other requests.")
            .ProducesTeiErrors();

        api.MapPost("/embed_all", EmbedAllAsync)
            .WithName("EmbedAll")
            .WithSummary("The token vectors of each input, not pooled")
            .WithDescription("One vector per token, special tokens included, not normalized (TEI's /embed_all). For a mean-pooled model, their mean is what /embed returns with normalize false. A request's tokens are bounded by Limits:MaxEmbedAllTokens.")
            .ProducesTeiErrors();

        api.MapPost("/tokenize", Tokenize)
            .WithName("Tokenize")
            .WithSummary("Tokenize one or more texts with the model's tokenizer")
            .ProducesTeiErrors();

        api.MapPost("/similarity", SimilarityAsync)
            .WithName("Similarity")
            .WithSummary("Cosine similarity of a source sentence with each of several sentences")
            .ProducesTeiErrors();

        api.MapPost("/decode", Decode)
            .WithName("Decode")
            .WithSummary("Token ids back to text")
            .WithDescription("Always a list of texts, one per list of ids (one for a single list), as TEI answers.")
            .ProducesTeiErrors();

        // TEI's aliases of /embed for an embedding model: the Hugging Face Inference API and its clients post to the root,
        // AWS SageMaker to /invocations. The same handler, so the same body, answer, errors, and the same middleware (auth,
        // rate limit, request timeout, logging). Left out of the OpenAPI document: a client generated from it gets one
        // method per operation, and /embed is that operation.
        api.MapPost("/", EmbedAsync).ExcludeFromDescription();
        api.MapPost("/invocations", EmbedAsync).ExcludeFromDescription();

        // TEI's routes for re-rankers, classifiers and SPLADE models. This service serves embedding models only, so they
        // answer as TEI does for a model of the wrong type (424), naming what is served, rather than 404 "no route".
        api.MapPost("/rerank", static (ModelCatalog catalog) => NotServed(catalog, "re-ranker", "POST /rerank"))
            .ExcludeFromDescription();
        api.MapPost("/predict", static (ModelCatalog catalog) => NotServed(catalog, "classifier", "POST /predict"))
            .ExcludeFromDescription();
        api.MapPost("/embed_sparse", static (ModelCatalog catalog) => NotServed(catalog, "sparse (SPLADE)", "POST /embed_sparse"))
            .ExcludeFromDescription();

        return app;
    }

    public static async Task<Ok<float[][]>> EmbedAsync(EmbedRequest request, Embedder embedder, RequestRules rules, IDiagnosticContext diagnostics, HttpContext context)
    {
        rules.CheckTexts(request.Inputs?.Items, "inputs", allowEmptyStrings: true);
        var options = new EmbeddingRequestOptions
        {
            Model = request.Model,
            Normalize = request.Normalize,
            LongInput = rules.ResolveLongInput(request.LongInput, request.Truncate),
            TruncationDirection = RequestRules.ParseDirection(request.TruncationDirection),
            PromptName = request.PromptName,
            Dimensions = request.Dimensions,
            MaxChunks = rules.MaxChunks,
            Cache = RequestRules.ParseCacheUse(context.Request),
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

    public static async Task<Ok<List<List<ChunkEmbedding>>>> EmbedChunksAsync(EmbedChunksRequest request, Embedder embedder, RequestRules rules,
        IDiagnosticContext diagnostics, HttpContext context)
    {
        rules.CheckTexts(request.Inputs?.Items, "inputs", allowEmptyStrings: true);
        var options = new EmbeddingRequestOptions
        {
            Model = request.Model,
            Normalize = request.Normalize,
            PromptName = request.PromptName,
            MaxChunks = rules.MaxChunks,
            Cache = RequestRules.ParseCacheUse(context.Request),
        };

        var result = await embedder.EmbedChunksAsync(request.Inputs!.Items, request.ChunkTokens, request.OverlapTokens, options, context.RequestAborted);
        ResponseTimings.Report(context, diagnostics, result.Vectors);
        var documents = new List<List<ChunkEmbedding>>(result.Documents.Count);
        foreach (var chunks in result.Documents)
        {
            documents.Add(chunks.Select(c => new ChunkEmbedding(c.Start, c.End, c.Tokens, result.Vectors[c.Vector].ToArray())).ToList());
        }

        return TypedResults.Ok(documents);
    }

    public static async Task<Ok<float[][][]>> EmbedAllAsync(EmbedAllRequest request, Embedder embedder, RequestRules rules, IDiagnosticContext diagnostics, HttpContext context)
    {
        rules.CheckTexts(request.Inputs?.Items, "inputs", allowEmptyStrings: true);
        var longInput = rules.ResolveLongInput(longInput: null, request.Truncate);
        var options = new EmbeddingRequestOptions
        {
            Model = request.Model,
            // Token vectors are not pooled, so there is no mean to take: a server default of mean truncates here.
            LongInput = longInput == LongInputPolicy.Mean ? LongInputPolicy.Truncate : longInput,
            TruncationDirection = RequestRules.ParseDirection(request.TruncationDirection),
            PromptName = request.PromptName,
            MaxTokens = new NamedLimit(rules.Limits.MaxEmbedAllTokens, "Limits:MaxEmbedAllTokens"),
        };

        var result = await embedder.EmbedTokensAsync(request.Inputs!.Items, options, context.RequestAborted);
        ResponseTimings.Report(context, diagnostics, result);
        var inputs = new float[result.Count][][];
        for (var i = 0; i < result.Count; i++)
        {
            var tokens = inputs[i] = new float[result.Length(i)][];
            for (var t = 0; t < tokens.Length; t++)
            {
                tokens[t] = result[i, t].ToArray();
            }
        }

        return TypedResults.Ok(inputs);
    }

    public static Ok<IReadOnlyList<string>> Decode(DecodeRequest request, Embedder embedder, RequestRules rules)
    {
        if (request.Ids is null)
        {
            throw EmbeddingException.Validation("`ids` is required.", "ids");
        }

        var lists = request.Ids.Lists;
        rules.CheckCount(lists.Count, "ids");
        for (var i = 0; i < lists.Count; i++)
        {
            if (lists[i].Count == 0)
            {
                throw new EmbeddingException(EmbeddingErrorKind.Empty, request.Ids.Single ? "`ids` cannot be empty." : $"`ids[{i}]` cannot be empty.", "ids");
            }
        }

        return TypedResults.Ok(embedder.Decode(lists, request.Model, request.SkipSpecialTokens));
    }

    /// <exception cref="EmbeddingException">Always: no model of <paramref name="kind"/> is served.</exception>
    private static IResult NotServed(ModelCatalog catalog, string kind, string route) =>
        throw new EmbeddingException(EmbeddingErrorKind.ModelType,
            $"model is not a {kind} model: {route} needs one, and this service serves embedding models only ({string.Join(", ", catalog.ModelIds)}).");

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
            LongInput = rules.ResolveLongInput(request.LongInput, request.Truncate),
            TruncationDirection = RequestRules.ParseDirection(request.TruncationDirection),
            PromptName = request.PromptName,
            MaxChunks = rules.MaxChunks,
            Cache = RequestRules.ParseCacheUse(context.Request),
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
