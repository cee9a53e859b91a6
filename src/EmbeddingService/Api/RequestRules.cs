using Microsoft.Extensions.Options;
using EmbeddingService.Hosting;
using Microsoft.AspNetCore.Http;
using EmbeddingService.Inference;
using EmbeddingService.Inference.Caching;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Api;

/// <summary>The per-request checks every surface shares: input count, input size, and option parsing.</summary>
internal sealed class RequestRules(IOptions<LimitsOptions> limits)
{
    public LimitsOptions Limits { get; } = limits.Value;

    /// <summary>Checks a list of texts against the limits.</summary>
    /// <exception cref="EmbeddingException">Missing, empty, too many, or too long.</exception>
    public void CheckTexts(IReadOnlyList<string>? texts, string field, bool allowEmptyStrings)
    {
        CheckCount(texts?.Count, field);
        for (var i = 0; i < texts!.Count; i++)
        {
            var text = texts[i];
            if (text.Length > Limits.MaxInputChars)
            {
                throw EmbeddingException.Validation(
                    $"`{field}[{i}]` has {text.Length} characters; the limit is {Limits.MaxInputChars} (Limits:MaxInputChars).", field);
            }

            if (!allowEmptyStrings && text.Length == 0)
            {
                throw new EmbeddingException(EmbeddingErrorKind.Empty, $"`{field}[{i}]` is an empty string; every input must have text.", field);
            }
        }
    }

    /// <exception cref="EmbeddingException">Missing, empty, or too many inputs.</exception>
    public void CheckCount(int? count, string field)
    {
        if (count is null)
        {
            throw EmbeddingException.Validation($"`{field}` is required.", field);
        }

        if (count == 0)
        {
            throw new EmbeddingException(EmbeddingErrorKind.Empty, $"`{field}` cannot be empty.", field);
        }

        if (count > Limits.MaxInputsPerRequest)
        {
            throw EmbeddingException.Validation(
                $"batch size {count} > maximum allowed batch size {Limits.MaxInputsPerRequest} (Limits:MaxInputsPerRequest).", field);
        }
    }

    /// <summary>The request's long-input policy: <c>long_input</c> if given, else TEI's <c>truncate</c> (false = error),
    /// else the server's <c>Limits:LongInput</c>.</summary>
    /// <exception cref="EmbeddingException">An unknown <c>long_input</c>, or one that contradicts <c>truncate</c>.</exception>
    public LongInputPolicy ResolveLongInput(string? longInput, bool? truncate = null)
    {
        LongInputPolicy? asked = longInput?.ToLowerInvariant() switch
        {
            null => null,
            "truncate" => LongInputPolicy.Truncate,
            "error" => LongInputPolicy.Error,
            "mean" => LongInputPolicy.Mean,
            _ => throw EmbeddingException.Validation($"`long_input` must be 'truncate', 'error' or 'mean'. Given: '{longInput}'", "long_input"),
        };
        LongInputPolicy? fromTruncate = truncate switch
        {
            null => null,
            true => LongInputPolicy.Truncate,
            false => LongInputPolicy.Error,
        };
        if (asked is not null && fromTruncate is not null && asked != fromTruncate)
        {
            throw EmbeddingException.Validation(
                $"`truncate: {(truncate!.Value ? "true" : "false")}` contradicts `long_input: '{longInput}'`: send one of them.", "long_input");
        }

        return asked ?? fromTruncate ?? Limits.DefaultLongInput;
    }

    /// <summary>The bound on the model inputs (chunks) of one request.</summary>
    public NamedLimit MaxChunks => new(Limits.MaxChunksPerRequest, "Limits:MaxChunksPerRequest");

    /// <summary>How the request uses the embedding cache, from its <c>Cache-Control</c> directives (and HTTP/1.0's
    /// <c>Pragma: no-cache</c>): <c>no-store</c> neither reads nor writes it (and wins over <c>no-cache</c>), <c>no-cache</c>
    /// computes afresh and refreshes the entries; other directives leave it in use. Directive names are read one by one
    /// rather than through a strict parser, so a malformed neighbour (<c>no-store, max-age</c>) never hides a
    /// <c>no-store</c>: a client that asked for its text not to be kept must not have it kept.</summary>
    public static CacheUse ParseCacheUse(HttpRequest request)
    {
        var noCache = false;
        foreach (var value in request.Headers.CacheControl)
        {
            foreach (var directive in (value ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var name = directive.Split('=', 2)[0].Trim();
                if (name.Equals("no-store", StringComparison.OrdinalIgnoreCase))
                {
                    return CacheUse.Bypass;
                }

                noCache |= name.Equals("no-cache", StringComparison.OrdinalIgnoreCase);
            }
        }

        noCache |= request.Headers.Pragma.Any(static p => p?.Contains("no-cache", StringComparison.OrdinalIgnoreCase) == true);
        return noCache ? CacheUse.Refresh : CacheUse.ReadWrite;
    }

    /// <exception cref="EmbeddingException">Not <c>right</c> or <c>left</c>.</exception>
    public static TruncationDirection ParseDirection(string? value) => value?.ToLowerInvariant() switch
    {
        null or "right" => TruncationDirection.Right,
        "left" => TruncationDirection.Left,
        _ => throw EmbeddingException.Validation($"`truncation_direction` must be 'right' or 'left'. Given: '{value}'", "truncation_direction"),
    };
}
