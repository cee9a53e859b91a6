using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace EmbeddingService.Inference.Tokenization;

/// <summary>
/// Splits normalized text into words the way Hugging Face's BERT BasicTokenizer does: on whitespace, and every
/// punctuation character (ASCII symbols and Unicode category P*) becomes a word of its own. Anything else, emoji and
/// other symbols included, stays inside its word, so WordPiece turns an unknown word into <c>[UNK]</c> instead of
/// dropping it (Microsoft.ML.Tokenizers' default word-or-punctuation regex skips such characters).
/// </summary>
public sealed class BertPreTokenizer : PreTokenizer
{
    public static readonly BertPreTokenizer Instance = new();

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        string.IsNullOrEmpty(text) ? [] : Split(text);

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) =>
        text.IsEmpty ? [] : Split(text.ToString());

    private static List<(int Offset, int Length)> Split(string text)
    {
        var words = new List<(int Offset, int Length)>();
        var start = -1;
        var index = 0;
        while (index < text.Length)
        {
            Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out var width);
            if (Rune.IsWhiteSpace(rune))
            {
                Flush(words, ref start, index);
            }
            else if (IsPunctuation(rune))
            {
                Flush(words, ref start, index);
                words.Add((index, width));
            }
            else if (start < 0)
            {
                start = index;
            }

            index += width;
        }

        Flush(words, ref start, text.Length);
        return words;
    }

    private static void Flush(List<(int Offset, int Length)> words, ref int start, int end)
    {
        if (start >= 0)
        {
            words.Add((start, end - start));
            start = -1;
        }
    }

    /// <summary>HF's <c>_is_punctuation</c>: all non-alphanumeric ASCII printables, plus Unicode punctuation.</summary>
    private static bool IsPunctuation(Rune rune)
    {
        var cp = rune.Value;
        if (cp is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126))
        {
            return true;
        }

        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }
}
