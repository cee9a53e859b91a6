using EmbeddingService.Inference.Batching;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Tests.Batching;

/// <summary>The scheduler as pure logic: how a batch is cut, which lane goes next, and what the queue counts.</summary>
public sealed class BatchSchedulerTests
{
    private static int s_nextId;

    /// <summary>A job whose inputs have the given token counts; each input's second id tells it apart.</summary>
    internal static EmbeddingJob Job(BatchingOptions options, params int[] lengths)
    {
        var inputs = lengths.Select(static length => Input(Interlocked.Increment(ref s_nextId), length)).ToArray();
        return new EmbeddingJob(inputs, dimensions: 2, RequestLanes.Of(inputs, options));
    }

    internal static TokenizedInput Input(int id, int length) =>
        new([101, id, .. Enumerable.Repeat(7, Math.Max(0, length - 3)), 102], false);

    private static List<int> Lengths(Batch batch) => batch.Items.Select(static i => i.Length).ToList();

    [Fact]
    public void Batches_respect_the_size_and_padded_token_limits_and_an_input_over_the_budget_runs_alone()
    {
        var options = new BatchingOptions { MaxBatchSize = 4, MaxBatchTokens = 100 };
        var scheduler = new BatchScheduler(options, static _ => { });
        scheduler.Add(Job(options, 10, 50, 20, 5, 30, 10, 40, 8, 12, 25, 60, 7, 150));

        var batches = new List<Batch>();
        while (scheduler.TakeNext() is { } batch)
        {
            batches.Add(batch);
        }

        Assert.Equal(13, batches.Sum(static b => b.Items.Count));
        Assert.All(batches, static b => Assert.InRange(b.Items.Count, 1, 4));
        Assert.All(batches, static b => Assert.True(b.PaddedTokens <= 100 || b.Items.Count == 1, $"{b.PaddedTokens} padded tokens"));
        Assert.Contains(batches, static b => b.Items.Count == 1 && b.MaxLength == 150);
        Assert.True(scheduler.IsEmpty);
        Assert.Equal(0, scheduler.Tokens);
    }

    [Fact]
    public void Every_batch_holds_the_oldest_waiting_input_with_the_nearest_lengths_beside_it()
    {
        var options = new BatchingOptions { MaxBatchSize = 3, MaxBatchTokens = 10_000 };
        var scheduler = new BatchScheduler(options, static _ => { });
        scheduler.Add(Job(options, 30, 5, 31, 6, 29, 90, 7, 60, 30));

        // The oldest (30) with the lengths nearest it (the other 30, then 29: less padding than 31); then 5 with 6 and 7; and so on.
        Assert.Equal([29, 30, 30], Lengths(scheduler.TakeNext()!));
        Assert.Equal([5, 6, 7], Lengths(scheduler.TakeNext()!));
        Assert.Equal([31, 60, 90], Lengths(scheduler.TakeNext()!));
        Assert.Null(scheduler.TakeNext());
    }

    [Fact]
    public void Newer_inputs_ride_along_but_never_take_the_oldest_inputs_place()
    {
        var options = new BatchingOptions { MaxBatchSize = 2, MaxBatchTokens = 10_000 };
        var scheduler = new BatchScheduler(options, static _ => { });
        var old = Job(options, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40);
        scheduler.Add(old);
        var newer = Job(options, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9);
        scheduler.Add(newer);

        // Both are bulk: the old request's inputs are in every batch until it is done, though the newer ones would pad less.
        for (var i = 0; i < 9; i++)
        {
            Assert.All(scheduler.TakeNext()!.Items, item => Assert.Same(old, item.Job));
        }

        Assert.All(scheduler.TakeNext()!.Items, item => Assert.Same(newer, item.Job));
    }

    [Fact]
    public void Only_the_oldest_window_inputs_are_candidates()
    {
        var options = new BatchingOptions { MaxBatchSize = 4, MaxBatchTokens = 10_000, WindowInputs = 3 };
        var scheduler = new BatchScheduler(options, static _ => { });
        scheduler.Add(Job(options, 50, 10, 11, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50));

        // The window is [50, 10, 11]: the other 50s are outside it.
        Assert.Equal([10, 11, 50], Lengths(scheduler.TakeNext()!));
    }

    [Theory]
    [InlineData(new[] { 300 }, true)] // one input always fits (alone if over the budget)
    [InlineData(new[] { 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8 }, true)] // 16 × 8 = 128
    [InlineData(new[] { 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 9 }, false)] // padded to 9: 144 > 128
    [InlineData(new[] { 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5 }, false)] // 17 inputs > MaxBatchSize
    [InlineData(new[] { 60, 60 }, true)]
    [InlineData(new[] { 60, 60, 60 }, false)]
    public void A_request_is_interactive_when_it_fits_in_one_batch(int[] lengths, bool interactive)
    {
        var options = new BatchingOptions { MaxBatchSize = 16, MaxBatchTokens = 128 };
        Assert.Equal(interactive ? RequestLane.Interactive : RequestLane.Bulk, RequestLanes.Of(lengths.Select(static (l, i) => Input(i, l)).ToArray(), options));
    }

    [Fact]
    public void Interactive_batches_go_first_and_bulk_gets_one_after_each_run_of_them()
    {
        var options = new BatchingOptions { MaxBatchSize = 1, InteractiveBatchesPerBulkBatch = 3 };
        var scheduler = new BatchScheduler(options, static _ => { });
        var bulk = Job(options, 10, 10, 10);
        scheduler.Add(bulk);
        var queries = Enumerable.Range(0, 7).Select(_ => Job(options, 10)).ToList();
        queries.ForEach(scheduler.Add);

        var order = new List<string>();
        while (scheduler.TakeNext() is { } batch)
        {
            order.Add(batch.Items[0].Job == bulk ? "B" : "I");
        }

        Assert.Equal("IIIBIIIBIB", string.Concat(order));
    }

    [Theory]
    [InlineData(64, "20,19,21")] // the query (20 tokens) with the two bulk inputs nearest its length: 3 × 21 = 63 <= 64
    [InlineData(40, "20,19")] // 2 × 20 = 40; a third would pad to 60
    [InlineData(0, "20")] // off: queries run with queries only
    public void A_query_batch_takes_bulk_inputs_of_its_length_along_up_to_its_token_budget(int interactiveBatchTokens, string expected)
    {
        var options = new BatchingOptions { MaxBatchSize = 4, MaxBatchTokens = 128, InteractiveBatchTokens = interactiveBatchTokens };
        var scheduler = new BatchScheduler(options, static _ => { });
        var bulk = Job(options, 90, 19, 5, 21, 60, 40, 40);
        scheduler.Add(bulk);
        scheduler.Add(Job(options, 20));

        var batch = scheduler.TakeNext()!;

        Assert.Equal(expected, string.Join(',', batch.Items.Select(static i => i.Length)));
        Assert.Equal(7 + 1 - batch.Items.Count, scheduler.Inputs);
        // The bulk lane's own next batch still starts from its oldest input.
        Assert.Equal(90, scheduler.TakeNext()!.Items[0].Length);
    }

    [Fact]
    public void The_queue_counts_inputs_and_tokens_and_a_withdrawn_job_leaves_them_at_once()
    {
        var options = new BatchingOptions { MaxBatchSize = 2, MaxBatchTokens = 10_000 };
        var dropped = 0;
        var scheduler = new BatchScheduler(options, n => dropped += n);
        var kept = Job(options, 10, 20, 30);
        var withdrawn = Job(options, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5);
        scheduler.Add(kept);
        scheduler.Add(withdrawn);
        Assert.Equal(20, scheduler.Inputs);
        Assert.Equal(60 + 17 * 5, scheduler.Tokens);

        scheduler.Withdraw(withdrawn);
        scheduler.Withdraw(withdrawn);

        Assert.Equal(17, dropped);
        Assert.Equal(3, scheduler.Inputs);
        Assert.Equal(60, scheduler.Tokens);
        var batch = scheduler.TakeNext()!;
        Assert.Equal(3 - batch.Items.Count, scheduler.Inputs);
        Assert.Equal(60 - batch.Tokens, scheduler.Tokens);
        Assert.All(batch.Items, item => Assert.Same(kept, item.Job));
    }
}
