using Microsoft.Extensions.Options;
using EmbeddingService.Hosting;
using EmbeddingService.Inference;
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

    public bool ResolveTruncate(bool? truncate) => truncate ?? Limits.AutoTruncate;

    /// <exception cref="EmbeddingException">Not <c>right</c> or <c>left</c>.</exception>
    public static TruncationDirection ParseDirection(string? value) => value?.ToLowerInvariant() switch
    {
        null or "right" => TruncationDirection.Right,
        "left" => TruncationDirection.Left,
        _ => throw EmbeddingException.Validation($"`truncation_direction` must be 'right' or 'left'. Given: '{value}'", "truncation_direction"),
    };
}
