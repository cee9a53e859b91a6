using EmbeddingService.Client;
using EmbeddingService.ClientGenerator;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Client;

/// <summary>The NSwag client generated from openapi.json, against the real service.</summary>
public sealed class GeneratedClientTests(EmbeddingServiceFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private EmbeddingServiceApiClient NewClient() => new(factory.CreateClient());

    [Fact]
    public async Task Checked_in_client_is_generated_from_the_committed_openapi_json()
    {
        var root = RepositoryRoot();
        var expected = await ClientCodeGenerator.GenerateAsync(Path.Combine(root, ClientCodeGenerator.DocumentPath), Ct);
        var actual = (await File.ReadAllTextAsync(Path.Combine(root, ClientCodeGenerator.OutputPath), Ct)).ReplaceLineEndings("\n");
        Assert.True(expected == actual, $"{ClientCodeGenerator.OutputPath} is stale: run `dotnet run --project tools/ClientGenerator` and commit it.");
    }

    [Fact]
    public async Task Embed_matches_the_raw_route()
    {
        string[] texts = ["What is Deep Learning?", "The cat sat on the mat."];
        var vectors = await NewClient().EmbedAsync(new EmbedRequest { Inputs = texts }, Ct);
        var expected = await Vectors.FromEmbedAsync(factory.CreateClient(), texts);
        Assert.Equal(2, vectors.Count);
        Vectors.AssertSame(expected[0], [.. vectors[0]]);
        Vectors.AssertSame(expected[1], [.. vectors[1]]);
    }

    [Fact]
    public async Task Tei_options_round_trip_through_the_generated_types()
    {
        var client = NewClient();
        var vectors = await client.EmbedAsync(new EmbedRequest
        {
            Inputs = ["hello"],
            Dimensions = 32,
            TruncationDirection = EmbedRequestTruncationDirection.Left,
            Model = "snowflake-arctic-embed-xs",
            PromptName = "query",
        }, Ct);
        Assert.Equal(32, vectors[0].Count);

        var tokens = await client.TokenizeAsync(new TokenizeRequest { Inputs = ["What is Deep Learning?"] }, Ct);
        Assert.Equal("[CLS]", tokens[0][0].Text);
        Assert.True(tokens[0][0].Special);
        Assert.Null(tokens[0][0].Start);

        var scores = await client.SimilarityAsync(new SimilarityRequest
        {
            Inputs = new SimilarityInputs { SourceSentence = "What is Deep Learning?", Sentences = ["Deep learning is a kind of machine learning.", "The cat sat on the mat."] },
        }, Ct);
        Assert.Equal(2, scores.Count);
        Assert.True(scores[0] > scores[1]);
    }

    [Fact]
    public async Task Openai_routes_and_operations_routes_work()
    {
        var client = NewClient();
        var info = await client.InfoAsync(Ct);
        var models = await client.ListModelsAsync(Ct);
        Assert.Contains(models.Data, m => m.Id == info.ModelId);
        Assert.Equal(384, info.Models.Single(m => m.Id == info.ModelId).Dimensions);

        var response = await client.CreateEmbeddingsAsync(new OpenAiEmbeddingRequest { Input = ["a", "b", "c"], Model = info.ModelId }, Ct);
        Assert.Equal(3, response.Data.Count);
        Assert.Equal([0, 1, 2], response.Data.Select(d => d.Index));
        Assert.True(response.Usage.PromptTokens > 0);

        Assert.Equal("Healthy", (await client.HealthAsync(Ct)).Status);
        Assert.Equal("Healthy", (await client.LiveAsync(Ct)).Status);
    }

    [Fact]
    public async Task Rag_ingestion_example_from_the_docs()
    {
        // docs/clients.md, "RAG ingestion": a document in, chunks with their spans out, stored with their text.
        var document = string.Join(" ", EvalData.StsPairs("dev").Take(120).Select(static p => p.First));
        var store = new List<(int Start, int End, string Text, float[] Vector)>();
        var api = NewClient();
        var chunks = await api.EmbedChunksAsync(new EmbedChunksRequest
        {
            Inputs = [document],
            ChunkTokens = 200,
            OverlapTokens = 20,
        }, Ct);

        foreach (var chunk in chunks[0])
        {
            var text = document[chunk.Start..chunk.End];
            store.Add((chunk.Start, chunk.End, text, chunk.Embedding.ToArray()));
        }

        Assert.True(store.Count > 3);
        var expected = await api.EmbedAsync(new EmbedRequest { Inputs = store.Select(static c => c.Text).ToList() }, Ct);
        for (var i = 0; i < store.Count; i++)
        {
            Assert.True(VectorMath.Cosine(store[i].Vector, expected[i].ToArray()) > 0.999, $"chunk {i}");
        }

        var tokens = await api.EmbedAllAsync(new EmbedAllRequest { Inputs = ["hello world"] }, Ct);
        Assert.Equal(4, tokens[0].Count);
    }

    [Fact]
    public async Task Errors_arrive_as_typed_exceptions_with_the_surface_error_body()
    {
        var client = NewClient();
        var openAi = await Assert.ThrowsAsync<EmbeddingServiceApiException<OpenAiErrorResponse>>(() =>
            client.CreateEmbeddingsAsync(new OpenAiEmbeddingRequest { Input = ["a"], Model = "no-such-model" }, Ct));
        Assert.Equal(404, openAi.StatusCode);
        Assert.Equal("model_not_found", openAi.Result.Error.Code);

        var tei = await Assert.ThrowsAsync<EmbeddingServiceApiException<TeiError>>(() =>
            client.EmbedAsync(new EmbedRequest { Inputs = [] }, Ct));
        Assert.Equal(400, tei.StatusCode);
        Assert.Equal("Empty", tei.Result.ErrorType);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EmbeddingService.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Could not find the repository root (EmbeddingService.sln) above " + AppContext.BaseDirectory);
    }
}
