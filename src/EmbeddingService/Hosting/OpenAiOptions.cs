namespace EmbeddingService.Hosting;

/// <summary>How token-id inputs to <c>/v1/embeddings</c> are read.</summary>
public enum TokenIdVocabulary
{
    /// <summary>The ids are OpenAI <c>cl100k_base</c> tokens (what OpenAI clients send): decode, then re-tokenize for the model.</summary>
    Cl100kBase,
    /// <summary>The ids are the model's own vocabulary ids: use them as they are.</summary>
    Model,
}

/// <summary>The <c>OpenAi</c> section.</summary>
public sealed class OpenAiOptions
{
    public const string SectionName = "OpenAi";

    public TokenIdVocabulary TokenIdInputs { get; set; } = TokenIdVocabulary.Cl100kBase;
}
