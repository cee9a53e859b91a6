namespace EmbeddingService.Inference.Chunking;

/// <summary>
/// A text tokenized once, with what chunking needs to know about every token: its id, where it lies in the caller's text
/// (UTF-16 code units, as <c>/tokenize</c> reports), whether it starts a word, and whether a chunk may end after it at a
/// sentence end. Special tokens are not included: each chunk gets its own.
/// </summary>
public sealed class DocumentTokens
{
    private static readonly char[] s_sentenceEnds = ['.', '!', '?', '。', '！', '？'];
    private static readonly char[] s_lineBreaks = ['\n', '\r', '\u2028', '\u2029', '\u0085'];

    private readonly bool[] _continuation;
    private readonly int[]? _starts;
    private readonly int[]? _stops;

    /// <param name="text">The caller's text.</param>
    /// <param name="ids">The content token ids, in order.</param>
    /// <param name="continuation">Whether each token continues the word of the token before it (a WordPiece <c>##</c>).</param>
    /// <param name="starts">Each token's start in <paramref name="text"/>, or null when offsets could not be mapped.</param>
    /// <param name="stops">Each token's end (exclusive), or null likewise.</param>
    public DocumentTokens(string text, int[] ids, bool[] continuation, int[]? starts, int[]? stops)
    {
        Text = text;
        Ids = ids;
        _continuation = continuation;
        _starts = starts;
        _stops = stops;
    }

    public string Text { get; }

    public int[] Ids { get; }

    public int Count => Ids.Length;

    /// <summary>Whether every token's place in the text is known (it is unless Unicode normalization could not be undone).</summary>
    public bool HasOffsets => _starts is not null;

    /// <summary>A chunk may start at token <paramref name="index"/> (or end before it): it is not the middle of a word.</summary>
    public bool IsWordStart(int index) => index >= Count || !_continuation[index];

    /// <summary>A chunk ending before token <paramref name="index"/> ends a sentence: the token before it is the last of a
    /// run of <c>. ! ?</c> (or their CJK forms), or a line break lies between the two.</summary>
    public bool IsSentenceEnd(int index)
    {
        if (index <= 0 || !IsWordStart(index))
        {
            return false;
        }

        if (_starts is null || _stops is null)
        {
            return false;
        }

        if (IsTerminal(index - 1) && (index >= Count || !IsTerminal(index)))
        {
            return true;
        }

        var gapEnd = index < Count ? _starts[index] : Text.Length;
        return Text.AsSpan(_stops[index - 1], Math.Max(0, gapEnd - _stops[index - 1])).IndexOfAny(s_lineBreaks) >= 0;
    }

    /// <summary>The span of <paramref name="text"/> that holds tokens <paramref name="from"/> to <paramref name="to"/>
    /// (exclusive): from the first token's start (the text's first non-space character for the first chunk) to the next
    /// token's start (the text's end for the last chunk), less trailing white space. So characters that give no token
    /// (control characters, lone combining marks) still lie in a chunk, and <c>text[start:end]</c> tokenizes to the same
    /// tokens.</summary>
    public (int Start, int End) Span(int from, int to)
    {
        if (_starts is null || _stops is null)
        {
            throw new InvalidOperationException("The token offsets are unknown.");
        }

        var start = from == 0 ? FirstNonSpace() : _starts[from];
        var end = to < Count ? _starts[to] : Text.Length;
        var lastStop = _stops[to - 1];
        while (end > lastStop && char.IsWhiteSpace(Text[end - 1]))
        {
            end--;
        }

        return (start, Math.Max(end, lastStop));
    }

    private int FirstNonSpace()
    {
        var first = 0;
        while (first < Text.Length && char.IsWhiteSpace(Text[first]))
        {
            first++;
        }

        return Math.Min(first, _starts![0]);
    }

    private bool IsTerminal(int index) =>
        _stops![index] - _starts![index] == 1 && Array.IndexOf(s_sentenceEnds, Text[_starts[index]]) >= 0;
}
