using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;

namespace PlainOnnxBaseline;

/// <summary>
/// One InferenceSession plus the BERT tokenizer, written the way the ONNX Runtime and Microsoft.ML.Tokenizers docs
/// show it: ids → int64 tensors padded to the batch's longest → Run → mean pooling over the mask → L2 normalization.
/// Nothing clever on purpose: this is the baseline the service is compared against. Not thread-safe; one per thread.
/// </summary>
internal sealed class PlainEmbedder : IDisposable
{
    private readonly SessionOptions _sessionOptions;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly BertTokenizer _tokenizer;
    private readonly int _maxTokens;
    private readonly string _idsName;
    private readonly string? _maskName;
    private readonly string? _typesName;
    private readonly string _outputName;

    public PlainEmbedder(string modelDir, int intraOpThreads, int maxTokens)
    {
        // The settings the comparison fixes; everything else stays at ONNX Runtime's defaults (including its intra-op
        // spinning, which is on by default).
        _sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
        };
        // Each session reads the file itself: no weights shared between threads.
        _session = new InferenceSession(Path.Combine(modelDir, "model.onnx"), _sessionOptions);

        // all-MiniLM-L6-v2's tokenizer_config: do_lower_case=true, strip_accents=null. In Hugging Face's BertTokenizer
        // strip_accents=null follows lower-casing, so accents are removed too (RemoveNonSpacingMarks).
        _tokenizer = BertTokenizer.Create(Path.Combine(modelDir, "vocab.txt"), new BertOptions
        {
            LowerCaseBeforeTokenization = true,
            RemoveNonSpacingMarks = true,
        });
        _maxTokens = maxTokens;

        // Input names as the exported graph declares them (BERT exports use these three; some omit token_type_ids).
        var inputs = _session.InputMetadata.Keys.ToList();
        _idsName = inputs.FirstOrDefault(n => n == "input_ids") ?? inputs[0];
        _maskName = inputs.FirstOrDefault(n => n == "attention_mask");
        _typesName = inputs.FirstOrDefault(n => n == "token_type_ids");
        var outputs = _session.OutputMetadata.Keys.ToList();
        _outputName = outputs.FirstOrDefault(n => n == "last_hidden_state") ?? outputs[0];
    }

    public string Describe() =>
        $"inputs [{string.Join(", ", _session.InputMetadata.Keys)}], outputs [{string.Join(", ", _session.OutputMetadata.Keys)}], using {_outputName}";

    /// <summary>[CLS] text [SEP], truncated so the whole sequence is at most max-tokens long (as HF's truncation does).</summary>
    public int[] Tokenize(string text)
    {
        IReadOnlyList<int> ids = _tokenizer.EncodeToIds(text, _maxTokens - 2, addSpecialTokens: false, out _, out _);
        var result = new int[ids.Count + 2];
        result[0] = _tokenizer.ClassificationTokenId;
        for (int i = 0; i < ids.Count; i++)
        {
            result[i + 1] = ids[i];
        }
        result[^1] = _tokenizer.SeparatorTokenId;
        return result;
    }

    /// <summary>Embeds one batch; returns one normalized vector per sequence, in order.</summary>
    public float[][] Embed(IReadOnlyList<int[]> batch)
    {
        int b = batch.Count;
        int len = 0;
        foreach (int[] seq in batch)
        {
            len = Math.Max(len, seq.Length);
        }

        var ids = new long[b * len];
        var mask = new long[b * len];
        var types = new long[b * len]; // single-segment input: all zeros
        for (int i = 0; i < b; i++)
        {
            int[] seq = batch[i];
            for (int t = 0; t < len; t++)
            {
                bool real = t < seq.Length;
                ids[i * len + t] = real ? seq[t] : _tokenizer.PaddingTokenId;
                mask[i * len + t] = real ? 1 : 0;
            }
        }

        long[] shape = [b, len];
        var names = new List<string>(3) { _idsName };
        var values = new List<OrtValue>(3) { OrtValue.CreateTensorValueFromMemory(ids, shape) };
        try
        {
            if (_maskName is not null)
            {
                names.Add(_maskName);
                values.Add(OrtValue.CreateTensorValueFromMemory(mask, shape));
            }
            if (_typesName is not null)
            {
                names.Add(_typesName);
                values.Add(OrtValue.CreateTensorValueFromMemory(types, shape));
            }

            using var outputs = _session.Run(_runOptions, names, values, [_outputName]);
            OrtValue hidden = outputs[0];
            long[] outShape = hidden.GetTensorTypeAndShape().Shape; // [B, L, H]
            int dim = (int)outShape[2];
            ReadOnlySpan<float> h = hidden.GetTensorDataAsSpan<float>();

            var result = new float[b][];
            for (int i = 0; i < b; i++)
            {
                // Mean over the real tokens (mask = 1), then divide by the L2 norm (clamped like torch's normalize).
                var v = new float[dim];
                int count = batch[i].Length;
                for (int t = 0; t < count; t++)
                {
                    ReadOnlySpan<float> row = h.Slice((i * len + t) * dim, dim);
                    for (int d = 0; d < dim; d++)
                    {
                        v[d] += row[d];
                    }
                }
                double norm = 0;
                for (int d = 0; d < dim; d++)
                {
                    v[d] /= count;
                    norm += (double)v[d] * v[d];
                }
                float inv = (float)(1.0 / Math.Max(Math.Sqrt(norm), 1e-12));
                for (int d = 0; d < dim; d++)
                {
                    v[d] *= inv;
                }
                result[i] = v;
            }
            return result;
        }
        finally
        {
            foreach (OrtValue v in values)
            {
                v.Dispose();
            }
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _sessionOptions.Dispose();
        _runOptions.Dispose();
    }
}
