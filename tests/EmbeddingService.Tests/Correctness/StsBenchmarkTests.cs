using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Correctness;

/// <summary>
/// STS Benchmark through the service, as MTEB computes it: embed every sentence (normalized), cosine of each pair,
/// Spearman correlation with the gold scores. Published all-MiniLM-L6-v2 values: dev 0.8671631, test 0.8203247 (±0.002).
/// </summary>
public sealed class StsBenchmarkTests(EmbeddingServiceFactory factory)
{
    [Theory]
    [InlineData("dev", 0.8671631)]
    [InlineData("test", 0.8203247)]
    public async Task MiniLm_spearman_matches_the_published_score(string split, double published)
    {
        var pairs = EvalData.StsPairs(split);
        var sentences = pairs.SelectMany(static p => new[] { p.First, p.Second }).Distinct(StringComparer.Ordinal).ToArray();
        using var client = factory.CreateClient();
        var vectors = await client.EmbedManyAsync(sentences, "all-MiniLM-L6-v2");
        var byText = sentences.Select((s, i) => (s, i)).ToDictionary(static x => x.s, x => vectors[x.i], StringComparer.Ordinal);

        var cosines = pairs.Select(p => VectorMath.Cosine(byText[p.First], byText[p.Second])).ToArray();
        var spearman = VectorMath.Spearman(cosines, pairs.Select(static p => p.Score).ToArray());

        TestContext.Current.TestOutputHelper?.WriteLine($"STS-B {split}: Spearman {spearman:F7} (published {published})");
        Assert.InRange(spearman, published - 0.002, published + 0.002);
    }
}
