namespace EmbeddingService.Inference.Tokenization;

/// <summary>
/// Token ids back to text the way Hugging Face's tokenizers decode a WordPiece vocabulary (the <c>WordPiece</c> decoder
/// with <c>cleanup</c>, which TEI's <c>/decode</c> runs): every token after the first is joined with a space, or without
/// one when it continues a word (<c>##</c>), and each piece then loses the space before <c>. ? ! ,</c> and English
/// contractions. Microsoft.ML.Tokenizers' own decoding spaces some of these differently ("it' s" for "it ' s").
/// </summary>
internal sealed class WordPieceDecoder
{
    private const string ContinuationPrefix = "##";

    /// <summary>The special tokens of BERT vocabularies, left out when asked.</summary>
    private static readonly string[] s_specialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    private readonly string[] _tokens;
    private readonly bool[] _special;

    /// <param name="tokens">The vocabulary: token <c>i</c> has id <c>i</c>.</param>
    public WordPieceDecoder(string[] tokens)
    {
        _tokens = tokens;
        _special = Array.ConvertAll(tokens, static t => Array.IndexOf(s_specialTokens, t) >= 0);
    }

    /// <summary>Whether token <paramref name="id"/> continues the word before it.</summary>
    public bool IsContinuation(int id) => _tokens[id].StartsWith(ContinuationPrefix, StringComparison.Ordinal);

    /// <param name="ids">Ids inside the vocabulary (checked by the caller).</param>
    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens)
    {
        var text = new System.Text.StringBuilder();
        var first = true;
        foreach (var id in ids)
        {
            if (skipSpecialTokens && _special[id])
            {
                continue;
            }

            var token = _tokens[id];
            if (!first)
            {
                token = token.StartsWith(ContinuationPrefix, StringComparison.Ordinal) ? token[ContinuationPrefix.Length..] : " " + token;
            }

            text.Append(Cleanup(token));
            first = false;
        }

        return text.ToString();
    }

    private static string Cleanup(string piece) => piece
        .Replace(" .", ".", StringComparison.Ordinal)
        .Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal)
        .Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal)
        .Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal)
        .Replace(" do not", " don't", StringComparison.Ordinal)
        .Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal)
        .Replace(" 're", "'re", StringComparison.Ordinal);
}
