using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Api;

/// <summary>
/// Whole documents end to end on both built-in models: <c>/embed_chunks</c> spans and vectors, the long-input policy
/// on <c>/embed</c>, <c>/similarity</c> and <c>/v1/embeddings</c>, and <c>/embed_all</c>'s token vectors.
/// </summary>
public sealed class WholeDocumentTests(EmbeddingServiceFactory factory)
{
    private const string MiniLm = "all-MiniLM-L6-v2";
    private const string Arctic = "snowflake-arctic-embed-xs";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>About 1,000 tokens of English: STS sentences, some joined by line breaks.</summary>
    private static readonly string s_english = string.Join(" ", EvalData.StsPairs("test").Take(150).Select((p, i) => i % 7 == 6 ? p.First + "\n" : p.First));

    private static readonly string s_chinese = string.Concat(Enumerable.Repeat("这是一个关于机器学习的测试。我们在这里写中文，看看分块是否正确！还有问题吗？", 12));

    private static readonly string s_emoji = string.Concat(Enumerable.Range(0, 80).Select(i => $"item {i} 😀 costs {i}€ 🙂 "));

    /// <summary>No sentence end at all: chunks end at word boundaries.</summary>
    private static readonly string s_runOn = string.Join(" ", Enumerable.Range(0, 400).Select(i => i % 3 == 0 ? "unaffordable" : "housing"));

    public static TheoryData<string, string> Documents => new()
    {
        { MiniLm, "english" }, { MiniLm, "chinese" }, { MiniLm, "emoji" }, { MiniLm, "run-on" },
        { Arctic, "english" }, { Arctic, "chinese" }, { Arctic, "emoji" }, { Arctic, "run-on" },
    };

    private static string Text(string name) => name switch
    {
        "english" => s_english,
        "chinese" => s_chinese,
        "emoji" => s_emoji,
        _ => s_runOn,
    };

    [Theory]
    [MemberData(nameof(Documents))]
    public async Task Chunk_spans_slice_back_and_each_chunk_vector_is_embed_of_its_text(string model, string name)
    {
        using var client = factory.CreateClient();
        var text = Text(name);
        var chunks = (await EmbedChunksAsync(client, new { inputs = text, model, chunk_tokens = 100, overlap_tokens = 10 }))[0];
        Assert.True(chunks.Count > 2, $"{chunks.Count} chunks");

        var slices = chunks.Select(c => text[c.Start..c.End]).ToArray();
        var expected = await client.EmbedAsync(new { inputs = slices, model });
        var tokenized = await TokenizeAsync(client, slices, model);
        for (var i = 0; i < chunks.Count; i++)
        {
            Assert.InRange(chunks[i].Tokens, 1, 100);
            Assert.Equal(tokenized[i], chunks[i].Tokens);
            Assert.True(VectorMath.Cosine(chunks[i].Embedding, expected[i]) > 0.999, $"chunk {i}: '{slices[i]}'");
            Assert.Equal(1.0, VectorMath.Norm(chunks[i].Embedding), 4);
            if (i > 0)
            {
                Assert.True(chunks[i].Start > chunks[i - 1].Start && chunks[i].Start <= chunks[i - 1].End + 1);
            }
        }

        // Every non-space character lies in a chunk.
        var covered = new bool[text.Length];
        foreach (var chunk in chunks)
        {
            Array.Fill(covered, true, chunk.Start, chunk.End - chunk.Start);
        }

        Assert.All(Enumerable.Range(0, text.Length), c => Assert.True(covered[c] || char.IsWhiteSpace(text[c]), $"character {c}"));
    }

    [Fact]
    public async Task Default_chunks_fill_the_model_and_a_text_that_fits_is_one_chunk_equal_to_embed()
    {
        using var client = factory.CreateClient();
        var result = await EmbedChunksAsync(client, new { inputs = new[] { s_english, "A man is playing a guitar.", "", "  \n " } });
        Assert.All(result[0], c => Assert.InRange(c.Tokens, 1, 254));
        Assert.Contains(result[0], c => c.Tokens > 200);

        var single = Assert.Single(result[1]);
        Assert.Equal((0, 26), (single.Start, single.End));
        var embedded = (await client.EmbedAsync(new { inputs = "A man is playing a guitar." }))[0];
        Assert.True(VectorMath.Cosine(single.Embedding, embedded) > 0.99999);
        Assert.Empty(result[2]);
        Assert.Empty(result[3]);
    }

    [Fact]
    public async Task A_prompt_is_prepended_to_every_chunk()
    {
        using var client = factory.CreateClient();
        var chunks = (await EmbedChunksAsync(client, new { inputs = s_english, model = Arctic, prompt_name = "query", chunk_tokens = 120 }))[0];
        var slices = chunks.Select(c => s_english[c.Start..c.End]).ToArray();
        var expected = await client.EmbedAsync(new { inputs = slices, model = Arctic, prompt_name = "query" });
        Assert.All(Enumerable.Range(0, chunks.Count), i => Assert.True(VectorMath.Cosine(chunks[i].Embedding, expected[i]) > 0.999, $"chunk {i}"));

        // The default and the largest chunk leave room for the prompt's tokens.
        using var tooLarge = await client.PostAsJsonAsync("/embed_chunks", new { inputs = "x", model = Arctic, prompt_name = "query", chunk_tokens = 510 }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLarge.StatusCode);
    }

    [Theory]
    [InlineData(MiniLm, true)]
    [InlineData(MiniLm, false)]
    [InlineData(Arctic, true)]
    public async Task Mean_is_the_token_weighted_mean_of_the_chunk_vectors(string model, bool normalize)
    {
        using var client = factory.CreateClient();
        var chunks = (await EmbedChunksAsync(client, new { inputs = s_english, model, normalize }))[0];
        Assert.True(chunks.Count > 1);
        var expected = new double[chunks[0].Embedding.Length];
        foreach (var chunk in chunks)
        {
            for (var d = 0; d < expected.Length; d++)
            {
                expected[d] += chunk.Embedding[d] * (double)chunk.Tokens / chunks.Sum(static c => c.Tokens);
            }
        }

        if (normalize)
        {
            var norm = Math.Sqrt(expected.Sum(static x => x * x));
            expected = expected.Select(x => x / norm).ToArray();
        }

        using var response = await client.PostAsJsonAsync("/embed", new { inputs = new[] { "short text", s_english }, model, normalize, long_input = "mean" }, Ct);
        response.EnsureSuccessStatusCode();
        var vectors = (await response.Content.ReadFromJsonAsync<float[][]>(Ct))!;
        Assert.All(expected.Zip(vectors[1]), pair => Assert.Equal(pair.First, pair.Second, 5));
        Assert.Equal("0", Header(response, "x-truncated-inputs"));
        // Usage counts every chunk's tokens, special tokens included.
        var shortTokens = (await TokenizeAsync(client, ["short text"], model))[0] + 2;
        Assert.Equal(shortTokens + chunks.Sum(static c => c.Tokens + 2), int.Parse(Header(response, "x-compute-tokens")));

        // An input that fits is embedded as it is.
        var alone = (await client.EmbedAsync(new { inputs = "short text", model, normalize }))[0];
        Assert.True(VectorMath.Cosine(vectors[0], alone) > 0.99999);
    }

    [Fact]
    public async Task Mean_on_the_openai_route_and_on_similarity()
    {
        using var client = factory.CreateClient();
        var mean = (await client.EmbedAsync(new { inputs = s_english, long_input = "mean" }))[0];
        using var openAi = await client.PostAsJsonAsync("/v1/embeddings", new { input = s_english, model = MiniLm, long_input = "mean" }, Ct);
        openAi.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await openAi.Content.ReadAsStringAsync(Ct));
        var vector = json.RootElement.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(static e => e.GetSingle()).ToArray();
        Assert.True(VectorMath.Cosine(mean, vector) > 0.99999);
        Assert.True(json.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > 256);

        var truncated = (await client.EmbedAsync(new { inputs = s_english }))[0];
        using var similarity = await client.PostAsJsonAsync("/similarity",
            new { inputs = new { source_sentence = s_english, sentences = new[] { s_english } }, long_input = "mean" }, Ct);
        similarity.EnsureSuccessStatusCode();
        Assert.Equal(1.0, (await similarity.Content.ReadFromJsonAsync<float[]>(Ct))![0], 4);
        Assert.True(VectorMath.Cosine(mean, truncated) < 0.999, "mean and truncation differ on a long text");
    }

    [Fact]
    public async Task Truncation_is_counted_in_a_header_on_every_embedding_route()
    {
        using var client = factory.CreateClient();
        using var embed = await client.PostAsJsonAsync("/embed", new { inputs = new[] { s_english, "short", s_chinese } }, Ct);
        Assert.Equal("2", Header(embed, "x-truncated-inputs"));
        // Two inputs cut to 256 tokens and "short" with its special tokens.
        Assert.Equal("515", Header(embed, "x-compute-tokens"));
        using var openAi = await client.PostAsJsonAsync("/v1/embeddings", new { input = new[] { s_english }, model = MiniLm }, Ct);
        Assert.Equal("1", Header(openAi, "x-truncated-inputs"));
        using var chunks = await client.PostAsJsonAsync("/embed_chunks", new { inputs = s_english }, Ct);
        Assert.Equal("0", Header(chunks, "x-truncated-inputs"));
        using var all = await client.PostAsJsonAsync("/embed_all", new { inputs = s_english }, Ct);
        Assert.Equal("1", Header(all, "x-truncated-inputs"));
    }

    [Fact]
    public async Task Error_names_the_input_its_tokens_and_the_limit()
    {
        using var client = factory.CreateClient();
        var tokens = (await TokenizeAsync(client, [s_english], MiniLm))[0] + 2;
        foreach (var body in new object[] { new { inputs = new[] { "fine", s_english }, long_input = "error" }, new { inputs = new[] { "fine", s_english }, truncate = false } })
        {
            using var tei = await client.PostAsJsonAsync("/embed", body, Ct);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, tei.StatusCode);
            var message = JsonDocument.Parse(await tei.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("error").GetString()!;
            Assert.Contains("Input 1 ", message);
            Assert.Contains($"{tokens} tokens", message);
            Assert.Contains("256", message);
        }

        using var openAi = await client.PostAsJsonAsync("/v1/embeddings", new { input = new[] { s_english }, model = MiniLm, long_input = "error" }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, openAi.StatusCode);
        Assert.Contains("Input 0 ", await openAi.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData(MiniLm)]
    [InlineData(Arctic)]
    public async Task Embed_all_gives_a_vector_per_token_that_pools_to_embed(string model)
    {
        using var client = factory.CreateClient();
        var texts = new[] { "A man is playing a guitar.", "Deep learning is a subset of machine learning, they say." };
        using var response = await client.PostAsJsonAsync("/embed_all", new { inputs = texts, model }, Ct);
        response.EnsureSuccessStatusCode();
        var tokens = (await response.Content.ReadFromJsonAsync<float[][][]>(Ct))!;
        var pooled = await client.EmbedAsync(new { inputs = texts, model, normalize = false });
        var counts = await TokenizeAsync(client, texts, model);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(counts[i] + 2, tokens[i].Length);
            // all-MiniLM-L6-v2 pools by the mean of its token vectors, snowflake-arctic-embed-xs takes [CLS]'s.
            var expected = model == MiniLm
                ? Enumerable.Range(0, pooled[i].Length).Select(d => tokens[i].Average(t => (double)t[d])).ToArray()
                : tokens[i][0].Select(static x => (double)x).ToArray();
            Assert.All(expected.Zip(pooled[i]), pair => Assert.Equal(pair.First, pair.Second, 5));
        }
    }

    [Fact]
    public async Task Bounds_on_chunks_and_token_vectors_answer_422_naming_the_limit()
    {
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Limits:MaxChunksPerRequest"] = "3",
            ["Limits:MaxEmbedAllTokens"] = "20",
            ["Limits:LongInput"] = "mean",
        });
        using var client = service.CreateClient();

        using var chunks = await client.PostAsJsonAsync("/embed_chunks", new { inputs = s_english }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, chunks.StatusCode);
        Assert.Contains("Limits:MaxChunksPerRequest", await chunks.Content.ReadAsStringAsync(Ct));
        using var mean = await client.PostAsJsonAsync("/embed", new { inputs = s_english }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, mean.StatusCode);
        using var openAi = await client.PostAsJsonAsync("/v1/embeddings", new { input = s_english, model = MiniLm }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, openAi.StatusCode);
        Assert.Contains("Limits:MaxChunksPerRequest", await openAi.Content.ReadAsStringAsync(Ct));

        using var all = await client.PostAsJsonAsync("/embed_all", new { inputs = new[] { "one two three four five six seven eight nine ten", "eleven twelve thirteen fourteen fifteen sixteen seventeen" } }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, all.StatusCode);
        Assert.Contains("Limits:MaxEmbedAllTokens", await all.Content.ReadAsStringAsync(Ct));

        // The server's default policy is mean here; a request may still truncate.
        Assert.Single(await client.EmbedAsync(new { inputs = s_english, long_input = "truncate" }));
        using var info = JsonDocument.Parse(await client.GetStringAsync("/info", Ct));
        var limits = info.RootElement.GetProperty("limits");
        Assert.Equal("mean", limits.GetProperty("long_input").GetString());
        Assert.Equal(3, limits.GetProperty("max_chunks_per_request").GetInt32());
        Assert.Equal(20, limits.GetProperty("max_embed_all_tokens").GetInt32());
        Assert.False(info.RootElement.GetProperty("auto_truncate").GetBoolean());
    }

    [Fact]
    public async Task The_older_auto_truncate_false_still_means_error()
    {
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Limits:AutoTruncate"] = "false",
            ["OpenAi:TokenIdInputs"] = "Model",
        });
        using var client = service.CreateClient();
        using var response = await client.PostAsJsonAsync("/embed", new { inputs = s_english }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Single(await client.EmbedAsync(new { inputs = s_english, truncate = true }));

        // Ids of the model's own vocabulary follow the same policy; under mean they are chunked at word starts (there is
        // no text, so no sentence ends), close to the text's own mean.
        var ids = (await client.TokenIdsAsync([s_english], addSpecialTokens: false))[0];
        using var refused = await client.PostAsJsonAsync("/v1/embeddings", new { input = ids, model = MiniLm }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains($"Input 0 has {ids.Length + 2} tokens", await refused.Content.ReadAsStringAsync(Ct));
        using var mean = await client.PostAsJsonAsync("/v1/embeddings", new { input = ids, model = MiniLm, long_input = "mean" }, Ct);
        mean.EnsureSuccessStatusCode();
        var vector = JsonDocument.Parse(await mean.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("data")[0].GetProperty("embedding")
            .EnumerateArray().Select(static e => e.GetSingle()).ToArray();
        var textMean = (await client.EmbedAsync(new { inputs = s_english, long_input = "mean" }))[0];
        Assert.True(VectorMath.Cosine(vector, textMean) > 0.98);
    }

    [Fact]
    public void Setting_both_long_input_and_auto_truncate_is_refused_at_start()
    {
        var consistency = new EmbeddingService.Hosting.LimitsOptionsConsistency();
        var both = new EmbeddingService.Hosting.LimitsOptions { LongInput = EmbeddingService.Inference.LongInputPolicy.Mean, AutoTruncate = false };
        Assert.Contains("Limits:LongInput", consistency.Validate(null, both).FailureMessage);
        Assert.True(consistency.Validate(null, new EmbeddingService.Hosting.LimitsOptions { AutoTruncate = false }).Succeeded);
        Assert.Equal(EmbeddingService.Inference.LongInputPolicy.Truncate, new EmbeddingService.Hosting.LimitsOptions().DefaultLongInput);
    }

    [Theory]
    [InlineData("/embed_chunks", """{"inputs": "x", "chunk_tokens": 0}""", "chunk_tokens")]
    [InlineData("/embed_chunks", """{"inputs": "x", "chunk_tokens": -5}""", "chunk_tokens")]
    [InlineData("/embed_chunks", """{"inputs": "x", "chunk_tokens": 255}""", "chunk_tokens")]
    [InlineData("/embed_chunks", """{"inputs": "x", "chunk_tokens": 10, "overlap_tokens": 10}""", "overlap_tokens")]
    [InlineData("/embed_chunks", """{"inputs": "x", "overlap_tokens": -1}""", "overlap_tokens")]
    [InlineData("/embed_chunks", """{"inputs": "x", "chunk_tokens": "ten"}""", "chunk_tokens")]
    [InlineData("/embed_chunks", """{"inputs": 42}""", "inputs")]
    [InlineData("/embed_chunks", """{"inputs": []}""", "inputs")]
    [InlineData("/embed", """{"inputs": "x", "long_input": "average"}""", "long_input")]
    [InlineData("/embed", """{"inputs": "x", "long_input": 3}""", "long_input")]
    [InlineData("/embed", """{"inputs": "x", "long_input": "mean", "truncate": false}""", "long_input")]
    [InlineData("/similarity", """{"inputs": {"source_sentence": "x", "sentences": ["y"]}, "long_input": "chop"}""", "long_input")]
    [InlineData("/v1/embeddings", """{"input": "x", "model": "all-MiniLM-L6-v2", "long_input": "chop"}""", "long_input")]
    [InlineData("/embed_all", """{"inputs": {"a": 1}}""", "inputs")]
    [InlineData("/embed_all", """{"inputs": "x", "truncation_direction": "middle"}""", "truncation_direction")]
    public async Task Bad_document_requests_get_a_clear_4xx(string route, string body, string field)
    {
        using var client = factory.CreateClient();
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(route, content, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.InRange((int)response.StatusCode, 400, 499);
        Assert.Contains(field, text);
    }

    private static string Header(HttpResponseMessage response, string name) => string.Join(",", response.Headers.GetValues(name));

    private static async Task<List<List<Chunk>>> EmbedChunksAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/embed_chunks", body, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonSerializer.Deserialize<List<List<Chunk>>>(text, JsonSerializerOptions.Web)!;
    }

    /// <summary>Content tokens of each text (no special tokens).</summary>
    private static async Task<int[]> TokenizeAsync(HttpClient client, string[] texts, string model) =>
        (await client.TokenIdsAsync(texts, model, addSpecialTokens: false)).Select(static ids => ids.Length).ToArray();

    private sealed record Chunk(int Start, int End, int Tokens, float[] Embedding);
}
