namespace EmbeddingService.Inference.Models;

/// <summary>Everything the runtime needs to know about one model folder, read once at start-up.</summary>
/// <param name="Id">The id callers use to address the model.</param>
/// <param name="Directory">The absolute path of the model folder.</param>
/// <param name="Pooling">How token vectors are pooled.</param>
/// <param name="MaxSequenceLength">The most tokens per input, <c>[CLS]</c> and <c>[SEP]</c> included.</param>
/// <param name="LowerCase">Whether the tokenizer lower-cases and strips accents (uncased BERT).</param>
/// <param name="Prompts">Named prompts prepended to the text (e.g. <c>query</c>).</param>
/// <param name="DefaultPromptName">The prompt used when a request names none, if any.</param>
/// <param name="Dtype">The precision of the model's weights: <see cref="Float32"/>, or what its
/// <see cref="QuantizationStamp"/> says (e.g. <c>int8</c>).</param>
/// <param name="ModelSha256">The SHA-256 of <c>model.onnx</c> (lower-case hex): which weights these are, whatever the
/// folder or id (the embedding cache's key, the prepared graph's check, <c>/info</c>).</param>
public sealed record ModelManifest(
    string Id,
    string Directory,
    PoolingMode Pooling,
    int MaxSequenceLength,
    bool LowerCase,
    IReadOnlyDictionary<string, string> Prompts,
    string? DefaultPromptName,
    string Dtype = ModelManifest.Float32,
    string ModelSha256 = "")
{
    public const string Float32 = "float32";

    /// <summary>The precision of an int8 variant (tools/ModelPreparer quantize).</summary>
    public const string Int8 = QuantizationStamp.Int8;

    public string ModelPath => Path.Combine(Directory, "model.onnx");

    public string VocabularyPath => Path.Combine(Directory, "vocab.txt");
}
