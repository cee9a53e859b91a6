namespace EmbeddingService.Inference.Tokenization;

/// <summary>One token as <c>/tokenize</c> reports it.</summary>
/// <param name="Id">The vocabulary id.</param>
/// <param name="Text">The token as it appears in the vocabulary (e.g. <c>##ing</c>).</param>
/// <param name="Special">Whether it is a special token such as <c>[CLS]</c>.</param>
/// <param name="Start">Start offset in the original text (UTF-16 code units), or null for special tokens or unmappable text.</param>
/// <param name="Stop">End offset (exclusive) in the original text, or null.</param>
public readonly record struct TokenSpan(int Id, string Text, bool Special, int? Start, int? Stop);
