namespace EmbeddingService.Inference.Tokenization;

/// <summary>One input ready for the model: token ids with <c>[CLS]</c> and <c>[SEP]</c>, after any truncation.</summary>
/// <param name="Ids">The token ids, special tokens included; never longer than the model's maximum.</param>
/// <param name="Truncated">Whether tokens were dropped to fit the model's maximum length.</param>
public readonly record struct TokenizedInput(int[] Ids, bool Truncated)
{
    public int Length => Ids.Length;
}
