using FsCheck;
using FsCheck.Fluent;
using EmbeddingService.Inference.Chunking;
using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Tests.Chunking;

/// <summary>The chunking rules on the real all-MiniLM-L6-v2 tokenizer, without the model: every rule of
/// <see cref="ChunkPlanner"/> and <see cref="DocumentTokens.Span"/>, on fixed texts and on random ones.</summary>
public sealed class ChunkPlannerTests
{
    private static readonly ModelTokenizer s_tokenizer = ModelTokenizer.Create(
        ModelFolderReader.Read("all-MiniLM-L6-v2", Path.Combine(AppContext.BaseDirectory, "models", "all-MiniLM-L6-v2")));

    /// <summary>Words with WordPiece continuations (unaffordable → un ##af ##ford ##able), sentence ends of every kind,
    /// Chinese, emoji, line breaks, control and zero-width characters.</summary>
    private static readonly string[] s_pieces =
    [
        "The", "unaffordable", "tokenization", "quick", "fox", "jumps", "over", "embeddings", "a", "3.14", "e-mail",
        ".", "!", "?", "...", "。", "！", "？", "\n", "\r\n", "  ", " ", " ", " ", " ", " ", "这是一个测试", "中文", "😀", "🙂x",
        "\u200b", "\u0001", "Café", "naïve", "\t", "(see", "it)", "\"quoted.\"",
    ];

    private static Arbitrary<string> Texts => Gen.ListOf(Gen.Elements(s_pieces)).Select(static pieces => string.Concat(pieces)).ToArbitrary();

    private static Arbitrary<(int Budget, int Overlap)> Settings =>
        Gen.Choose(1, 40).SelectMany(static budget => Gen.Choose(0, budget - 1).Select(overlap => (budget, overlap))).ToArbitrary();

    [Fact]
    public void A_text_that_fits_is_one_chunk_from_its_first_to_its_last_non_space_character()
    {
        var text = "  The quick brown fox. It jumps!\n";
        var document = s_tokenizer.TokenizeDocument(text);
        var chunk = Assert.Single(ChunkPlanner.Plan(document, budget: 254, overlap: 0));
        Assert.Equal(new ChunkRange(0, document.Count), chunk);
        var (start, end) = document.Span(chunk.From, chunk.To);
        Assert.Equal("The quick brown fox. It jumps!", text[start..end]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\t ")]
    public void An_empty_or_blank_text_has_no_chunks(string text) =>
        Assert.Empty(ChunkPlanner.Plan(s_tokenizer.TokenizeDocument(text), budget: 10, overlap: 0));

    [Fact]
    public void A_chunk_ends_at_the_last_sentence_end_within_the_budget()
    {
        // 4 + 1 tokens, then 3 + 1, then 5: with a budget of 12 the first chunk takes both sentences (9 tokens), not 12.
        var text = "One two three four. Five six seven! Eight nine ten eleven twelve";
        var document = s_tokenizer.TokenizeDocument(text);
        var chunks = ChunkPlanner.Plan(document, budget: 12, overlap: 0);
        Assert.Equal(["One two three four. Five six seven!", "Eight nine ten eleven twelve"], chunks.Select(c => Slice(document, c)));
    }

    [Fact]
    public void Line_breaks_and_cjk_sentence_ends_are_sentence_ends()
    {
        var document = s_tokenizer.TokenizeDocument("a heading without a stop\nthen a paragraph that runs on and on");
        Assert.Equal("a heading without a stop", Slice(document, ChunkPlanner.Plan(document, budget: 8, overlap: 0)[0]));

        var chinese = s_tokenizer.TokenizeDocument("这是一个测试。我们在这里写中文！还有表情好吗？");
        Assert.Equal(["这是一个测试。", "我们在这里写中文！", "还有表情好吗？"], ChunkPlanner.Plan(chinese, budget: 10, overlap: 0).Select(c => Slice(chinese, c)));
    }

    [Fact]
    public void Without_sentence_ends_a_chunk_ends_at_a_word_start()
    {
        // "unaffordable" is un ##af ##ford ##able: a budget of 6 cannot end inside it.
        var document = s_tokenizer.TokenizeDocument("the unaffordable house and the unaffordable car");
        var chunks = ChunkPlanner.Plan(document, budget: 6, overlap: 0);
        Assert.Equal(["the unaffordable house", "and the unaffordable", "car"], chunks.Select(c => Slice(document, c)));
    }

    [Fact]
    public void Only_a_word_longer_than_the_budget_is_cut_inside()
    {
        var document = s_tokenizer.TokenizeDocument("unaffordable");
        Assert.Equal([new ChunkRange(0, 3), new ChunkRange(3, 4)], ChunkPlanner.Plan(document, budget: 3, overlap: 0));
    }

    [Fact]
    public void Overlapping_chunks_start_at_a_word_within_the_overlap()
    {
        var document = s_tokenizer.TokenizeDocument("one two three four five six seven eight nine ten");
        var chunks = ChunkPlanner.Plan(document, budget: 4, overlap: 2);
        Assert.Equal(["one two three four", "three four five six", "five six seven eight", "seven eight nine ten"], chunks.Select(c => Slice(document, c)));
    }

    [Fact]
    public void Every_rule_holds_on_random_texts()
    {
        var property = Prop.ForAll(Texts, Settings, (text, settings) =>
        {
            var document = s_tokenizer.TokenizeDocument(text);
            var chunks = ChunkPlanner.Plan(document, settings.Budget, settings.Overlap);
            CheckRules(text, document, chunks, settings.Budget, settings.Overlap);
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }

    [Fact]
    public void Each_chunk_text_tokenizes_to_the_chunk_tokens()
    {
        var property = Prop.ForAll(Texts, Settings, (text, settings) =>
        {
            var document = s_tokenizer.TokenizeDocument(text);
            // Chunks cut inside a word longer than the budget are the exception: their text starts or ends mid-word.
            foreach (var chunk in ChunkPlanner.Plan(document, settings.Budget, settings.Overlap).Where(c => document.IsWordStart(c.From) && document.IsWordStart(c.To)))
            {
                var (start, end) = document.Span(chunk.From, chunk.To);
                var again = s_tokenizer.TokenizeDocument(text[start..end]).Ids;
                Assert.True(document.Ids[chunk.From..chunk.To].SequenceEqual(again),
                    $"'{text[start..end]}' ({start}-{end}) of '{text}': [{string.Join(' ', document.Ids[chunk.From..chunk.To])}] against [{string.Join(' ', again)}]");
            }
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }

    private static void CheckRules(string text, DocumentTokens document, IReadOnlyList<ChunkRange> chunks, int budget, int overlap)
    {
        if (document.Count == 0)
        {
            Assert.Empty(chunks);
            return;
        }

        if (document.Count <= budget)
        {
            Assert.Equal([new ChunkRange(0, document.Count)], chunks);
        }

        Assert.Equal(0, chunks[0].From);
        Assert.Equal(document.Count, chunks[^1].To);
        var covered = new bool[text.Length];
        for (var i = 0; i < chunks.Count; i++)
        {
            var chunk = chunks[i];
            Assert.InRange(chunk.Count, 1, budget);
            // A chunk starts inside a word only right after a chunk cut inside that word (a word longer than the budget).
            Assert.True(document.IsWordStart(chunk.From) || (i > 0 && chunks[i - 1].To == chunk.From && chunks[i - 1].Count == budget),
                $"chunk {i} starts inside a word");
            if (i > 0)
            {
                Assert.True(chunk.From > chunks[i - 1].From);
                Assert.InRange(chunks[i - 1].To - chunk.From, 0, overlap);
            }

            var (start, end) = document.Span(chunk.From, chunk.To);
            Assert.True(start < end && !char.IsWhiteSpace(text[start]) && !char.IsWhiteSpace(text[end - 1]), $"chunk {i} span {start}-{end}");
            Array.Fill(covered, true, start, end - start);
        }

        for (var c = 0; c < text.Length; c++)
        {
            Assert.True(covered[c] || char.IsWhiteSpace(text[c]), $"character {c} ({(int)text[c]:X4}) of '{text}' lies in no chunk");
        }
    }

    private static string Slice(DocumentTokens document, ChunkRange chunk)
    {
        var (start, end) = document.Span(chunk.From, chunk.To);
        return document.Text[start..end];
    }
}
