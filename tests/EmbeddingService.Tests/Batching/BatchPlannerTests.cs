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

        var batches = BatchPlanner.PlanWindow(queued, [], plan: 1, options);

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

        var batches = BatchPlanner.PlanWindow(queued, [], plan: 1, options);

        var order = batches.SelectMany(static b => b.Items.Select(static i => i.Length)).ToArray();
        Assert.Equal(new[] { 1, 2, 3, 7, 8, 9 }, order);
        Assert.Equal(new[] { 3, 9 }, batches.Select(static b => b.MaxLength).ToArray());
    }

    [Fact]
    public void An_input_over_the_token_budget_still_runs_alone()
    {
        var options = new BatchingOptions { MaxBatchSize = 8, MaxBatchTokens = 16, WindowInputs = 64 };
        var queued = new List<EmbeddingJob> { Job(100, 2) };

        var batches = BatchPlanner.PlanWindow(queued, [], plan: 1, options);

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

        var batches = BatchPlanner.PlanWindow(queued, [], plan: 1, options);

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

        BatchPlanner.PlanWindow(queued, [], plan: 1, options);

        // First pass: 4 from a, 4 from b; second pass fills the window's last 2 from a.
        Assert.Equal(6, a.NextToSchedule);
        Assert.Equal(4, b.NextToSchedule);
    }

    [Fact]
    public void Inputs_planned_earlier_are_sorted_again_with_newcomers()
    {
        var options = new BatchingOptions { MaxBatchSize = 2, MaxBatchTokens = 10_000, WindowInputs = 64 };
        var first = Job(10, 30, 5);
        var queued = new List<EmbeddingJob> { first };
        var firstPlan = BatchPlanner.PlanWindow(queued, [], plan: 1, options);
        Assert.Equal(new[] { 10, 30 }, firstPlan.Select(static b => b.MaxLength).ToArray());

        // [5, 10] has started; 30 waits, and 29 and 31 come in.
        var later = Job(29, 31);
        queued.Add(later);
        var secondPlan = BatchPlanner.PlanWindow(queued, firstPlan[1].Items, plan: 2, options);

        Assert.Equal(new[] { 30, 31 }, secondPlan.Select(static b => b.MaxLength).ToArray());
        Assert.Equal(new[] { (later, 0), (first, 1) }, secondPlan[0].Items.Select(static i => (i.Job, i.Index)).ToArray());
        Assert.Empty(queued);
    }

    [Fact]
    public void Planning_again_never_puts_an_input_behind_inputs_that_came_after_it()
    {
        var options = new BatchingOptions { MaxBatchSize = 1, MaxBatchTokens = 10_000, WindowInputs = 64 };
        var queued = new List<EmbeddingJob> { Job(50, 5) };
        var firstPlan = BatchPlanner.PlanWindow(queued, [], plan: 1, options);

        // [5] has started; shorter inputs keep coming, but the 50 planned before them runs first.
        queued.Add(Job(3, 4));
        var secondPlan = BatchPlanner.PlanWindow(queued, firstPlan[1].Items, plan: 2, options);

        Assert.Equal(new[] { 50, 3, 4 }, secondPlan.Select(static b => b.MaxLength).ToArray());
        Assert.Equal(new long[] { 1, 2, 2 }, secondPlan.Select(static b => b.OldestPlan).ToArray());
    }

    [Fact]
    public void A_window_planned_again_takes_newcomers_only_up_to_its_size()
    {
        var options = new BatchingOptions { MaxBatchSize = 8, MaxBatchTokens = 10_000, WindowInputs = 4 };
        var planned = BatchPlanner.PlanWindow([Job(5, 6, 7)], [], plan: 1, options).SelectMany(static b => b.Items).ToList();
        var later = Job(8, 9, 10);
        var queued = new List<EmbeddingJob> { later };

        var batches = BatchPlanner.PlanWindow(queued, planned, plan: 2, options);

        Assert.Equal(4, batches.Sum(static b => b.Items.Count));
        Assert.Equal(1, later.NextToSchedule);
        Assert.Equal([later], queued);
    }
}
