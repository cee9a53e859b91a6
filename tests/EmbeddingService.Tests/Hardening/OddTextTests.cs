using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Hardening;

/// <summary>Odd but valid text is embedded with finite numbers, on both models.</summary>
public sealed class OddTextTests(EmbeddingServiceFactory factory)
{
    public static TheoryData<string, string> Texts() => new()
    {
        { "whitespace only", "   \t\n  " },
        { "emoji", "😀🎉👩‍👩‍👧 🚀" },
        { "CJK", "你好，世界。日本語のテキスト。한국어" },
        { "right-to-left", "مرحبا بالعالم שלום עולם" },
        { "NUL and zero-width", "a\0b\u200bc\u200d\ufeffd" },
        { "lone surrogate", "x\ud800y" },
        { "control characters", "\u0001\u0002\u001f\u007f" },
        { "combining marks", "e\u0301\u0301\u0301 a\u0308" },
        { "very long", string.Concat(Enumerable.Repeat("long text ", 20_000)) },
        { "one huge word", new string('x', 200_000) },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public async Task Odd_text_gets_finite_unit_vectors(string name, string text)
    {
        using var client = factory.CreateClient();
        foreach (var model in new[] { "all-MiniLM-L6-v2", "snowflake-arctic-embed-xs" })
        {
            var vector = (await client.EmbedAsync(new { inputs = text, model }))[0];
            Assert.All(vector, static x => Assert.True(float.IsFinite(x)));
            Assert.Equal(1.0, VectorMath.Norm(vector), 3);
            _ = name;
        }
    }
}
