using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Hardening;

/// <summary>Random input never produces a 5xx: arbitrary strings embed, arbitrary bodies are refused with a 4xx.</summary>
public sealed class PropertyTests(EmbeddingServiceFactory factory)
{
    private static readonly string[] s_fragments =
    [
        "{", "}", "[", "]", ",", ":", "\"inputs\"", "\"input\"", "\"model\"", "\"all-MiniLM-L6-v2\"", "\"x\"", "null", "true", "1", "-1e999",
        "\"\\u0000\"", "\"\\ud800\"", "\"dimensions\"", "\"truncate\"", "\"long_input\"", "\"mean\"", "\"chunk_tokens\"", "\"overlap_tokens\"", "0", "\"encoding_format\"", "\"base64\"", " ", "\"😀\"", "1.5",
    ];

    [Fact]
    public void Arbitrary_strings_embed_with_finite_values()
    {
        using var client = factory.CreateClient();
        var property = Prop.ForAll(ArbMap.Default.ArbFor<NonNull<string>>(), text =>
        {
            var response = client.PostAsync("/embed", Body(new { inputs = text.Get }), TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            var body = response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            if ((int)response.StatusCode != 200)
            {
                return false;
            }

            var vectors = JsonSerializer.Deserialize<float[][]>(body)!;
            return vectors.Length == 1 && vectors[0].All(float.IsFinite);
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(60), property);
    }

    [Fact]
    public void Arbitrary_bodies_never_cause_a_5xx()
    {
        using var client = factory.CreateClient();
        var bodies = Gen.ListOf(Gen.Elements(s_fragments)).Select(static parts => string.Concat(parts)).ToArbitrary();
        var routes = Gen.Elements("/embed", "/v1/embeddings", "/tokenize", "/similarity", "/embed_chunks", "/embed_all");
        var property = Prop.ForAll(bodies, routes.ToArbitrary(), (body, route) =>
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            var response = client.PostAsync(route, content, TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            var status = (int)response.StatusCode;
            return status < 500 && response.Content.Headers.ContentType?.MediaType == "application/json";
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), property);
    }

    private static StringContent Body(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");
}
