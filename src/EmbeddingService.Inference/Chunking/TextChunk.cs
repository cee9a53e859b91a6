namespace EmbeddingService.Inference.Chunking;

/// <summary>One chunk of a document: <c>text[Start..End]</c> (UTF-16 code units, as <c>/tokenize</c>'s offsets), its
/// content tokens (no special tokens, no prompt), and the index of its vector in the result.</summary>
public readonly record struct TextChunk(int Start, int End, int Tokens, int Vector);

/// <summary>The chunks of every document of a request, with their vectors.</summary>
public sealed class ChunkedEmbeddingResult(EmbeddingResult vectors, IReadOnlyList<IReadOnlyList<TextChunk>> documents)
{
    /// <summary>One vector per chunk, in document order then text order; what the request cost and where its time went.</summary>
    public EmbeddingResult Vectors { get; } = vectors;

    /// <summary>Per document, its chunks in text order (none for an empty or whitespace-only text).</summary>
    public IReadOnlyList<IReadOnlyList<TextChunk>> Documents { get; } = documents;
}
