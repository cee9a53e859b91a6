using System.Diagnostics;
using System.Numerics.Tensors;
using EmbeddingService.Inference.Batching;
using EmbeddingService.Inference.Caching;
using EmbeddingService.Inference.Chunking;
using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Runtime;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Inference;

/// <summary>
/// The facade the API calls. Tokenizes on the caller's thread (so token counts are known before queueing), takes the
/// pooled vectors the cache has, hands the other inputs to the model's batcher, then cuts and normalizes the pooled
/// vectors. Safe for concurrent use.
/// </summary>
public sealed class Embedder
{
    private readonly ModelCatalog _catalog;
    private readonly EmbeddingCache _cache;
    private readonly EmbeddingMetrics _metrics;

    public Embedder(ModelCatalog catalog, EmbeddingCache cache, EmbeddingMetrics metrics)
    {
        _catalog = catalog;
        _cache = cache;
        _metrics = metrics;
    }

    /// <summary>Embeds texts, one vector each; inputs longer than the model's limit as <see cref="EmbeddingRequestOptions.LongInput"/> says.</summary>
    /// <exception cref="EmbeddingException">Validation, overload, readiness or backend failures.</exception>
    public Task<EmbeddingResult> EmbedAsync(IReadOnlyList<string> texts, EmbeddingRequestOptions options, CancellationToken cancellationToken = default)
    {
        var model = _catalog.Get(options.Model);
        ValidateDimensions(model, options.Dimensions);
        var started = Stopwatch.GetTimestamp();
        var prompt = ResolvePrompt(model, options.PromptName);
        var rows = new RequestRows();
        for (var i = 0; i < texts.Count; i++)
        {
            var text = texts[i];
            rows.StartGroup();
            var content = model.Tokenizer.EncodeContent(prompt is null ? text : prompt + text);
            AddInput(model, rows, i, content, options, prompt, () => model.Tokenizer.TokenizeDocument(text));
        }

        return RunAsync(model, rows, options, Stopwatch.GetElapsedTime(started), cancellationToken);
    }

    /// <summary>Embeds inputs given as ids of the model's own vocabulary (no special tokens; they are added here).</summary>
    /// <exception cref="EmbeddingException">An id is outside the vocabulary, or another failure as for <see cref="EmbedAsync"/>.</exception>
    public Task<EmbeddingResult> EmbedTokenIdsAsync(IReadOnlyList<IReadOnlyList<int>> tokenIds, EmbeddingRequestOptions options, CancellationToken cancellationToken = default)
    {
        var model = _catalog.Get(options.Model);
        ValidateDimensions(model, options.Dimensions);
        var started = Stopwatch.GetTimestamp();
        var rows = new RequestRows();
        for (var i = 0; i < tokenIds.Count; i++)
        {
            var ids = tokenIds[i];
            model.Tokenizer.CheckIds(ids);
            rows.StartGroup();
            AddInput(model, rows, i, ids, options, prompt: null, () => model.Tokenizer.DocumentOfIds(ids));
        }

        return RunAsync(model, rows, options, Stopwatch.GetElapsedTime(started), cancellationToken);
    }

    /// <summary>Cuts each document into chunks of at most <paramref name="chunkTokens"/> content tokens (default: the
    /// model's limit less its special tokens and the prompt), <paramref name="overlapTokens"/> shared with the chunk
    /// before, and embeds every chunk (see <see cref="ChunkPlanner"/>). Each document is tokenized once.</summary>
    /// <exception cref="EmbeddingException">A bad chunk size or overlap, or a failure as for <see cref="EmbedAsync"/>.</exception>
    public async Task<ChunkedEmbeddingResult> EmbedChunksAsync(IReadOnlyList<string> texts, int? chunkTokens, int overlapTokens,
        EmbeddingRequestOptions options, CancellationToken cancellationToken = default)
    {
        var model = _catalog.Get(options.Model);
        ValidateDimensions(model, options.Dimensions);
        var started = Stopwatch.GetTimestamp();
        var promptIds = PromptIds(model, ResolvePrompt(model, options.PromptName));
        var room = ChunkRoom(model, promptIds);
        var budget = chunkTokens ?? room;
        if (budget < 1 || budget > room)
        {
            throw EmbeddingException.Validation(
                $"`chunk_tokens` must be between 1 and {room} for model '{model.Id}' (its limit of {model.Tokenizer.MaxLength} tokens less the special tokens{(promptIds.Length > 0 ? " and the prompt" : "")}). Given: {budget}",
                "chunk_tokens");
        }

        if (overlapTokens < 0 || overlapTokens >= budget)
        {
            throw EmbeddingException.Validation($"`overlap_tokens` must be at least 0 and less than `chunk_tokens` ({budget}). Given: {overlapTokens}", "overlap_tokens");
        }

        var rows = new RequestRows();
        var documents = new List<TextChunk>[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            var document = model.Tokenizer.TokenizeDocument(texts[i]);
            if (document.Count > 0 && !document.HasOffsets)
            {
                throw new EmbeddingException(EmbeddingErrorKind.Tokenizer,
                    $"Input {i}: the tokenizer's Unicode normalization of this text cannot be mapped back to its characters, so chunk spans cannot be given.", "inputs");
            }

            var chunks = documents[i] = [];
            foreach (var range in ChunkPlanner.Plan(document, budget, overlapTokens))
            {
                var (start, end) = document.Span(range.From, range.To);
                chunks.Add(new TextChunk(start, end, range.Count, rows.Groups));
                rows.StartGroup();
                rows.Add(model.Tokenizer.Frame(promptIds, document.Ids.AsSpan(range.From, range.Count)), range.Count);
            }
        }

        var vectors = await RunAsync(model, rows, options, Stopwatch.GetElapsedTime(started), cancellationToken).ConfigureAwait(false);
        return new ChunkedEmbeddingResult(vectors, documents);
    }

    /// <summary>The token vectors of each input (<c>last_hidden_state</c> for its real tokens, special tokens included), not
    /// pooled or normalized. Long inputs are truncated or refused; <see cref="LongInputPolicy.Mean"/> does not apply.</summary>
    /// <exception cref="EmbeddingException">As for <see cref="EmbedAsync"/>, or more tokens than <see cref="EmbeddingRequestOptions.MaxTokens"/>.</exception>
    public async Task<TokenEmbeddingResult> EmbedTokensAsync(IReadOnlyList<string> texts, EmbeddingRequestOptions options, CancellationToken cancellationToken = default)
    {
        if (options.LongInput == LongInputPolicy.Mean)
        {
            throw EmbeddingException.Validation("Token embeddings are per token: long_input 'mean' does not apply; use 'truncate' or 'error'.", "long_input");
        }

        var model = _catalog.Get(options.Model);
        var started = Stopwatch.GetTimestamp();
        var prompt = ResolvePrompt(model, options.PromptName);
        var rows = new RequestRows();
        for (var i = 0; i < texts.Count; i++)
        {
            rows.StartGroup();
            AddInput(model, rows, i, model.Tokenizer.EncodeContent(prompt is null ? texts[i] : prompt + texts[i]), options, prompt,
                static () => throw new UnreachableException("Mean is refused above: nothing is chunked."));
        }

        rows.CheckBounds(options.MaxChunks, options.MaxTokens);
        var tokenization = Stopwatch.GetElapsedTime(started);
        var (tokens, timings) = await model.Batcher.EmbedTokensAsync(rows.ToArray(), cancellationToken).ConfigureAwait(false);
        _metrics.RecordRequest(model.Id, rows.Count, rows.Tokens, tokenization, timings.Queue, timings.Inference);
        return new TokenEmbeddingResult(model.Id, tokens, model.Dimensions, rows.Tokens, rows.Truncated, new EmbeddingTimings(tokenization, timings.Queue, timings.Inference));
    }

    /// <summary>Token ids of the model's vocabulary back to text (<c>/decode</c>), one text per list.</summary>
    /// <exception cref="EmbeddingException">An id is outside the vocabulary (its list's index, its position, the range).</exception>
    public IReadOnlyList<string> Decode(IReadOnlyList<IReadOnlyList<int>> ids, string? modelId, bool skipSpecialTokens)
    {
        var model = _catalog.Get(modelId);
        var texts = new string[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            try
            {
                texts[i] = model.Tokenizer.Decode(ids[i], skipSpecialTokens);
            }
            catch (EmbeddingException ex) when (ids.Count > 1)
            {
                throw new EmbeddingException(ex.Kind, $"List {i}: {ex.Message}", "ids");
            }
        }

        return texts;
    }

    /// <summary>The tokens of <paramref name="text"/> with offsets, for <c>/tokenize</c>; applies the prompt like embedding does.</summary>
    public IReadOnlyList<TokenSpan> Tokenize(string text, string? modelId, string? promptName, bool addSpecialTokens)
    {
        var model = _catalog.Get(modelId);
        var prompt = ResolvePrompt(model, promptName);
        return prompt is null ? model.Tokenizer.Tokenize(text, addSpecialTokens) : ShiftPromptOffsets(model.Tokenizer.Tokenize(prompt + text, addSpecialTokens), prompt.Length);
    }

    /// <summary>Adds input <paramref name="index"/>'s rows: one when it fits (or is truncated), one per chunk under
    /// <see cref="LongInputPolicy.Mean"/>.</summary>
    /// <param name="content">Its content ids, prompt included.</param>
    /// <param name="document">Tokenizes it again for chunking (offsets and word starts), only when it is chunked.</param>
    private static void AddInput(EmbeddingModel model, RequestRows rows, int index, IReadOnlyList<int> content, EmbeddingRequestOptions options,
        string? prompt, Func<DocumentTokens> document)
    {
        var tokenizer = model.Tokenizer;
        if (content.Count <= tokenizer.ContentRoom || options.LongInput == LongInputPolicy.Truncate)
        {
            rows.Add(tokenizer.Truncate(content, options.TruncationDirection), Math.Min(content.Count, tokenizer.ContentRoom));
            return;
        }

        if (options.LongInput == LongInputPolicy.Error)
        {
            throw EmbeddingException.Validation(
                $"Input {index} has {content.Count + 2} tokens, special tokens included; the limit of model '{model.Id}' is {tokenizer.MaxLength}. Send long_input 'truncate' or 'mean', or shorter text.",
                "inputs");
        }

        var promptIds = PromptIds(model, prompt);
        var chunked = document();
        foreach (var range in ChunkPlanner.Plan(chunked, ChunkRoom(model, promptIds), overlap: 0))
        {
            rows.Add(tokenizer.Frame(promptIds, chunked.Ids.AsSpan(range.From, range.Count)), range.Count);
        }
    }

    private static int[] PromptIds(EmbeddingModel model, string? prompt) => prompt is null ? [] : [.. model.Tokenizer.EncodeContent(prompt)];

    /// <exception cref="EmbeddingException">The prompt leaves no room for a chunk.</exception>
    private static int ChunkRoom(EmbeddingModel model, int[] promptIds)
    {
        var room = model.Tokenizer.ContentRoom - promptIds.Length;
        return room >= 1 ? room : throw EmbeddingException.Validation($"The prompt of model '{model.Id}' leaves no room for text.", "prompt_name");
    }

    private async Task<EmbeddingResult> RunAsync(EmbeddingModel model, RequestRows rows, EmbeddingRequestOptions options, TimeSpan tokenization,
        CancellationToken cancellationToken)
    {
        rows.CheckBounds(options.MaxChunks, options.MaxTokens);
        var (pooled, cacheHits, timings) = await PoolAsync(model, rows.ToArray(), options.Cache, cancellationToken).ConfigureAwait(false);

        var width = options.Dimensions ?? model.Dimensions;
        var vectors = Combine(rows, pooled, model.Dimensions, width, options.Normalize);
        _metrics.RecordRequest(model.Id, rows.Count, rows.Tokens, tokenization, timings.Queue, timings.Inference, ran: cacheHits < rows.Count);
        return new EmbeddingResult(model.Id, vectors, rows.Groups, width, rows.Tokens, rows.Truncated, new EmbeddingTimings(tokenization, timings.Queue, timings.Inference))
        {
            CacheHits = cacheHits,
        };
    }

    /// <summary>The pooled vector of every row, in row order: the cache's where it has them (unless
    /// <paramref name="use"/> says otherwise), the rest from the model in one job, then cached. A request whose rows are
    /// all cached never queues.</summary>
    private async Task<(float[] Pooled, int CacheHits, JobTimings Timings)> PoolAsync(EmbeddingModel model, TokenizedInput[] rows, CacheUse use,
        CancellationToken cancellationToken)
    {
        if (!_cache.Enabled || use == CacheUse.Bypass)
        {
            var (computed, timings) = await model.Batcher.EmbedAsync(rows, cancellationToken).ConfigureAwait(false);
            return (computed, 0, timings);
        }

        var dimensions = model.Dimensions;
        var keys = new EmbeddingCacheKey[rows.Length];
        var pooled = new float[rows.Length * dimensions];
        var misses = new List<int>(rows.Length);
        for (var row = 0; row < rows.Length; row++)
        {
            keys[row] = new EmbeddingCacheKey(model.CacheKey, rows[row].Ids);
            if (use == CacheUse.Refresh || !_cache.TryGet(keys[row], pooled.AsSpan(row * dimensions, dimensions)))
            {
                misses.Add(row);
            }
        }

        var hits = rows.Length - misses.Count;
        _metrics.RecordCacheLookups(model.Id, hits, misses.Count);
        if (misses.Count == 0)
        {
            return (pooled, hits, default);
        }

        var allMissed = misses.Count == rows.Length;
        var (vectors, jobTimings) = await model.Batcher.EmbedAsync(allMissed ? rows : misses.Select(row => rows[row]).ToArray(), cancellationToken)
            .ConfigureAwait(false);
        for (var i = 0; i < misses.Count; i++)
        {
            var vector = vectors.AsSpan(i * dimensions, dimensions);
            _cache.Set(keys[misses[i]], vector);
            if (!allMissed)
            {
                vector.CopyTo(pooled.AsSpan(misses[i] * dimensions, dimensions));
            }
        }

        return (allMissed ? vectors : pooled, hits, jobTimings);
    }

    /// <summary>One vector per group of rows, cut to <paramref name="width"/>: a lone row's own, or for a long input
    /// embedded in chunks the mean of the chunk vectors (as <c>/embed_chunks</c> gives them) weighted by their content
    /// tokens, normalized again when normalizing.</summary>
    private static float[] Combine(RequestRows rows, float[] pooled, int dimensions, int width, bool normalize)
    {
        var vectors = new float[rows.Groups * width];
        var chunk = new float[width];
        for (var group = 0; group < rows.Groups; group++)
        {
            var (first, end) = rows.RowsOf(group);
            var vector = vectors.AsSpan(group * width, width);
            if (end - first == 1)
            {
                CutAndNormalize(pooled.AsSpan(first * dimensions, width), vector, normalize);
                continue;
            }

            var weights = 0;
            for (var row = first; row < end; row++)
            {
                CutAndNormalize(pooled.AsSpan(row * dimensions, width), chunk, normalize);
                TensorPrimitives.MultiplyAdd(chunk, rows.Weight(row), vector, vector);
                weights += rows.Weight(row);
            }

            TensorPrimitives.Divide(vector, weights, vector);
            if (normalize)
            {
                Pooling.Normalize(vector);
            }
        }

        return vectors;
    }

    private static void CutAndNormalize(ReadOnlySpan<float> pooled, Span<float> destination, bool normalize)
    {
        pooled.CopyTo(destination);
        if (normalize)
        {
            Pooling.Normalize(destination);
        }
    }

    private static void ValidateDimensions(EmbeddingModel model, int? dimensions)
    {
        if (dimensions is { } d && (d < 1 || d > model.Dimensions))
        {
            throw EmbeddingException.Validation($"`dimensions` must be between 1 and {model.Dimensions} for model '{model.Id}'. Given: {d}", "dimensions");
        }
    }

    private static string? ResolvePrompt(EmbeddingModel model, string? promptName)
    {
        var name = promptName ?? model.Manifest.DefaultPromptName;
        if (name is null)
        {
            return null;
        }

        if (model.Manifest.Prompts.TryGetValue(name, out var prompt))
        {
            return prompt;
        }

        var available = model.Manifest.Prompts.Count == 0 ? "none" : string.Join(", ", model.Manifest.Prompts.Keys);
        throw EmbeddingException.Validation($"Prompt '{name}' is not defined for model '{model.Id}'. Available prompts: {available}.", "prompt_name");
    }

    /// <summary>Reports offsets relative to the caller's text; prompt tokens get none.</summary>
    private static List<TokenSpan> ShiftPromptOffsets(IReadOnlyList<TokenSpan> tokens, int promptLength) =>
        tokens.Select(t => t.Start is { } start && start >= promptLength
            ? t with { Start = start - promptLength, Stop = t.Stop - promptLength }
            : t with { Start = null, Stop = null }).ToList();
}
