using System.ComponentModel;

namespace EmbeddingService.Api.Contracts;

// Request DTOs use setters, not init: the System.Text.Json source generator sets every init-only property in its
// object initializer, which would overwrite defaults such as Normalize = true with false when the field is absent.

/// <summary>Body of <c>POST /embed</c> (Text Embeddings Inference).</summary>
public sealed record EmbedRequest
{
    /// <summary>One text or a list of texts.</summary>
    public StringOrList? Inputs { get; set; }

    /// <summary>L2-normalize the vectors.</summary>
    [DefaultValue(true)]
    public bool Normalize { get; set; } = true;

    /// <summary>TEI's switch: <c>true</c> is <c>long_input: truncate</c>, <c>false</c> is <c>long_input: error</c>.</summary>
    public bool? Truncate { get; set; }

    /// <summary>An input longer than the model's limit: <c>truncate</c> (cut it, see <c>truncation_direction</c>), <c>error</c>
    /// (422 naming the input, its tokens and the limit) or <c>mean</c> (embed it in chunks and answer the mean of the chunk
    /// vectors weighted by their tokens). Default: <c>truncate</c> if given, else the server's <c>Limits:LongInput</c>.</summary>
    public string? LongInput { get; set; }

    /// <summary><c>right</c> (keep the beginning) or <c>left</c> (keep the end).</summary>
    [DefaultValue("right")]
    public string? TruncationDirection { get; set; }

    /// <summary>A prompt defined by the model (e.g. <c>query</c> for snowflake-arctic-embed-xs), prepended to each input.</summary>
    public string? PromptName { get; set; }

    /// <summary>Keep only the first N components (then re-normalize).</summary>
    public int? Dimensions { get; set; }

    /// <summary>The model id; default: the server's default model.</summary>
    public string? Model { get; set; }
}

/// <summary>Body of <c>POST /tokenize</c>.</summary>
public sealed record TokenizeRequest
{
    public StringOrList? Inputs { get; set; }

    /// <summary>Include <c>[CLS]</c> and <c>[SEP]</c>.</summary>
    [DefaultValue(true)]
    public bool AddSpecialTokens { get; set; } = true;

    public string? PromptName { get; set; }

    public string? Model { get; set; }
}

/// <summary>One token of a <c>/tokenize</c> answer.</summary>
/// <param name="Id">Vocabulary id.</param>
/// <param name="Text">The vocabulary entry.</param>
/// <param name="Special">Whether it is a special token.</param>
/// <param name="Start">Start offset in the input (UTF-16 code units); null for special tokens.</param>
/// <param name="Stop">End offset (exclusive); null for special tokens.</param>
public sealed record SimpleToken(int Id, string Text, bool Special, int? Start, int? Stop);

/// <summary>Body of <c>POST /similarity</c>.</summary>
public sealed record SimilarityRequest
{
    public SimilarityInputs? Inputs { get; set; }

    /// <summary>TEI's switch: <c>true</c> is <c>long_input: truncate</c>, <c>false</c> is <c>long_input: error</c>.</summary>
    public bool? Truncate { get; set; }

    /// <summary>An input longer than the model's limit: <c>truncate</c> (cut it, see <c>truncation_direction</c>), <c>error</c>
    /// (422 naming the input, its tokens and the limit) or <c>mean</c> (embed it in chunks and answer the mean of the chunk
    /// vectors weighted by their tokens). Default: <c>truncate</c> if given, else the server's <c>Limits:LongInput</c>.</summary>
    public string? LongInput { get; set; }

    public string? TruncationDirection { get; set; }

    public string? PromptName { get; set; }

    public string? Model { get; set; }
}

/// <summary>The sentence to compare and the sentences to compare it with.</summary>
public sealed record SimilarityInputs
{
    public string? SourceSentence { get; set; }

    public List<string>? Sentences { get; set; }
}

/// <summary>Body of <c>POST /embed_chunks</c>: documents in, chunk vectors with their spans out.</summary>
public sealed record EmbedChunksRequest
{
    /// <summary>One document or a list of documents.</summary>
    public StringOrList? Inputs { get; set; }

    /// <summary>The most tokens per chunk, special tokens (and the prompt) excluded. Default and maximum: the model's
    /// limit less its special tokens and the prompt (254 for all-MiniLM-L6-v2).</summary>
    public int? ChunkTokens { get; set; }

    /// <summary>Tokens a chunk may share with the one before it (at most; a chunk starts at a word): 0 up to
    /// <c>chunk_tokens</c> − 1.</summary>
    [DefaultValue(0)]
    public int OverlapTokens { get; set; }

    /// <summary>L2-normalize the vectors.</summary>
    [DefaultValue(true)]
    public bool Normalize { get; set; } = true;

    /// <summary>A prompt defined by the model, prepended to each chunk.</summary>
    public string? PromptName { get; set; }

    /// <summary>The model id; default: the server's default model.</summary>
    public string? Model { get; set; }
}

/// <summary>One chunk of a document.</summary>
/// <param name="Start">Where the chunk starts in the document, in UTF-16 code units (as <c>/tokenize</c>'s offsets, and
/// JavaScript's, C#'s and Java's string indexes; Python counts code points, which differ only past U+FFFF, e.g. emoji).</param>
/// <param name="End">Where it ends (exclusive): <c>text[start:end]</c> is the chunk.</param>
/// <param name="Tokens">Its tokens, special tokens and prompt excluded.</param>
/// <param name="Embedding">Its vector: what <c>/embed</c> answers for <c>text[start:end]</c>.</param>
public sealed record ChunkEmbedding(int Start, int End, int Tokens, float[] Embedding);

/// <summary>Body of <c>POST /embed_all</c>: the token vectors of each input, not pooled.</summary>
public sealed record EmbedAllRequest
{
    /// <summary>One text or a list of texts.</summary>
    public StringOrList? Inputs { get; set; }

    /// <summary><c>true</c> truncates inputs over the model's limit, <c>false</c> refuses them (422). Default: the server's
    /// <c>Limits:LongInput</c> (<c>mean</c> does not apply here and counts as <c>truncate</c>).</summary>
    public bool? Truncate { get; set; }

    /// <summary><c>right</c> (keep the beginning) or <c>left</c> (keep the end).</summary>
    [DefaultValue("right")]
    public string? TruncationDirection { get; set; }

    public string? PromptName { get; set; }

    public string? Model { get; set; }
}

/// <summary>Body of <c>POST /decode</c>: token ids back to text.</summary>
public sealed record DecodeRequest
{
    /// <summary>One list of token ids (of the model's vocabulary, as <c>/tokenize</c> gives them) or a list of lists.</summary>
    public TokenIdLists? Ids { get; set; }

    /// <summary>Leave out special tokens such as <c>[CLS]</c> and <c>[SEP]</c>.</summary>
    [DefaultValue(true)]
    public bool SkipSpecialTokens { get; set; } = true;

    /// <summary>The model id; default: the server's default model.</summary>
    public string? Model { get; set; }
}

/// <summary>TEI's error body.</summary>
/// <param name="Error">What went wrong.</param>
/// <param name="ErrorType">One of Validation, Empty, Tokenizer, Overloaded, Backend, Unhealthy, Unauthorized.</param>
public sealed record TeiError(string Error, string ErrorType);
