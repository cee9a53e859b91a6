using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Logging.Abstractions;
using EmbeddingService.Inference.Batching;
using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Tests.Batching;

/// <summary>
/// The starvation bound under adversarial arrival orders (<see cref="SchedulingScripts"/>): every admitted input starts
/// within the bound <see cref="BatchScheduler"/> states, whatever arrives after it (floods of single sentences, large
/// requests, callers giving up), and every input whose caller stays is embedded. Checked on the scheduler alone (many
/// orders, shrinking to a minimal one on failure) and through the batcher with a gated fake runner (the runner threads,
/// the lock and cancellation included). No sleeps: the gate decides when each batch ends.
/// </summary>
public sealed class StarvationBoundTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Every_input_starts_within_the_bound_on_the_scheduler(int interactiveBatchesPerBulkBatch)
    {
        var property = Prop.ForAll(SchedulingScripts.Steps(maxSteps: 200, shrink: true), steps => RunOnScheduler(steps, interactiveBatchesPerBulkBatch));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Every_input_starts_within_the_bound_through_the_batcher(int interactiveBatchesPerBulkBatch)
    {
        var property = Prop.ForAll(SchedulingScripts.Steps(maxSteps: 60, shrink: false),
            steps => RunOnBatcherAsync(steps, interactiveBatchesPerBulkBatch).GetAwaiter().GetResult());
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(40), property);
    }

    [Fact]
    public void The_oracle_checks_the_bounds_the_scheduler_states()
    {
        var oracle = new StartBoundOracle(new BatchingOptions { InteractiveBatchesPerBulkBatch = 3 });

        // Nothing ahead: a query starts in the next batch or, if bulk's turn has come, the one after; a bulk input within 4.
        Assert.Equal(2, oracle.Bound(RequestLane.Interactive, ahead: 0));
        Assert.Equal(4, oracle.Bound(RequestLane.Bulk, ahead: 0));
        Assert.Equal(10 + 4, oracle.Bound(RequestLane.Interactive, ahead: 9));
        Assert.Equal(40, oracle.Bound(RequestLane.Bulk, ahead: 9));
    }

    private static bool RunOnScheduler(ScriptStep[] steps, int interactiveBatchesPerBulkBatch)
    {
        var options = SchedulingScripts.Options(interactiveBatchesPerBulkBatch);
        var scheduler = new BatchScheduler(options, static _ => { });
        var oracle = new StartBoundOracle(options);
        var requests = new Dictionary<EmbeddingJob, int>();
        var callers = new List<(int Request, CancellationTokenSource Cancel)>();

        void Start(Batch batch) => oracle.Started(batch.Items.Select(item => (requests[item.Job], item.Index)));

        foreach (var step in steps)
        {
            switch (step)
            {
                case Arrive arrive:
                    var request = callers.Count;
                    var inputs = Inputs(request, arrive.Lengths);
                    var job = new EmbeddingJob(inputs, dimensions: 2, RequestLanes.Of(inputs, options));
                    var cancel = new CancellationTokenSource();
                    requests.Add(job, request);
                    callers.Add((request, cancel));
                    oracle.Queued(request, arrive.Lengths, job.Lane);
                    scheduler.Add(job);
                    job.RegisterCancellation(cancel.Token, scheduler.Withdraw);
                    break;
                case NextBatch when scheduler.TakeNext() is { } batch:
                    Start(batch);
                    break;
                case GiveUp giveUp when PickWaiting(callers, oracle, giveUp.Pick) is { } leaving:
                    oracle.GaveUp(leaving.Request);
                    leaving.Cancel.Cancel();
                    break;
            }

            // The queue's own counts agree with the outside view after every step, so no drift can hide.
            Assert.Equal(oracle.Waiting, scheduler.Inputs);
            Assert.Equal(oracle.WaitingTokens, scheduler.Tokens);
        }

        while (scheduler.TakeNext() is { } rest)
        {
            Start(rest);
        }

        oracle.AssertAllStarted();
        Assert.Equal(0, scheduler.Inputs);
        Assert.Equal(0, scheduler.Tokens);
        return true;
    }

    private static async Task<bool> RunOnBatcherAsync(ScriptStep[] steps, int interactiveBatchesPerBulkBatch)
    {
        var options = SchedulingScripts.Options(interactiveBatchesPerBulkBatch);
        var runner = new FakeBatchRunner(gated: true);
        await using var batcher = new DynamicBatcher("bound", [runner], options, new EmbeddingMetrics(), NullLogger.Instance);
        var play = new GatedPlay(runner, batcher, options);
        try
        {
            foreach (var step in steps)
            {
                await play.StepAsync(step);
            }

            await play.FinishAsync();
        }
        finally
        {
            // A failed assertion must not leave the runner thread in the gate while the batcher is disposed.
            runner.Release(10_000);
        }

        return true;
    }

    /// <summary>Inputs whose second id is <c>request × 1000 + index</c>, so a batch's rows tell which inputs they are.</summary>
    private static TokenizedInput[] Inputs(int request, int[] lengths) =>
        lengths.Select((length, index) => BatchSchedulerTests.Input(request * 1000 + index, length)).ToArray();

    /// <summary>A request that still has inputs waiting, chosen by <paramref name="pick"/>; null when there is none.</summary>
    private static (int Request, CancellationTokenSource Cancel)? PickWaiting(List<(int Request, CancellationTokenSource Cancel)> callers,
        StartBoundOracle oracle, int pick)
    {
        var waiting = callers.Where(c => !c.Cancel.IsCancellationRequested && oracle.IsWaiting(c.Request)).ToList();
        return waiting.Count == 0 ? null : waiting[pick % waiting.Count];
    }

    /// <summary>
    /// A script played through the real batcher with one gated runner thread. The runner starts a batch when it is idle
    /// and something waits, and holds it in the gate until released; each step waits for the batch it causes to start, so
    /// every arrival is queued while a known batch runs and the oracle sees batch starts in order.
    /// </summary>
    private sealed class GatedPlay(FakeBatchRunner runner, DynamicBatcher batcher, BatchingOptions options)
    {
        private readonly StartBoundOracle _oracle = new(options);
        private readonly List<(int Request, CancellationTokenSource Cancel)> _callers = [];
        private readonly List<(int Request, int Inputs, Task<(float[] Vectors, JobTimings Timings)> Task)> _embeddings = [];
        private bool _running;
        private int _seen;

        public async Task StepAsync(ScriptStep step)
        {
            switch (step)
            {
                case Arrive arrive:
                    var request = _callers.Count;
                    var inputs = Inputs(request, arrive.Lengths);
                    var cancel = new CancellationTokenSource();
                    _callers.Add((request, cancel));
                    _oracle.Queued(request, arrive.Lengths, RequestLanes.Of(inputs, options));
                    _embeddings.Add((request, inputs.Length, batcher.EmbedAsync(inputs, cancel.Token)));
                    if (!_running)
                    {
                        await AwaitStartAsync();
                    }

                    break;
                case NextBatch when _running:
                    await FinishRunningBatchAsync();
                    break;
                case GiveUp giveUp when PickWaiting(_callers, _oracle, giveUp.Pick) is { } leaving:
                    _oracle.GaveUp(leaving.Request);
                    await leaving.Cancel.CancelAsync();
                    break;
            }
        }

        /// <summary>Runs everything left, then checks that every caller who stayed got its vectors in input order.</summary>
        public async Task FinishAsync()
        {
            while (_running)
            {
                await FinishRunningBatchAsync();
            }

            _oracle.AssertAllStarted();
            Assert.Equal(0, batcher.Snapshot().Inputs);
            foreach (var (request, count, task) in _embeddings)
            {
                if (_callers[request].Cancel.IsCancellationRequested)
                {
                    await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task.WaitAsync(s_timeout));
                    continue;
                }

                var (vectors, _) = await task.WaitAsync(s_timeout);
                for (var index = 0; index < count; index++)
                {
                    Assert.Equal(request * 1000 + index, vectors[index * 2]);
                }
            }
        }

        private async Task AwaitStartAsync()
        {
            await runner.Started.WaitAsync(s_timeout);
            _oracle.Started(runner.Batches[_seen++].Select(static row => (row[1] / 1000, row[1] % 1000)));
            _running = true;
        }

        private async Task FinishRunningBatchAsync()
        {
            runner.Release();
            _running = false;
            if (_oracle.Waiting > 0)
            {
                await AwaitStartAsync();
            }
        }
    }
}
