using System.Globalization;
using System.Text;

namespace EmbeddingService.Inference.Tokenization;

/// <summary>
/// The text clean-up step of Hugging Face's BERT BasicTokenizer (<c>_clean_text</c>): drops NUL, U+FFFD and control or
/// format characters (zero-width space, BOM...), and turns every whitespace character into a plain space.
/// Microsoft.ML.Tokenizers' normalizer keeps format characters, which would split "x\u200by" into two words where the
/// reference implementation sees one; running this first keeps token ids identical to sentence-transformers.
/// </summary>
public static class BertTextCleaner
{
    public static string Clean(string text)
    {
        // Fast path: most inputs need no change, so don't allocate for them.
        var firstChange = -1;
        for (var i = 0; i < text.Length; i++)
        {
            var action = Classify(text, i, out _);
            if (action == CharAction.Drop || (action == CharAction.Space && text[i] != ' '))
            {
                firstChange = i;
                break;
            }
        }

        if (firstChange < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        builder.Append(text, 0, firstChange);
        for (var i = firstChange; i < text.Length; i++)
        {
            var action = Classify(text, i, out var width);
            switch (action)
            {
                case CharAction.Drop:
                    break;
                case CharAction.Space:
                    builder.Append(' ');
                    break;
                default:
                    builder.Append(text, i, width);
                    break;
            }

            i += width - 1;
        }

        return builder.ToString();
    }

    /// <summary>What cleaning does with the character (or surrogate pair) at <paramref name="index"/>.</summary>
    internal static CharAction Classify(string text, int index, out int width)
    {
        var c = text[index];
        width = char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]) ? 2 : 1;
        if (c == '\0' || c == '\uFFFD')
        {
            return CharAction.Drop;
        }

        if (IsWhitespace(c))
        {
            return CharAction.Space;
        }

        var category = CharUnicodeInfo.GetUnicodeCategory(text, index);
        return category is UnicodeCategory.Control or UnicodeCategory.Format ? CharAction.Drop : CharAction.Keep;
    }

    private static bool IsWhitespace(char c) =>
        c is ' ' or '\t' or '\n' or '\r' || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.SpaceSeparator;

    internal enum CharAction
    {
        Keep,
        Drop,
        Space,
    }
}
