using System.Text.Json;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Correctness;

/// <summary>
/// Our vectors against values published by peer projects (../shared/eval/reference-vectors.json): Text Embeddings
/// Inference snapshots, fastembed, mlflow, the sentence-transformers outputs quoted in READMEs, the model card.
/// </summary>
public sealed class ReferenceVectorTests(EmbeddingServiceFactory factory)
{
    private const string MiniLm = "all-MiniLM-L6-v2";
    private const string Arctic = "snowflake-arctic-embed-xs";
    private static readonly JsonElement s_reference = EvalData.ReferenceVectors().RootElement;

    [Fact]
    public async Task Full_vectors_match_text_embeddings_inference_snapshots()
    {
        using var client = factory.CreateClient();
        foreach (var reference in s_reference.GetProperty(MiniLm).GetProperty("full_vectors").EnumerateArray())
        {
            var text = reference.GetProperty("text").GetString()!;
            var normalized = (await client.EmbedAsync(new { inputs = text }))[0];
            var raw = (await client.EmbedAsync(new { inputs = text, normalize = false }))[0];

            Assert.True(VectorMath.Cosine(normalized, Doubles(reference.GetProperty("normalized"))) > 0.999, text);
            Assert.True(VectorMath.Cosine(raw, Doubles(reference.GetProperty("unnormalized_mean_pooled"))) > 0.999, text);
            // Unnormalized means unnormalized: same magnitude as TEI's mean-pooled vector.
            Assert.Equal(Norm(Doubles(reference.GetProperty("unnormalized_mean_pooled"))), VectorMath.Norm(raw), 2);
        }
    }

    [Fact]
    public async Task Cosine_between_the_two_snapshot_texts_matches()
    {
        using var client = factory.CreateClient();
        var vectors = await client.EmbedAsync(new { inputs = new[] { "What is Deep Learning?", "Deep Learning is..." } });
        var expected = s_reference.GetProperty(MiniLm).GetProperty("derived_cosine_What_is_Deep_Learning_vs_Deep_Learning_is").GetDouble();
        Assert.InRange(VectorMath.Cosine(vectors[0], vectors[1]), expected - 1e-3, expected + 1e-3);
    }

    [Theory]
    [InlineData(MiniLm)]
    [InlineData(Arctic)]
    public async Task Partial_vectors_match_within_1e_3(string model)
    {
        using var client = factory.CreateClient();
        var checkedComponents = 0;
        foreach (var reference in s_reference.GetProperty(model).GetProperty("partial_vectors").EnumerateArray())
        {
            var text = reference.GetProperty("text").GetString()!;
            var source = reference.GetProperty("source").GetString()!;
            // transformers.js v2 ran the int8-quantized ONNX: its figures are only good to about 1e-2.
            var tolerance = source.Contains("int8", StringComparison.Ordinal) ? 1e-2 : 1e-3;
            var vector = (await client.EmbedAsync(new { inputs = text, model }))[0];
            foreach (var part in reference.EnumerateObject())
            {
                if (part.Name.StartsWith("first", StringComparison.Ordinal))
                {
                    var expected = Doubles(part.Value);
                    for (var i = 0; i < expected.Length; i++, checkedComponents++)
                    {
                        Assert.True(Math.Abs(vector[i] - expected[i]) <= tolerance, $"{model} '{text}' component {i}: {vector[i]} vs {expected[i]} ({source})");
                    }
                }
                else if (part.Name.StartsWith("last", StringComparison.Ordinal))
                {
                    var expected = Doubles(part.Value);
                    var offset = vector.Length - expected.Length;
                    for (var i = 0; i < expected.Length; i++, checkedComponents++)
                    {
                        Assert.True(Math.Abs(vector[offset + i] - expected[i]) <= tolerance, $"{model} '{text}' component {offset + i}: {vector[offset + i]} vs {expected[i]}");
                    }
                }
            }
        }

        Assert.True(checkedComponents >= 5);
    }

    [Theory]
    [InlineData(MiniLm)]
    [InlineData(Arctic)]
    public async Task Component_sums_match_fastembed_rs(string model)
    {
        using var client = factory.CreateClient();
        var reference = s_reference.GetProperty(model).GetProperty("fastembed_rs_sum_of_components");
        var texts = reference.GetProperty("texts").EnumerateArray().Select(static t => t.GetString()!).ToArray();
        var expected = Doubles(reference.GetProperty("expected_sums"));
        var vectors = await client.EmbedAsync(new { inputs = texts, model });
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.True(Math.Abs(vectors[i].Sum(static x => (double)x) - expected[i]) <= 1e-2, $"{model} '{texts[i]}'");
        }
    }

    [Fact]
    public async Task MiniLm_is_mean_pooled_not_cls_pooled()
    {
        using var client = factory.CreateClient();
        var sentinels = s_reference.GetProperty(MiniLm).GetProperty("wrong_pooling_sentinels");
        var hello = (await client.EmbedAsync(new { inputs = "hello world" }))[0];
        foreach (var name in new[] { "fastembed_py_pre_fix_hello_world_first5", "fastembed_js_hello_world_first10" })
        {
            var wrong = Doubles(sentinels.GetProperty(name).GetProperty("values"));
            var matches = wrong.Select((w, i) => Math.Abs(hello[i] - w) <= 1e-3).All(static m => m);
            Assert.False(matches, $"'hello world' matches the CLS-pooled values of {name}");
        }

        var cls = sentinels.GetProperty("cls_pooled_unnormalized_What_is_Deep_Learning");
        var raw = (await client.EmbedAsync(new { inputs = "What is Deep Learning?", normalize = false }))[0];
        var cosine = VectorMath.Cosine(raw, Doubles(cls.GetProperty("vector")));
        Assert.True(cosine < 0.9, $"Our vector is too close to the CLS-pooled one ({cosine}).");
        Assert.Equal(cls.GetProperty("cosine_to_correct_mean_pooled").GetDouble(), cosine, 2);
    }

    [Fact]
    public async Task Arctic_model_card_scores_match_with_the_query_prompt()
    {
        using var client = factory.CreateClient();
        var card = s_reference.GetProperty(Arctic).GetProperty("model_card_scores");
        var queries = card.GetProperty("queries").EnumerateArray().Select(static q => q.GetString()!).ToArray();
        var documents = card.GetProperty("documents").EnumerateArray().Select(static d => d.GetString()!).ToArray();
        var q = await client.EmbedAsync(new { inputs = queries, model = Arctic, prompt_name = "query" });
        var d = await client.EmbedAsync(new { inputs = documents, model = Arctic });
        var expected = card.GetProperty("cosine_query_x_document");
        for (var i = 0; i < queries.Length; i++)
        {
            var row = Doubles(expected[i]);
            for (var j = 0; j < documents.Length; j++)
            {
                Assert.True(Math.Abs(VectorMath.Cosine(q[i], d[j]) - row[j]) <= 2e-3, $"query {i} x document {j}: {VectorMath.Cosine(q[i], d[j])} vs {row[j]}");
            }
        }
    }

    [Fact]
    public async Task Tokens_match_the_snapshot_tokenization()
    {
        using var client = factory.CreateClient();
        var expected = s_reference.GetProperty(MiniLm).GetProperty("token_level_last_hidden_state").GetProperty("tokens")
            .EnumerateArray().Select(static t => t.GetString()).ToArray();
        var response = await client.PostAsync("/tokenize", JsonContent("""{"inputs":"What is Deep Learning?"}"""), TestContext.Current.CancellationToken);
        using var tokens = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(expected, tokens.RootElement[0].EnumerateArray().Select(static t => t.GetProperty("text").GetString()).ToArray());
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    private static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(static e => e.GetDouble()).ToArray();

    private static double Norm(double[] v) => Math.Sqrt(v.Sum(static x => x * x));
}
