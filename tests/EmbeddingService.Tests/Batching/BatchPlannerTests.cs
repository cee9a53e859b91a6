using EmbeddingService.Inference.Batching;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Tests.Batching;

public sealed class BatchPlannerTests
{
    private static EmbeddingJob Job(params int[] lengths) =>
        new(lengths.Select(static (length, i) => new TokenizedInput(Enumerable.Repeat(1000 + i, length).ToArray(), false)).ToArray(), dimensions: 2);

    [Fact]
    public void Batches_respect_the_size_and_padded_token_limits()
    {
        var options = new BatchingOptions { MaxBatchSize = 4, MaxBatchTokens = 100, WindowInputs = 64 };
        var lengths = new[] { 10, 50, 20, 5, 30, 10, 40, 8, 12, 25, 60, 7 };
        var queued = new List<EmbeddingJob> { Job(lengths) };

        var batches = BatchPlanner.PlanWindow(queued, options);

        Assert.Equal(lengths.Length, batches.Sum(static b => b.Items.Count));
        Assert.All(batches, b => Assert.InRange(b.Items.Count, 1, 4));
        Assert.All(batches, b => Assert.True(b.PaddedTokens <= 100 || b.Items.Count == 1, $"{b.PaddedTokens} padded tokens"));
        Assert.Empty(queued);
    }

    [Fact]
    public void The_window_is_sorted_by_length()
    {
        var options = new BatchingOptions { MaxBatchSize = 3, MaxBatchTokens = 10_000, WindowInputs = 64 };
        var queued = new List<EmbeddingJob> { Job(9, 3, 7), Job(1, 8, 2) };

        var batches = BatchPlanner.PlanWindow(queued, options);

        var order = batches.SelectMany(static b => b.Items.Select(static i => i.Length)).ToArray();
        Assert.Equal(new[] { 1, 2, 3, 7, 8, 9 }, order);
        Assert.Equal(new[] { 3, 9 }, batches.Select(static b => b.MaxLength).ToArray());
    }

    [Fact]
    public void An_input_over_the_token_budget_still_runs_alone()
    {
        var options = new BatchingOptions { MaxBatchSize = 8, MaxBatchTokens = 16, WindowInputs = 64 };
        var queued = new List<EmbeddingJob> { Job(100, 2) };

        var batches = BatchPlanner.PlanWindow(queued, options);

        Assert.Equal(2, batches.Count);
        Assert.Equal(100, batches[1].MaxLength);
    }

    [Fact]
    public void A_huge_request_does_not_starve_a_small_one_behind_it()
    {
        var options = new BatchingOptions { MaxBatchSize = 32, MaxBatchTokens = 100_000, WindowInputs = 128 };
        var huge = Job(Enumerable.Repeat(10, 2000).ToArray());
        var small = Job(10);
        var queued = new List<EmbeddingJob> { huge, small };

        var batches = BatchPlanner.PlanWindow(queued, options);

        Assert.Contains(batches.SelectMany(static b => b.Items), item => item.Job == small);
        Assert.Equal(127, huge.NextToSchedule);
        Assert.Equal([huge], queued);
    }

    [Fact]
    public void A_window_takes_at_most_one_batch_per_job_per_pass()
    {
        var options = new BatchingOptions { MaxBatchSize = 4, MaxBatchTokens = 100_000, WindowInputs = 10 };
        var a = Job(Enumerable.Repeat(5, 10).ToArray());
        var b = Job(Enumerable.Repeat(5, 10).ToArray());
        var queued = new List<EmbeddingJob> { a, b };

        BatchPlanner.PlanWindow(queued, options);

        // First pass: 4 from a, 4 from b; second pass fills the window's last 2 from a.
        Assert.Equal(6, a.NextToSchedule);
        Assert.Equal(4, b.NextToSchedule);
    }
}
