using System.Diagnostics;
using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Runtime;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Inference;

/// <summary>
/// The facade the API calls. Tokenizes on the caller's thread (so token counts are known before queueing), hands the
/// inputs to the model's batcher, then cuts and normalizes the pooled vectors. Safe for concurrent use.
/// </summary>
public sealed class Embedder
{
    private readonly ModelCatalog _catalog;
    private readonly EmbeddingMetrics _metrics;

    public Embedder(ModelCatalog catalog, EmbeddingMetrics metrics)
    {
        _catalog = catalog;
        _metrics = metrics;
    }

    /// <summary>Embeds texts.</summary>
    /// <exception cref="EmbeddingException">Validation, overload, readiness or backend failures.</exception>
    public Task<EmbeddingResult> EmbedAsync(IReadOnlyList<string> texts, EmbeddingRequestOptions options, CancellationToken cancellationToken = default)
    {
        var model = _catalog.Get(options.Model);
        ValidateDimensions(model, options.Dimensions);
        var started = Stopwatch.GetTimestamp();
        var prompt = ResolvePrompt(model, options.PromptName);
        var inputs = new TokenizedInput[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            inputs[i] = model.Tokenizer.Encode(prompt is null ? texts[i] : prompt + texts[i], options.Truncate, options.TruncationDirection);
        }

        return RunAsync(model, inputs, options, Stopwatch.GetElapsedTime(started), cancellationToken);
    }

    /// <summary>Embeds inputs given as ids of the model's own vocabulary (no special tokens; they are added here).</summary>
    /// <exception cref="EmbeddingException">An id is outside the vocabulary, or another failure as for <see cref="EmbedAsync"/>.</exception>
    public Task<EmbeddingResult> EmbedTokenIdsAsync(IReadOnlyList<IReadOnlyList<int>> tokenIds, EmbeddingRequestOptions options, CancellationToken cancellationToken = default)
    {
        var model = _catalog.Get(options.Model);
        ValidateDimensions(model, options.Dimensions);
        var started = Stopwatch.GetTimestamp();
        var inputs = new TokenizedInput[tokenIds.Count];
        for (var i = 0; i < tokenIds.Count; i++)
        {
            inputs[i] = model.Tokenizer.EncodeIds(tokenIds[i], options.Truncate, options.TruncationDirection);
        }

        return RunAsync(model, inputs, options, Stopwatch.GetElapsedTime(started), cancellationToken);
    }

    /// <summary>The tokens of <paramref name="text"/> with offsets, for <c>/tokenize</c>; applies the prompt like embedding does.</summary>
    public IReadOnlyList<TokenSpan> Tokenize(string text, string? modelId, string? promptName, bool addSpecialTokens)
    {
        var model = _catalog.Get(modelId);
        var prompt = ResolvePrompt(model, promptName);
        return prompt is null ? model.Tokenizer.Tokenize(text, addSpecialTokens) : ShiftPromptOffsets(model.Tokenizer.Tokenize(prompt + text, addSpecialTokens), prompt.Length);
    }

    private async Task<EmbeddingResult> RunAsync(EmbeddingModel model, TokenizedInput[] inputs, EmbeddingRequestOptions options, TimeSpan tokenization,
        CancellationToken cancellationToken)
    {
        var (pooled, timings) = await model.Batcher.EmbedAsync(inputs, cancellationToken).ConfigureAwait(false);

        var width = options.Dimensions ?? model.Dimensions;
        var vectors = width == model.Dimensions ? pooled : new float[inputs.Length * width];
        var tokens = 0;
        var truncated = 0;
        for (var i = 0; i < inputs.Length; i++)
        {
            tokens += inputs[i].Length;
            truncated += inputs[i].Truncated ? 1 : 0;
            var vector = vectors.AsSpan(i * width, width);
            if (!ReferenceEquals(vectors, pooled))
            {
                pooled.AsSpan(i * model.Dimensions, width).CopyTo(vector);
            }

            if (options.Normalize)
            {
                Pooling.Normalize(vector);
            }
        }

        _metrics.RecordRequest(model.Id, inputs.Length, tokens, tokenization, timings.Queue, timings.Inference);
        return new EmbeddingResult(model.Id, vectors, inputs.Length, width, tokens, truncated, new EmbeddingTimings(tokenization, timings.Queue, timings.Inference));
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
