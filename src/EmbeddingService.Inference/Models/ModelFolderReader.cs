using System.Text.Json;
using System.Text.Json.Nodes;

namespace EmbeddingService.Inference.Models;

/// <summary>
/// Reads a sentence-transformers style model folder into a <see cref="ModelManifest"/>:
/// <c>model.onnx</c> and <c>vocab.txt</c> (required), <c>1_Pooling/config.json</c> (pooling, default mean),
/// <c>sentence_bert_config.json</c> (<c>max_seq_length</c>), <c>tokenizer_config.json</c> (<c>do_lower_case</c>, default true)
/// and <c>config_sentence_transformers.json</c> (<c>prompts</c>, <c>default_prompt_name</c>); <c>quantization.json</c>
/// (<see cref="QuantizationStamp"/>) where the model is a quantized variant.
/// </summary>
public static class ModelFolderReader
{
    /// <summary>Used when neither the configuration nor the folder gives a maximum: BERT's position table size.</summary>
    public const int FallbackMaxSequenceLength = 512;

    public static ModelManifest Read(string id, string directory, int? maxSequenceLengthOverride = null)
    {
        var folder = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(folder))
        {
            throw new InvalidOperationException($"Model '{id}': folder '{folder}' does not exist.");
        }

        foreach (var required in new[] { "model.onnx", "vocab.txt" })
        {
            if (!File.Exists(Path.Combine(folder, required)))
            {
                throw new InvalidOperationException($"Model '{id}': '{required}' is missing from '{folder}'.");
            }
        }

        var pooling = ReadPooling(id, ReadJson(folder, "1_Pooling/config.json"));
        var sentenceBert = ReadJson(folder, "sentence_bert_config.json");
        var tokenizerConfig = ReadJson(folder, "tokenizer_config.json");
        var stConfig = ReadJson(folder, "config_sentence_transformers.json");

        var maxLength = maxSequenceLengthOverride
            ?? (int?)sentenceBert?["max_seq_length"]
            ?? (int?)tokenizerConfig?["model_max_length"]
            ?? FallbackMaxSequenceLength;
        if (maxLength is < 3 or > 8192)
        {
            throw new InvalidOperationException($"Model '{id}': max sequence length {maxLength} is out of range (3-8192).");
        }

        var lowerCase = (bool?)tokenizerConfig?["do_lower_case"] ?? true;

        var prompts = new Dictionary<string, string>(StringComparer.Ordinal);
        if (stConfig?["prompts"] is JsonObject promptObject)
        {
            foreach (var (name, value) in promptObject)
            {
                prompts[name] = value?.GetValue<string>() ?? string.Empty;
            }
        }

        var defaultPrompt = (string?)stConfig?["default_prompt_name"];
        if (defaultPrompt is not null && !prompts.ContainsKey(defaultPrompt))
        {
            throw new InvalidOperationException($"Model '{id}': default_prompt_name '{defaultPrompt}' is not among its prompts.");
        }

        var dtype = QuantizationStamp.Read(folder)?.Dtype ?? ModelManifest.Float32;
        var modelSha256 = QuantizationStamp.Source(Path.Combine(folder, "model.onnx")).Sha256;
        return new ModelManifest(id, folder, pooling, maxLength, lowerCase, prompts, defaultPrompt, dtype, modelSha256);
    }

    private static PoolingMode ReadPooling(string id, JsonNode? config)
    {
        if (config is null)
        {
            return PoolingMode.Mean;
        }

        var cls = (bool?)config["pooling_mode_cls_token"] ?? false;
        var mean = (bool?)config["pooling_mode_mean_tokens"] ?? false;
        var others = ((bool?)config["pooling_mode_max_tokens"] ?? false) || ((bool?)config["pooling_mode_mean_sqrt_len_tokens"] ?? false)
            || ((bool?)config["pooling_mode_weightedmean_tokens"] ?? false) || ((bool?)config["pooling_mode_lasttoken"] ?? false);
        return (cls, mean, others) switch
        {
            (true, false, false) => PoolingMode.Cls,
            (false, true, false) => PoolingMode.Mean,
            _ => throw new InvalidOperationException(
                $"Model '{id}': 1_Pooling/config.json must enable exactly one of pooling_mode_cls_token or pooling_mode_mean_tokens."),
        };
    }

    private static JsonNode? ReadJson(string folder, string relativePath)
    {
        var path = Path.Combine(folder, relativePath);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"'{path}' is not valid JSON: {ex.Message}", ex);
        }
    }
}
