using EmbeddingService.Inference;
using EmbeddingService.Inference.Batching;
using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Inference.Tokenization;
using Microsoft.Extensions.Logging.Abstractions;

namespace EmbeddingService.Tests.Batching;

/// <summary>The batcher on a fake runner: deterministic, no sleeps — a gate in the runner decides when batches finish.</summary>
public sealed class DynamicBatcherTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private static DynamicBatcher CreateBatcher(FakeBatchRunner runner, BatchingOptions? options = null, int runners = 1, FakeBatchRunner? loneRunner = null) =>
        new("test", runner, options ?? new BatchingOptions(), runners, new EmbeddingMetrics(), NullLogger.Instance, loneRunner);

    private static TokenizedInput[] Inputs(params int[] firstIds) =>
        firstIds.Select(static (id, i) => new TokenizedInput([101, id, .. Enumerable.Repeat(5, id % 7), 102], false)).ToArray();

    [Fact]
    public async Task Results_come_back_in_input_order_whatever_the_batches()
    {
        await using var batcher = CreateBatcher(new FakeBatchRunner(), new BatchingOptions { MaxBatchSize = 3, WindowInputs = 64 });
        var ids = Enumerable.Range(1, 50).Select(static i => i * 13 % 97).ToArray();

        var (vectors, _) = await batcher.EmbedAsync(Inputs(ids), TestContext.Current.CancellationToken).WaitAsync(s_timeout, TestContext.Current.CancellationToken);

        for (var i = 0; i < ids.Length; i++)
        {
            Assert.Equal(ids[i], vectors[i * 2]);
        }
    }

    [Fact]
    public async Task A_lone_request_runs_at_once_without_waiting_for_company()
    {
        var runner = new FakeBatchRunner();
        await using var batcher = CreateBatcher(runner);

        await batcher.EmbedAsync(Inputs(7), TestContext.Current.CancellationToken).WaitAsync(s_timeout, TestContext.Current.CancellationToken);

        Assert.Single(runner.Batches);
    }

    [Fact]
    public async Task A_batch_with_the_model_to_itself_goes_to_the_lone_request_runner_and_overlapping_batches_do_not()
    {
        var shared = new FakeBatchRunner(gated: true);
        var lone = new FakeBatchRunner(gated: true);
        await using var batcher = CreateBatcher(shared, runners: 2, loneRunner: lone);
        var cancellation = TestContext.Current.CancellationToken;

        // Nothing else runs or waits: the lone-request runner takes it.
        var first = batcher.EmbedAsync(Inputs(1), cancellation);
        await lone.Started.WaitAsync(s_timeout, cancellation);

        // A second request while the first still runs: the other runner takes it, on the shared runner.
        var second = batcher.EmbedAsync(Inputs(2), cancellation);
        await shared.Started.WaitAsync(s_timeout, cancellation);

        lone.Release(100);
        shared.Release(100);
        var (firstVectors, _) = await first.WaitAsync(s_timeout, cancellation);
        var (secondVectors, _) = await second.WaitAsync(s_timeout, cancellation);
        Assert.Equal(1, firstVectors[0]);
        Assert.Equal(2, secondVectors[0]);

        // Both finished, so the server is idle again: the next lone request goes to the lone-request runner again.
        await batcher.EmbedAsync(Inputs(3), cancellation).WaitAsync(s_timeout, cancellation);

        Assert.Equal([1, 3], lone.Batches.Select(static b => b.Single()[1]));
        Assert.Equal([2], shared.Batches.Select(static b => b.Single()[1]));
    }

    [Fact]
    public async Task Batches_with_more_of_their_window_waiting_behind_them_go_to_the_shared_runner()
    {
        var shared = new FakeBatchRunner();
        var lone = new FakeBatchRunner();
        await using var batcher = CreateBatcher(shared, new BatchingOptions { MaxBatchSize = 2 }, runners: 1, loneRunner: lone);

        // Five inputs plan three batches at once: the first two have company waiting; the last one runs alone.
        await batcher.EmbedAsync(Inputs(1, 2, 3, 4, 5), TestContext.Current.CancellationToken).WaitAsync(s_timeout, TestContext.Current.CancellationToken);

        Assert.Equal(2, shared.Batches.Count);
        Assert.Single(lone.Batches);
        Assert.Equal(5, shared.Batches.Sum(static b => b.Count) + lone.Batches.Sum(static b => b.Count));
    }

    [Fact]
    public async Task Requests_queued_while_the_runner_is_busy_share_a_batch()
    {
        var runner = new FakeBatchRunner(gated: true);
        await using var batcher = CreateBatcher(runner, new BatchingOptions { MaxBatchSize = 32 });
        var first = batcher.EmbedAsync(Inputs(1), TestContext.Current.CancellationToken);
        await runner.Started.WaitAsync(s_timeout, TestContext.Current.CancellationToken);

        // Everything queued while the runner is busy piles up for one batch.
        var rest = Enumerable.Range(2, 10).Select(i => batcher.EmbedAsync(Inputs(i), TestContext.Current.CancellationToken)).ToArray();
        runner.Release(100);
        await Task.WhenAll(rest.Append(first)).WaitAsync(s_timeout, TestContext.Current.CancellationToken);

        Assert.True(runner.Batches.Count == 2, $"{runner.Batches.Count} batches for 11 requests");
        Assert.Equal(11, runner.Batches.Sum(static b => b.Count));
    }

    [Theory]
    [InlineData(new[] { 6, 20 }, "1|7,14|13,6|20")] // a batch's worth (MaxBatchSize 2): sorted into the waiting window
    [InlineData(new[] { 6 }, "1|7,14|13|6")] // less: waits for the next window
    public async Task A_request_that_comes_in_while_a_window_waits_joins_its_sort_if_it_fills_a_batch(int[] newcomer, string expectedBatches)
    {
        var runner = new FakeBatchRunner(gated: true);
        await using var batcher = CreateBatcher(runner, new BatchingOptions { MaxBatchSize = 2, MaxBatchTokens = 10_000 });
        var cancellation = TestContext.Current.CancellationToken;
        var first = batcher.EmbedAsync(Inputs(1), cancellation);
        await runner.Started.WaitAsync(s_timeout, cancellation);

        // Ids 7 and 14 make 3 tokens, 13, 6 and 20 make 9. The next window is [7, 14] then [13]; [7, 14] starts, and the
        // newcomer comes in while it runs.
        var second = batcher.EmbedAsync(Inputs(7, 13, 14), cancellation);
        runner.Release();
        await runner.Started.WaitAsync(s_timeout, cancellation);
        var third = batcher.EmbedAsync(Inputs(newcomer), cancellation);
        runner.Release(100);
        await Task.WhenAll(first, second, third).WaitAsync(s_timeout, cancellation);

        Assert.Equal(expectedBatches, string.Join('|', runner.Batches.Select(static b => string.Join(',', b.Select(static row => row[1])))));
    }

    [Fact]
    public async Task A_single_sentence_behind_a_large_request_runs_within_the_next_window()
    {
        var runner = new FakeBatchRunner(gated: true);
        var options = new BatchingOptions { MaxBatchSize = 16, MaxBatchTokens = 100_000, WindowInputs = 128, MaxQueuedInputs = 4096 };
        await using var batcher = CreateBatcher(runner, options);
        var cancellation = TestContext.Current.CancellationToken;
        var large = batcher.EmbedAsync(Inputs(Enumerable.Range(1000, 2000).ToArray()), cancellation);
        await runner.Started.WaitAsync(s_timeout, cancellation);

        var single = batcher.EmbedAsync(Inputs(5), cancellation);
        runner.Release(1000);
        await Task.WhenAll(large, single).WaitAsync(s_timeout, cancellation);

        // The rest of the first window (8 batches of 16), then a window in which it is one of the first 128 inputs.
        var batch = runner.Batches.FindIndex(static b => b.Any(static row => row[1] == 5));
        Assert.InRange(batch, 1, 8 + 9);
    }

    [Fact]
    public async Task A_full_queue_refuses_with_overloaded_and_keeps_what_it_accepted()
    {
        var runner = new FakeBatchRunner(gated: true);
        await using var batcher = CreateBatcher(runner, new BatchingOptions { MaxQueuedInputs = 4, MaxBatchSize = 1 });
        var running = batcher.EmbedAsync(Inputs(1), TestContext.Current.CancellationToken);
        await runner.Started.WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        Assert.Equal(0, batcher.QueuedInputs);

        var accepted = batcher.EmbedAsync(Inputs(3, 4, 5, 6), TestContext.Current.CancellationToken);

        var refused = await Assert.ThrowsAsync<EmbeddingException>(() => batcher.EmbedAsync(Inputs(7), TestContext.Current.CancellationToken));
        Assert.Equal(EmbeddingErrorKind.Overloaded, refused.Kind);
        Assert.NotNull(refused.RetryAfter);

        runner.Release(100);
        var (vectors, _) = await accepted.WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        Assert.Equal(new float[] { 3, 4, 5, 6 }, new[] { vectors[0], vectors[2], vectors[4], vectors[6] });
        await running.WaitAsync(s_timeout, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_cancelled_request_is_dropped_before_it_reaches_the_model()
    {
        var runner = new FakeBatchRunner(gated: true);
        await using var batcher = CreateBatcher(runner, new BatchingOptions { MaxBatchSize = 1 });
        var running = batcher.EmbedAsync(Inputs(1), TestContext.Current.CancellationToken);
        await runner.Started.WaitAsync(s_timeout, TestContext.Current.CancellationToken);

        using var cancel = new CancellationTokenSource();
        var abandoned = batcher.EmbedAsync(Inputs(42, 43, 44), cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.WaitAsync(s_timeout, TestContext.Current.CancellationToken));

        var after = batcher.EmbedAsync(Inputs(9), TestContext.Current.CancellationToken);
        runner.Release(100);
        await Task.WhenAll(running, after).WaitAsync(s_timeout, TestContext.Current.CancellationToken);

        Assert.DoesNotContain(runner.Batches.SelectMany(static b => b), row => row[1] is 42 or 43 or 44);
        Assert.Equal(0, batcher.QueuedInputs);
    }

    [Fact]
    public async Task A_failing_batch_fails_its_requests_and_the_batcher_goes_on()
    {
        var runner = new FakeBatchRunner { Fail = static rows => rows.Any(static r => r[1] == 13) ? new InvalidOperationException("boom") : null };
        await using var batcher = CreateBatcher(runner);

        var error = await Assert.ThrowsAsync<EmbeddingException>(() => batcher.EmbedAsync(Inputs(13), TestContext.Current.CancellationToken));
        Assert.Equal(EmbeddingErrorKind.Backend, error.Kind);

        var (vectors, _) = await batcher.EmbedAsync(Inputs(14), TestContext.Current.CancellationToken).WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        Assert.Equal(14, vectors[0]);
    }

    [Fact]
    public async Task Drain_finishes_queued_work_then_refuses_new_work()
    {
        var runner = new FakeBatchRunner(gated: true);
        var batcher = CreateBatcher(runner, new BatchingOptions { MaxBatchSize = 1 });
        var queued = Enumerable.Range(1, 5).Select(i => batcher.EmbedAsync(Inputs(i), TestContext.Current.CancellationToken)).ToArray();
        await runner.Started.WaitAsync(s_timeout, TestContext.Current.CancellationToken);

        var drain = batcher.DrainAsync(TestContext.Current.CancellationToken);
        var refused = await Assert.ThrowsAsync<EmbeddingException>(() => batcher.EmbedAsync(Inputs(99), TestContext.Current.CancellationToken));
        Assert.Equal(EmbeddingErrorKind.Unhealthy, refused.Kind);

        runner.Release(100);
        await drain.WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        var results = await Task.WhenAll(queued).WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5 }, results.Select(static r => r.Vectors[0]).ToArray());
        await batcher.DisposeAsync();
    }

    [Fact]
    public async Task Several_runners_work_in_parallel()
    {
        var runner = new FakeBatchRunner(gated: true);
        await using var batcher = CreateBatcher(runner, new BatchingOptions { MaxBatchSize = 1 }, runners: 2);
        var a = batcher.EmbedAsync(Inputs(1), TestContext.Current.CancellationToken);
        var b = batcher.EmbedAsync(Inputs(2), TestContext.Current.CancellationToken);

        // Both batches start while neither has been released: two runner threads.
        await runner.Started.WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        await runner.Started.WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        runner.Release(2);
        await Task.WhenAll(a, b).WaitAsync(s_timeout, TestContext.Current.CancellationToken);
    }
}
