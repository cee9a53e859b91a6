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

    /// <summary>Truncate inputs longer than the model's limit; when false they are a 422. Default: the server's <c>Limits:AutoTruncate</c>.</summary>
    public bool? Truncate { get; set; }

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

    public bool? Truncate { get; set; }

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

/// <summary>TEI's error body.</summary>
/// <param name="Error">What went wrong.</param>
/// <param name="ErrorType">One of Validation, Empty, Tokenizer, Overloaded, Backend, Unhealthy, Unauthorized.</param>
public sealed record TeiError(string Error, string ErrorType);
