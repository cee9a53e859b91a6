using EmbeddingService.Inference;
using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Tests.Tokenization;

/// <summary>Tokenizer parity with Hugging Face's BertTokenizer (uncased), on the real all-MiniLM-L6-v2 vocabulary.</summary>
public sealed class ModelTokenizerTests
{
    private static readonly ModelTokenizer s_tokenizer = ModelTokenizer.Create(
        ModelFolderReader.Read("all-MiniLM-L6-v2", Path.Combine(AppContext.BaseDirectory, "models", "all-MiniLM-L6-v2")));

    [Theory]
    // From ../shared/eval/expected-scores.md (HF BertWordPieceTokenizer).
    [InlineData("Hello, world!", new[] { 101, 7592, 1010, 2088, 999, 102 })]
    [InlineData("", new[] { 101, 102 })]
    [InlineData("   ", new[] { 101, 102 })]
    [InlineData("\t\n", new[] { 101, 102 })]
    [InlineData("12345", new[] { 101, 13138, 19961, 102 })]
    // Accents are stripped and text lower-cased, as HF does for uncased models.
    [InlineData("Café", new[] { 101, 7668, 102 })]
    [InlineData("naïve ÅNGSTRÖM", new[] { 101, 15743, 17076, 15687, 102 })]
    // Unknown symbols become [UNK] rather than vanishing; zero-width and NUL characters are dropped inside a word.
    [InlineData("a 😀 b", new[] { 101, 1037, 100, 1038, 102 })]
    [InlineData("x\u200by\0z", new[] { 101, 1060, 2100, 2480, 102 })]
    public void Encodes_like_hugging_face(string text, int[] expected)
    {
        Assert.Equal(expected, s_tokenizer.Encode(text, truncate: true, TruncationDirection.Right).Ids);
    }

    [Fact]
    public void Truncation_keeps_cls_and_the_final_sep_on_either_side()
    {
        var text = string.Join(' ', Enumerable.Range(0, 400).Select(static i => $"w{i}"));
        var right = s_tokenizer.Encode(text, truncate: true, TruncationDirection.Right);
        var left = s_tokenizer.Encode(text, truncate: true, TruncationDirection.Left);
        var full = s_tokenizer.EncodeIds(right.Ids[1..^1], truncate: true, TruncationDirection.Right);

        Assert.True(right.Truncated);
        Assert.Equal(256, right.Length);
        Assert.Equal(256, left.Length);
        Assert.Equal(101, right.Ids[0]);
        Assert.Equal(102, right.Ids[^1]);
        Assert.Equal(101, left.Ids[0]);
        Assert.Equal(102, left.Ids[^1]);
        Assert.NotEqual(right.Ids[1], left.Ids[1]);
        Assert.False(full.Truncated);

        // The left cut keeps the end of the text and the right cut its beginning.
        var lastWord = s_tokenizer.Encode("w399", truncate: false, TruncationDirection.Right).Ids[1..^1];
        var firstWord = s_tokenizer.Encode("w0", truncate: false, TruncationDirection.Right).Ids[1..^1];
        Assert.Equal(lastWord, left.Ids[^(lastWord.Length + 1)..^1]);
        Assert.Equal(firstWord, right.Ids[1..(firstWord.Length + 1)]);
    }

    [Fact]
    public void Too_long_without_truncation_is_a_validation_error()
    {
        var text = string.Join(' ', Enumerable.Repeat("word", 300));
        var error = Assert.Throws<EmbeddingException>(() => s_tokenizer.Encode(text, truncate: false, TruncationDirection.Right));
        Assert.Equal(EmbeddingErrorKind.Validation, error.Kind);
        Assert.Contains("302", error.Message);
    }

    [Fact]
    public void Ids_outside_the_vocabulary_are_rejected()
    {
        var error = Assert.Throws<EmbeddingException>(() => s_tokenizer.EncodeIds([7592, 30522], truncate: true, TruncationDirection.Right));
        Assert.Equal(EmbeddingErrorKind.Tokenizer, error.Kind);
    }

    [Fact]
    public void Token_offsets_point_into_the_original_text()
    {
        const string text = "Héllo, WORLD 你";
        var tokens = s_tokenizer.Tokenize(text, addSpecialTokens: true);
        Assert.True(tokens[0].Special);
        Assert.True(tokens[^1].Special);
        var hello = tokens[1];
        Assert.Equal("hello", hello.Text);
        Assert.Equal("Héllo", text[hello.Start!.Value..hello.Stop!.Value]);
        var world = tokens.Single(static t => t.Text == "world");
        Assert.Equal("WORLD", text[world.Start!.Value..world.Stop!.Value]);
        var cjk = tokens[^2];
        Assert.Equal("你", text[cjk.Start!.Value..cjk.Stop!.Value]);
    }
}
