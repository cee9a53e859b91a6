using System.Net.Http.Json;
using System.Text.Json;
using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Inference.Models;
using EmbeddingService.Tests.Infrastructure;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace EmbeddingService.Tests.Correctness;

/// <summary>
/// The int8 variants the build makes from the fp32 models (tools/ModelPreparer quantize), served as models of their own
/// (added to the configuration as README says: they are not loaded by default): their quality against the fp32 original
/// through the service (issue 18's bounds), their precision where callers see it, and the folder the build wrote.
/// </summary>
public sealed class Int8VariantTests(Int8VariantTests.ServiceWithInt8 service) : IClassFixture<Int8VariantTests.ServiceWithInt8>
{
    /// <summary>The service with the two int8 variants added after the configured fp32 models.</summary>
    public sealed class ServiceWithInt8 : IAsyncLifetime
    {
        public EmbeddingServiceFactory Factory { get; private set; } = null!;

        public async ValueTask InitializeAsync() => Factory = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Models:Items:2:Id"] = MiniLmInt8,
            ["Models:Items:2:Path"] = "models/" + MiniLmInt8,
            ["Models:Items:3:Id"] = ArcticInt8,
            ["Models:Items:3:Path"] = "models/" + ArcticInt8,
        });

        public ValueTask DisposeAsync() => Factory.DisposeAsync();
    }

    private readonly EmbeddingServiceFactory factory = service.Factory;

    private const string MiniLm = "all-MiniLM-L6-v2";
    private const string MiniLmInt8 = "all-MiniLM-L6-v2-int8";
    private const string Arctic = "snowflake-arctic-embed-xs";
    private const string ArcticInt8 = "snowflake-arctic-embed-xs-int8";

    [Fact]
    public async Task MiniLm_int8_keeps_the_sts_test_spearman_within_0_005_of_fp32()
    {
        var (fp32, int8) = await SpearmanAsync("test");
        Assert.True(int8 >= 0.8153, $"int8 STS-B test Spearman {int8:F4} < 0.8153");
        Assert.True(Math.Abs(fp32 - int8) <= 0.005, $"STS-B test Spearman fp32 {fp32:F4}, int8 {int8:F4}");
    }

    [Fact]
    public async Task MiniLm_int8_keeps_the_sts_dev_spearman_within_0_005_of_fp32()
    {
        var (fp32, int8) = await SpearmanAsync("dev");
        Assert.True(Math.Abs(fp32 - int8) <= 0.005, $"STS-B dev Spearman fp32 {fp32:F4}, int8 {int8:F4}");
    }

    [Fact]
    public async Task MiniLm_int8_vectors_are_close_to_fp32_on_the_sts_sentences()
    {
        var sentences = EvalData.StsPairs("test").Concat(EvalData.StsPairs("dev"))
            .SelectMany(static p => new[] { p.First, p.Second }).Distinct(StringComparer.Ordinal).ToArray();
        using var client = factory.CreateClient();
        var fp32 = await client.EmbedManyAsync(sentences, MiniLm);
        var int8 = await client.EmbedManyAsync(sentences, MiniLmInt8);

        var cosines = fp32.Zip(int8, static (a, b) => VectorMath.Cosine(a, b)).ToArray();
        TestContext.Current.TestOutputHelper?.WriteLine($"{sentences.Length} sentences: cosine int8 to fp32 mean {cosines.Average():F4}, min {cosines.Min():F4}");
        Assert.True(cosines.Average() >= 0.99, $"mean cosine {cosines.Average():F4} < 0.99");
    }

    [Fact]
    public async Task Arctic_int8_keeps_the_model_card_ranking_of_documents_for_each_query()
    {
        using var reference = EvalData.ReferenceVectors();
        var card = reference.RootElement.GetProperty(Arctic).GetProperty("model_card_scores");
        var queries = card.GetProperty("queries").EnumerateArray().Select(static q => q.GetString()!).ToArray();
        var documents = card.GetProperty("documents").EnumerateArray().Select(static d => d.GetString()!).ToArray();
        var expected = card.GetProperty("cosine_query_x_document");
        using var client = factory.CreateClient();
        var q = await client.EmbedAsync(new { inputs = queries, model = ArcticInt8, prompt_name = "query" });
        var d = await client.EmbedAsync(new { inputs = documents, model = ArcticInt8 });

        for (var i = 0; i < queries.Length; i++)
        {
            var scores = expected[i].EnumerateArray().Select(static e => e.GetDouble()).ToArray();
            var expectedOrder = Enumerable.Range(0, documents.Length).OrderByDescending(j => scores[j]).ToArray();
            var order = Enumerable.Range(0, documents.Length).OrderByDescending(j => VectorMath.Cosine(q[i], d[j])).ToArray();
            Assert.Equal(expectedOrder, order);
        }
    }

    [Fact]
    public async Task Info_and_models_say_each_models_precision_and_the_cpus_int8_support()
    {
        using var client = factory.CreateClient();
        using var info = JsonDocument.Parse(await client.GetStringAsync("/info", TestContext.Current.CancellationToken));
        var dtypes = info.RootElement.GetProperty("models").EnumerateArray()
            .ToDictionary(static m => m.GetProperty("id").GetString()!, static m => m.GetProperty("model_dtype").GetString());
        Assert.Equal("float32", dtypes[MiniLm]);
        Assert.Equal("float32", dtypes[Arctic]);
        Assert.Equal("int8", dtypes[MiniLmInt8]);
        Assert.Equal("int8", dtypes[ArcticInt8]);
        Assert.Equal("float32", info.RootElement.GetProperty("model_dtype").GetString());
        var cpu = info.RootElement.GetProperty("cpu");
        Assert.Contains(cpu.GetProperty("int8_dot_product").GetString(), new[] { "avx512_vnni", "avx_vnni", "arm_dotprod", "none" });
        Assert.Equal(Environment.ProcessorCount, cpu.GetProperty("cores").GetInt32());

        using var models = JsonDocument.Parse(await client.GetStringAsync("/v1/models", TestContext.Current.CancellationToken));
        var listed = models.RootElement.GetProperty("data").EnumerateArray()
            .ToDictionary(static m => m.GetProperty("id").GetString()!, static m => m.GetProperty("model_dtype").GetString());
        Assert.Equal("int8", listed[MiniLmInt8]);
        Assert.Equal("float32", listed[MiniLm]);
    }

    [Theory]
    [InlineData(MiniLm, MiniLmInt8)]
    [InlineData(Arctic, ArcticInt8)]
    public void The_build_quantizes_every_matrix_of_the_shipped_fp32_model(string fp32Id, string int8Id)
    {
        var fp32 = Path.Combine(AppContext.BaseDirectory, "models", fp32Id);
        var int8 = Path.Combine(AppContext.BaseDirectory, "models", int8Id);
        var stamp = QuantizationStamp.Read(int8)!;
        var (bytes, sha) = QuantizationStamp.Source(Path.Combine(fp32, "model.onnx"));

        Assert.Equal("int8", stamp.Dtype);
        Assert.Equal(36, stamp.QuantizedMatMuls);
        Assert.Equal(0, stamp.FloatMatMuls);
        Assert.Equal(bytes, stamp.SourceBytes);
        Assert.Equal(sha, stamp.SourceSha256);
        Assert.Null(QuantizationStamp.Read(fp32));
        Assert.Equal(File.ReadAllBytes(Path.Combine(fp32, "vocab.txt")), File.ReadAllBytes(Path.Combine(int8, "vocab.txt")));
        // The matrices are a quarter of their fp32 size; the word embeddings stay fp32.
        var ratio = (double)new FileInfo(Path.Combine(int8, "model.onnx")).Length / bytes;
        Assert.InRange(ratio, 0.5, 0.75);
        Assert.Equal("int8", ModelFolderReader.Read(int8Id, int8).Dtype);
        Assert.Equal(ModelManifest.Float32, ModelFolderReader.Read(fp32Id, fp32).Dtype);
    }

    [Fact]
    public void A_model_folder_whose_quantization_stamp_cannot_be_read_is_refused()
    {
        using var copy = ModelFolderCopy.Of(MiniLmInt8);
        File.WriteAllText(copy.MakeWritable(QuantizationStamp.FileName), "{ not json");

        var error = Assert.Throws<InvalidOperationException>(() => ModelFolderReader.Read(MiniLmInt8, copy.Folder));
        Assert.Contains(QuantizationStamp.FileName, error.Message);
    }

    /// <summary>
    /// <c>Batching:LoneRequestThreads</c> not set: fp32 models get a multi-threaded lone-request session, int8 models none,
    /// as a lone int8 pass is no faster on two threads (BatchingOptions says what was measured); their lone requests run on a
    /// runner's session.
    /// </summary>
    [Fact]
    public async Task A_lone_int8_request_runs_on_a_runner_session_by_default()
    {
        Assert.SkipWhen(Environment.ProcessorCount < 2, "On one core no model gets a lone-request session.");
        using var passes = new MetricCollector<double>(meterScope: null, EmbeddingMetrics.MeterName, "embedding.batch.duration");
        using var client = factory.CreateClient();
        for (var i = 0; i < 8; i++)
        {
            // One request at a time: each has the model to itself, where an fp32 model would take its lone session.
            await client.EmbedAsync(new { inputs = $"a lone request, number {i}", model = MiniLmInt8 });
        }

        Assert.Equal(0, Passes(passes, MiniLmInt8, "lone"));
        Assert.True(Passes(passes, MiniLmInt8, "shared") >= 8);
    }

    private static int Passes(MetricCollector<double> passes, string model, string session) =>
        passes.GetMeasurementSnapshot().Count(m => m.MatchesTags(
            new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("session", session)));

    [Fact]
    public async Task An_int8_model_answers_on_every_embedding_route()
    {
        using var client = factory.CreateClient();
        var tei = await client.EmbedAsync(new { inputs = "int8 on every route", model = MiniLmInt8 });
        using var openAi = await client.PostAsJsonAsync("/v1/embeddings", new { input = "int8 on every route", model = MiniLmInt8 }, TestContext.Current.CancellationToken);
        openAi.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await openAi.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var vector = body.RootElement.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(static e => e.GetSingle()).ToArray();

        Assert.Equal(MiniLmInt8, body.RootElement.GetProperty("model").GetString());
        Assert.Equal(384, vector.Length);
        Assert.True(VectorMath.Cosine(tei[0], vector) > 0.99999);
    }

    /// <summary>
    /// ONNX Runtime's DynamicQuantizeMatMul quantizes a whole batch's activations with one scale, so an int8 vector moves a
    /// little with the batch it ran in (README says by how much); fp32 vectors do not move (EmbedApiTests).
    /// </summary>
    [Fact]
    public async Task An_int8_vector_moves_with_its_batch_only_within_the_documented_bound()
    {
        var sentences = EvalData.StsPairs("test").Select(static p => p.First).Distinct(StringComparer.Ordinal).Take(300).ToArray();
        using var client = factory.CreateClient();
        var worst = 1.0;
        for (var i = 0; i < 40; i += 4)
        {
            // Four sentences alone, then the same four in a batch of 16 with longer neighbours.
            var batch = sentences.Skip(i).Take(4).Concat(sentences.Skip(100 + (3 * i)).Take(12)).ToArray();
            var together = await client.EmbedAsync(new { inputs = batch, model = MiniLmInt8 });
            for (var j = 0; j < 4; j++)
            {
                var alone = (await client.EmbedAsync(new { inputs = batch[j], model = MiniLmInt8 }))[0];
                worst = Math.Min(worst, VectorMath.Cosine(alone, together[j]));
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"int8, alone against in a batch of 16: worst cosine {worst:F6}");
        Assert.True(worst >= 0.98, $"worst cosine {worst:F6} < 0.98");
    }

    private async Task<(double Fp32, double Int8)> SpearmanAsync(string split)
    {
        var pairs = EvalData.StsPairs(split);
        var sentences = pairs.SelectMany(static p => new[] { p.First, p.Second }).Distinct(StringComparer.Ordinal).ToArray();
        var gold = pairs.Select(static p => p.Score).ToArray();
        using var client = factory.CreateClient();
        var result = new double[2];
        var i = 0;
        foreach (var model in new[] { MiniLm, MiniLmInt8 })
        {
            var vectors = await client.EmbedManyAsync(sentences, model);
            var byText = sentences.Select((s, k) => (s, k)).ToDictionary(static x => x.s, x => vectors[x.k], StringComparer.Ordinal);
            result[i++] = VectorMath.Spearman(pairs.Select(p => VectorMath.Cosine(byText[p.First], byText[p.Second])).ToArray(), gold);
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"STS-B {split}: Spearman fp32 {result[0]:F4}, int8 {result[1]:F4}");
        return (result[0], result[1]);
    }
}
