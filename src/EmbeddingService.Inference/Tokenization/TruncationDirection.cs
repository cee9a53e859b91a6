namespace EmbeddingService.Inference.Tokenization;

/// <summary>Which end of an over-long input is cut off (TEI's <c>truncation_direction</c>).</summary>
public enum TruncationDirection
{
    /// <summary>Keep the beginning, drop tokens from the end.</summary>
    Right,
    /// <summary>Keep the end, drop tokens from the beginning.</summary>
    Left,
}
