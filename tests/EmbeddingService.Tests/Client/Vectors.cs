using System.Net.Http.Json;
using System.Numerics.Tensors;

namespace EmbeddingService.Tests.Client;

/// <summary>The reference every client is compared with: <c>POST /embed</c>, straight over HTTP.</summary>
internal static class Vectors
{
    public static async Task<float[][]> FromEmbedAsync(HttpClient http, IReadOnlyList<string> texts, string? model = null, int? dimensions = null)
    {
        var response = await http.PostAsJsonAsync("/embed", new { inputs = texts, model, dimensions }, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<float[][]>(TestContext.Current.CancellationToken))!;
    }

    public static void AssertSame(float[] expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var cosine = TensorPrimitives.CosineSimilarity(expected, actual);
        Assert.True(cosine > 0.9999f, $"cosine {cosine} <= 0.9999");
    }
}
