using System.Net;
using System.Net.Http.Json;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Api;

public sealed class SmokeTests(EmbeddingServiceFactory factory)
{
    [Fact]
    public async Task Health_is_ready_once_models_are_loaded()
    {
        using var client = factory.CreateClient();
        var response = await client.GetAsync("/health", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Embed_returns_one_normalized_vector_per_input()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsJsonAsync("/embed", new { inputs = new[] { "hello world", "goodbye" } }, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        var vectors = await response.Content.ReadFromJsonAsync<float[][]>(TestContext.Current.CancellationToken);
        Assert.Equal(2, vectors!.Length);
        Assert.All(vectors, v => Assert.Equal(384, v.Length));
        Assert.All(vectors, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 3));
    }
}
