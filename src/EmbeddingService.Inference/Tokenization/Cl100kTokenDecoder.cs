using Microsoft.ML.Tokenizers;

namespace EmbeddingService.Inference.Tokenization;

/// <summary>
/// Turns OpenAI <c>cl100k_base</c> token ids back into text. OpenAI clients (LangChain's <c>OpenAIEmbeddings</c>, for one)
/// tokenize with cl100k_base and send ids instead of strings; decoding them lets the model's own tokenizer see the text
/// the caller meant. The 1.7 MB vocabulary loads on first use, from the Microsoft.ML.Tokenizers.Data.Cl100kBase package.
/// </summary>
public sealed class Cl100kTokenDecoder
{
    /// <summary>Ids 0 to 100255 are cl100k_base's ordinary tokens; the special tokens above them carry no text.</summary>
    public const int OrdinaryTokenCount = 100_256;

    private readonly Lazy<TiktokenTokenizer> _tokenizer = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));

    /// <summary>Decodes one input's ids.</summary>
    /// <exception cref="EmbeddingException">An id is not an ordinary cl100k_base token.</exception>
    public string Decode(IReadOnlyList<int> ids)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if ((uint)ids[i] >= OrdinaryTokenCount)
            {
                throw new EmbeddingException(EmbeddingErrorKind.Tokenizer,
                    $"Token id {ids[i]} at position {i} is not a cl100k_base token (valid ids are 0-{OrdinaryTokenCount - 1}).", "input");
            }
        }

        return _tokenizer.Value.Decode(ids) ?? string.Empty;
    }
}
