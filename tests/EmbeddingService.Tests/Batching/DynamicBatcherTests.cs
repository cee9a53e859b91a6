using EmbeddingService.Inference;
using EmbeddingService.Inference.Batching;
using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Inference.Runtime;
using EmbeddingService.Inference.Tokenization;
using Microsoft.Extensions.Logging.Abstractions;

namespace EmbeddingService.Tests.Batching;

/// <summary>The batcher on a fake runner: deterministic, no sleeps — a gate in the runner decides when batches finish.</summary>
public sealed class DynamicBatcherTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private static DynamicBatcher CreateBatcher(FakeBatchRunner runner, BatchingOptions? options = null, int runners = 1, FakeBatchRunner? loneRunner = null,
        double seedTokensPerSecond = 1000) =>
        new("test", Enumerable.Repeat<IBatchRunner>(runner, runners).ToArray(), options ?? new BatchingOptions(), new EmbeddingMetrics(), NullLogger.Instance, loneRunner, seedTokensPerSecond);

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
    public async Task Batches_with_more_work_waiting_behind_them_go_to_the_shared_runner()
    {
        var shared = new FakeBatchRunner();
        var lone = new FakeBatchRunner();
        await using var batcher = CreateBatcher(shared, new BatchingOptions { MaxBatchSize = 2 }, runners: 1, loneRunner: lone);

        // Five inputs make three batches: the first two have company waiting; the last one runs alone.
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

    [Fact]
    public async Task A_query_that_comes_in_behind_an_ingestion_request_runs_in_the_next_batch()
    {
        var runner = new FakeBatchRunner(gated: true);
        var options = new BatchingOptions { MaxBatchSize = 16, MaxBatchTokens = 100_000 };
        await using var batcher = CreateBatcher(runner, options);
        var cancellation = TestContext.Current.CancellationToken;
        var bulk = batcher.EmbedAsync(Inputs(Enumerable.Range(1000, 2000).ToArray()), cancellation);
        await runner.Started.WaitAsync(s_timeout, cancellation);

        var query = batcher.EmbedAsync(Inputs(5), cancellation);
        runner.Release(1000);
        await Task.WhenAll(bulk, query).WaitAsync(s_timeout, cancellation);

        // The first bulk batch was running when the query came in; the query's is the next one to start.
        Assert.Equal(1, runner.Batches.FindIndex(static b => b.Any(static row => row[1] == 5)));
        Assert.Equal(2001, runner.Batches.Sum(static b => b.Count));
    }

    [Fact]
    public async Task Bulk_inputs_get_a_batch_after_each_run_of_interactive_batches_while_queries_keep_coming()
    {
        var runner = new FakeBatchRunner(gated: true);
        var options = new BatchingOptions { MaxBatchSize = 1, InteractiveBatchesPerBulkBatch = 2 };
        await using var batcher = CreateBatcher(runner, options);
        var cancellation = TestContext.Current.CancellationToken;
        var bulk = batcher.EmbedAsync(Inputs(100, 101, 102), cancellation);
        await runner.Started.WaitAsync(s_timeout, cancellation);

        // Six queries wait beside the rest of the bulk request: two queries, one bulk input, two queries, ...
        var queries = Enumerable.Range(1, 6).Select(i => batcher.EmbedAsync(Inputs(i), cancellation)).ToArray();
        runner.Release(1000);
        await Task.WhenAll(queries.Append(bulk)).WaitAsync(s_timeout, cancellation);

        Assert.Equal("100|1|2|101|3|4|102|5|6", string.Join('|', runner.Batches.Select(static b => b.Single()[1])));
    }

    [Fact]
    public async Task A_request_for_token_vectors_shares_batches_and_gets_every_token_of_its_inputs()
    {
        var runner = new FakeBatchRunner(gated: true);
        await using var batcher = CreateBatcher(runner, new BatchingOptions { MaxBatchSize = 4, MaxBatchTokens = 10_000 });
        var cancellation = TestContext.Current.CancellationToken;
        var first = batcher.EmbedAsync(Inputs(1), cancellation);
        await runner.Started.WaitAsync(s_timeout, cancellation);

        var pooled = batcher.EmbedAsync(Inputs(2), cancellation);
        var tokens = batcher.EmbedTokensAsync(Inputs(3, 4), cancellation);
        runner.Release(100);
        await Task.WhenAll(first, pooled).WaitAsync(s_timeout, cancellation);
        var (vectors, _) = await tokens.WaitAsync(s_timeout, cancellation);

        Assert.Equal(2, runner.Batches.Count);
        Assert.Equal(3, runner.Batches[1].Count);
        // The fake writes (id, position) for each token.
        for (var i = 0; i < 2; i++)
        {
            var ids = Inputs(3, 4)[i].Ids;
            Assert.Equal(ids.SelectMany((id, t) => new float[] { id, t }), vectors[i]);
        }
    }

    [Fact]
    public async Task A_batch_takes_the_oldest_waiting_input_and_companions_of_its_length()
    {
        var runner = new FakeBatchRunner(gated: true);
        await using var batcher = CreateBatcher(runner, new BatchingOptions { MaxBatchSize = 2, MaxBatchTokens = 10_000 });
        var cancellation = TestContext.Current.CancellationToken;
        var first = batcher.EmbedAsync(Inputs(1), cancellation);
        await runner.Started.WaitAsync(s_timeout, cancellation);

        // Lengths (3 + id % 7): 13 → 9, 7 → 3, 20 → 9, 14 → 3. The oldest (13) pairs with 20, its length; then 7 with 14.
        var bulk = batcher.EmbedAsync(Inputs(13, 7, 20, 14), cancellation);
        runner.Release(1000);
        await Task.WhenAll(first, bulk).WaitAsync(s_timeout, cancellation);

        Assert.Equal("1|13,20|7,14", string.Join('|', runner.Batches.Select(static b => string.Join(',', b.Select(static row => row[1])))));
    }

    [Fact]
    public async Task A_full_queue_refuses_with_overloaded_and_a_retry_after_of_its_drain_time_and_keeps_what_it_accepted()
    {
        var runner = new FakeBatchRunner(gated: true);
        // Before any pass has finished, the drain estimate runs at the seed: 10 tokens per second.
        await using var batcher = CreateBatcher(runner, new BatchingOptions { MaxQueuedInputs = 4, MaxBatchSize = 1 }, seedTokensPerSecond: 10);
        var running = batcher.EmbedAsync(Inputs(1), TestContext.Current.CancellationToken);
        await runner.Started.WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        Assert.Equal(0, batcher.Snapshot().Inputs);

        // 6 + 7 + 8 + 9 = 30 tokens queued: 3 s at 10 tokens per second.
        var accepted = batcher.EmbedAsync(Inputs(3, 4, 5, 6), TestContext.Current.CancellationToken);
        Assert.Equal(new QueueSnapshot(4, 30, 3), batcher.Snapshot());

        var refused = await Assert.ThrowsAsync<EmbeddingException>(() => batcher.EmbedAsync(Inputs(7), TestContext.Current.CancellationToken));
        Assert.Equal(EmbeddingErrorKind.Overloaded, refused.Kind);
        Assert.Equal(TimeSpan.FromSeconds(3), refused.RetryAfter);

        runner.Release(100);
        var (vectors, _) = await accepted.WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        Assert.Equal(new float[] { 3, 4, 5, 6 }, new[] { vectors[0], vectors[2], vectors[4], vectors[6] });
        await running.WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        Assert.Equal(new QueueSnapshot(0, 0, 0), batcher.Snapshot());
    }

    [Fact]
    public async Task Bulk_requests_fill_three_quarters_of_the_queue_and_the_rest_stays_free_for_queries()
    {
        var runner = new FakeBatchRunner(gated: true);
        await using var batcher = CreateBatcher(runner, new BatchingOptions { MaxQueuedInputs = 8, MaxBatchSize = 2 });
        var cancellation = TestContext.Current.CancellationToken;
        var running = batcher.EmbedAsync(Inputs(1), cancellation);
        await runner.Started.WaitAsync(s_timeout, cancellation);

        // Bulk (more than one batch's worth) may fill 6 of the 8 places.
        var bulk = batcher.EmbedAsync(Inputs(10, 11, 12, 13, 14, 15), cancellation);
        var refused = await Assert.ThrowsAsync<EmbeddingException>(() => batcher.EmbedAsync(Inputs(20, 21, 22), cancellation));
        Assert.Equal(EmbeddingErrorKind.Overloaded, refused.Kind);
        Assert.Contains("6 of the 8", refused.Message, StringComparison.Ordinal);

        // Queries still get in, up to the whole queue.
        var queries = new[] { batcher.EmbedAsync(Inputs(30, 31), cancellation) };
        Assert.Equal(8, batcher.Snapshot().Inputs);
        await Assert.ThrowsAsync<EmbeddingException>(() => batcher.EmbedAsync(Inputs(40), cancellation));

        runner.Release(100);
        await Task.WhenAll(queries.Append(bulk).Append(running)).WaitAsync(s_timeout, cancellation);
    }

    [Fact]
    public async Task A_caller_that_goes_away_leaves_the_queue_at_once_and_frees_its_room()
    {
        var runner = new FakeBatchRunner(gated: true);
        await using var batcher = CreateBatcher(runner, new BatchingOptions { MaxQueuedInputs = 4, MaxBatchSize = 1 });
        var running = batcher.EmbedAsync(Inputs(1), TestContext.Current.CancellationToken);
        await runner.Started.WaitAsync(s_timeout, TestContext.Current.CancellationToken);

        using var cancel = new CancellationTokenSource();
        var leaving = batcher.EmbedAsync(Inputs(3, 4, 5, 6), cancel.Token);
        Assert.Equal(4, batcher.Snapshot().Inputs);
        await cancel.CancelAsync();

        // No runner has looked at the queue since (it is held): the room is free already.
        Assert.Equal(0, batcher.Snapshot().Inputs);
        var next = batcher.EmbedAsync(Inputs(7, 8, 9, 10), TestContext.Current.CancellationToken);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving.WaitAsync(s_timeout, TestContext.Current.CancellationToken));
        runner.Release(100);
        await Task.WhenAll(running, next).WaitAsync(s_timeout, TestContext.Current.CancellationToken);
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
        Assert.Equal(0, batcher.Snapshot().Inputs);
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
