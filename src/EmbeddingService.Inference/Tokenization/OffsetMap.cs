using Microsoft.ML.Tokenizers;

namespace EmbeddingService.Inference.Tokenization;

/// <summary>
/// Maps offsets in the normalized text (lower-cased, accents stripped, spaces around CJK, control characters dropped)
/// back to the caller's original text, by normalizing one character at a time. BERT normalization works per character,
/// so the pieces add up to the whole; where they don't (an exotic combining sequence), offsets are reported as unknown.
/// </summary>
internal sealed class OffsetMap
{
    // _originalIndex[n] = index in the original text of the character that produced normalized character n.
    private readonly int[] _originalIndex;
    private readonly int[] _originalEnd;

    private OffsetMap(int[] originalIndex, int[] originalEnd)
    {
        _originalIndex = originalIndex;
        _originalEnd = originalEnd;
    }

    public static OffsetMap? Build(string original, string normalized, Normalizer? normalizer)
    {
        var start = new int[normalized.Length];
        var end = new int[normalized.Length];
        var position = 0;
        for (var i = 0; i < original.Length; i++)
        {
            var action = BertTextCleaner.Classify(original, i, out var width);
            var piece = action switch
            {
                BertTextCleaner.CharAction.Drop => string.Empty,
                BertTextCleaner.CharAction.Space => " ",
                _ => original.Substring(i, width),
            };
            if (normalizer is not null && piece.Length > 0)
            {
                piece = normalizer.Normalize(piece);
            }

            if (position + piece.Length > normalized.Length || string.CompareOrdinal(normalized, position, piece, 0, piece.Length) != 0)
            {
                return null;
            }

            for (var k = 0; k < piece.Length; k++)
            {
                start[position + k] = i;
                end[position + k] = i + width;
            }

            position += piece.Length;
            i += width - 1;
        }

        return position == normalized.Length ? new OffsetMap(start, end) : null;
    }

    public (int? Start, int? Stop) ToOriginal(int normalizedStart, int normalizedEnd)
    {
        if (normalizedStart < 0 || normalizedEnd > _originalIndex.Length || normalizedEnd <= normalizedStart)
        {
            return (null, null);
        }

        return (_originalIndex[normalizedStart], _originalEnd[normalizedEnd - 1]);
    }
}
