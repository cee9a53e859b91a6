using Microsoft.ML.Tokenizers;
using EmbeddingService.Inference.Models;

namespace EmbeddingService.Inference.Tokenization;

/// <summary>
/// The tokenizer of one model: Microsoft.ML.Tokenizers' BERT WordPiece with the Hugging Face clean-up and
/// pre-tokenization rules, plus truncation that always keeps <c>[CLS]</c> and the final <c>[SEP]</c>.
/// Thread-safe: it holds no per-call state.
/// </summary>
public sealed class ModelTokenizer
{
    private readonly BertTokenizer _bert;

    private ModelTokenizer(BertTokenizer bert, int maxLength, int vocabularySize)
    {
        _bert = bert;
        MaxLength = maxLength;
        VocabularySize = vocabularySize;
    }

    /// <summary>The most tokens per input, special tokens included.</summary>
    public int MaxLength { get; }

    /// <summary>The number of entries in <c>vocab.txt</c>; valid ids are 0 to this minus one.</summary>
    public int VocabularySize { get; }

    public int ClsId => _bert.ClassificationTokenId;

    public int SepId => _bert.SeparatorTokenId;

    public static ModelTokenizer Create(ModelManifest manifest)
    {
        using var vocabulary = File.OpenRead(manifest.VocabularyPath);
        var bert = BertTokenizer.Create(vocabulary, new BertOptions
        {
            LowerCaseBeforeTokenization = manifest.LowerCase,
            // HF strips accents whenever it lower-cases (strip_accents = None follows do_lower_case).
            RemoveNonSpacingMarks = manifest.LowerCase,
            IndividuallyTokenizeCjk = true,
            PreTokenizer = BertPreTokenizer.Instance,
        });
        var vocabularySize = File.ReadLines(manifest.VocabularyPath).Count();
        return new ModelTokenizer(bert, manifest.MaxSequenceLength, vocabularySize);
    }

    /// <summary>Tokenizes <paramref name="text"/> for the model.</summary>
    /// <exception cref="EmbeddingException">The input is too long and <paramref name="truncate"/> is false.</exception>
    public TokenizedInput Encode(string text, bool truncate, TruncationDirection direction)
    {
        var content = _bert.EncodeToIds(BertTextCleaner.Clean(text), addSpecialTokens: false);
        return Frame(content, truncate, direction);
    }

    /// <summary>Frames ids of this model's own vocabulary (sent by a client that tokenized itself) like <see cref="Encode"/>.</summary>
    /// <exception cref="EmbeddingException">An id is outside the vocabulary, or the input is too long to fit without truncation.</exception>
    public TokenizedInput EncodeIds(IReadOnlyList<int> ids, bool truncate, TruncationDirection direction)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if ((uint)ids[i] >= (uint)VocabularySize)
            {
                throw new EmbeddingException(EmbeddingErrorKind.Tokenizer,
                    $"Token id {ids[i]} at position {i} is outside the model's vocabulary (0-{VocabularySize - 1}).", "input");
            }
        }

        return Frame(ids, truncate, direction);
    }

    /// <summary>Tokens with their text and their offsets in <paramref name="text"/>, as <c>/tokenize</c> reports them.</summary>
    public IReadOnlyList<TokenSpan> Tokenize(string text, bool addSpecialTokens)
    {
        var cleaned = BertTextCleaner.Clean(text);
        var tokens = _bert.EncodeToTokens(cleaned, out var normalized, considerPreTokenization: true, considerNormalization: true);
        var offsets = OffsetMap.Build(text, normalized ?? cleaned, _bert.Normalizer);

        var spans = new List<TokenSpan>(tokens.Count + 2);
        if (addSpecialTokens)
        {
            spans.Add(new TokenSpan(ClsId, _bert.ClassificationToken, true, null, null));
        }

        foreach (var token in tokens)
        {
            var (start, stop) = offsets?.ToOriginal(token.Offset.Start.Value, token.Offset.End.Value) ?? (null, null);
            spans.Add(new TokenSpan(token.Id, token.Value, false, start, stop));
        }

        if (addSpecialTokens)
        {
            spans.Add(new TokenSpan(SepId, _bert.SeparatorToken, true, null, null));
        }

        return spans;
    }

    private TokenizedInput Frame(IReadOnlyList<int> content, bool truncate, TruncationDirection direction)
    {
        var room = MaxLength - 2;
        var truncated = content.Count > room;
        if (truncated && !truncate)
        {
            throw new EmbeddingException(EmbeddingErrorKind.Validation,
                $"Input validation error: `inputs` must have less than {MaxLength} tokens. Given: {content.Count + 2}", "inputs");
        }

        var keep = Math.Min(content.Count, room);
        var skip = truncated && direction == TruncationDirection.Left ? content.Count - keep : 0;
        var ids = new int[keep + 2];
        ids[0] = ClsId;
        for (var i = 0; i < keep; i++)
        {
            ids[i + 1] = content[skip + i];
        }

        ids[^1] = SepId;
        return new TokenizedInput(ids, truncated);
    }
}
