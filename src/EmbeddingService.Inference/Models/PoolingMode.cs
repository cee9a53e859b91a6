namespace EmbeddingService.Inference.Models;

/// <summary>How token vectors become one sentence vector (sentence-transformers' <c>1_Pooling/config.json</c>).</summary>
public enum PoolingMode
{
    /// <summary>Average of the token vectors under the attention mask.</summary>
    Mean,
    /// <summary>The vector of the first token (<c>[CLS]</c>).</summary>
    Cls,
}
