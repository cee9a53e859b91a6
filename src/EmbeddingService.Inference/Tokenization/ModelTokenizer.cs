using Microsoft.ML.Tokenizers;
using EmbeddingService.Inference.Chunking;
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
    private readonly WordPieceDecoder _decoder;

    private ModelTokenizer(BertTokenizer bert, int maxLength, string[] vocabulary)
    {
        _bert = bert;
        _decoder = new WordPieceDecoder(vocabulary);
        MaxLength = maxLength;
        VocabularySize = vocabulary.Length;
    }

    /// <summary>The most tokens per input, special tokens included.</summary>
    public int MaxLength { get; }

    /// <summary>The most content tokens per input: <see cref="MaxLength"/> less <c>[CLS]</c> and <c>[SEP]</c>.</summary>
    public int ContentRoom => MaxLength - 2;

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
        // vocab.txt holds one token per line, its id being the line's number.
        return new ModelTokenizer(bert, manifest.MaxSequenceLength, File.ReadAllLines(manifest.VocabularyPath));
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
        CheckIds(ids);
        return Frame(ids, truncate, direction);
    }

    /// <exception cref="EmbeddingException">An id is outside the vocabulary.</exception>
    public void CheckIds(IReadOnlyList<int> ids, string field = "input")
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if ((uint)ids[i] >= (uint)VocabularySize)
            {
                throw new EmbeddingException(EmbeddingErrorKind.Tokenizer,
                    $"Token id {ids[i]} at position {i} is outside the model's vocabulary (0-{VocabularySize - 1}).", field);
            }
        }
    }

    /// <summary>Token ids back to text, as TEI's <c>/decode</c> gives it (see <see cref="WordPieceDecoder"/>).</summary>
    /// <exception cref="EmbeddingException">An id is outside the vocabulary.</exception>
    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens)
    {
        CheckIds(ids, "ids");
        return _decoder.Decode(ids, skipSpecialTokens);
    }

    /// <summary>Ids a client tokenized itself (checked with <see cref="CheckIds"/>), as a document to chunk: word starts
    /// come from the vocabulary; there is no text, so no spans and no sentence ends.</summary>
    public DocumentTokens DocumentOfIds(IReadOnlyList<int> ids)
    {
        var continuation = new bool[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            continuation[i] = _decoder.IsContinuation(ids[i]);
        }

        return new DocumentTokens(string.Empty, [.. ids], continuation, starts: null, stops: null);
    }

    /// <summary>Tokens with their text and their offsets in <paramref name="text"/>, as <c>/tokenize</c> reports them.</summary>
    public IReadOnlyList<TokenSpan> Tokenize(string text, bool addSpecialTokens)
    {
        var (tokens, offsets) = EncodeWithOffsets(text);
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

    /// <summary>The content tokens of <paramref name="text"/> (no special tokens, never truncated) with their offsets, word
    /// starts and sentence ends, for chunking. One tokenization pass.</summary>
    public DocumentTokens TokenizeDocument(string text)
    {
        var (tokens, offsets) = EncodeWithOffsets(text);
        var ids = new int[tokens.Count];
        var continuation = new bool[tokens.Count];
        var starts = offsets is null ? null : new int[tokens.Count];
        var stops = offsets is null ? null : new int[tokens.Count];
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            ids[i] = token.Id;
            continuation[i] = _decoder.IsContinuation(token.Id);
            if (starts is not null && offsets!.ToOriginal(token.Offset.Start.Value, token.Offset.End.Value) is ({ } start, { } stop))
            {
                starts[i] = start;
                stops![i] = stop;
            }
            else
            {
                starts = stops = null;
            }
        }

        return new DocumentTokens(text, ids, continuation, starts, stops);
    }

    /// <summary>The content ids of <paramref name="text"/>: no special tokens, never truncated (e.g. a prompt's).</summary>
    public IReadOnlyList<int> EncodeContent(string text) => _bert.EncodeToIds(BertTextCleaner.Clean(text), addSpecialTokens: false);

    /// <summary>One model input: <c>[CLS]</c>, <paramref name="prefix"/> (a prompt's ids), <paramref name="content"/>,
    /// <c>[SEP]</c>. The caller keeps it within <see cref="MaxLength"/>.</summary>
    public TokenizedInput Frame(ReadOnlySpan<int> prefix, ReadOnlySpan<int> content)
    {
        var ids = new int[prefix.Length + content.Length + 2];
        ids[0] = ClsId;
        prefix.CopyTo(ids.AsSpan(1));
        content.CopyTo(ids.AsSpan(1 + prefix.Length));
        ids[^1] = SepId;
        return new TokenizedInput(ids, Truncated: false);
    }

    private (IReadOnlyList<EncodedToken> Tokens, OffsetMap? Offsets) EncodeWithOffsets(string text)
    {
        var cleaned = BertTextCleaner.Clean(text);
        var tokens = _bert.EncodeToTokens(cleaned, out var normalized, considerPreTokenization: true, considerNormalization: true);
        return (tokens, OffsetMap.Build(text, normalized ?? cleaned, _bert.Normalizer));
    }

    private TokenizedInput Frame(IReadOnlyList<int> content, bool truncate, TruncationDirection direction)
    {
        if (content.Count > ContentRoom && !truncate)
        {
            throw new EmbeddingException(EmbeddingErrorKind.Validation,
                $"Input validation error: `inputs` must have less than {MaxLength} tokens. Given: {content.Count + 2}", "inputs");
        }

        return Truncate(content, direction);
    }

    /// <summary><paramref name="content"/> framed with the special tokens, cut to fit the model if it is too long:
    /// <see cref="TruncationDirection.Right"/> keeps the beginning, <see cref="TruncationDirection.Left"/> the end.</summary>
    public TokenizedInput Truncate(IReadOnlyList<int> content, TruncationDirection direction)
    {
        var truncated = content.Count > ContentRoom;
        var keep = Math.Min(content.Count, ContentRoom);
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
