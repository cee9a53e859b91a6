using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Inference.Runtime;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Inference.Batching;

/// <summary>
/// The queue and the runner threads of one model.
/// <para>
/// Requests are admitted against a bound counted in inputs (full ⇒ <see cref="EmbeddingErrorKind.Overloaded"/>). Each runner
/// thread, whenever it is free, takes the next planned batch, or plans a new window from what is queued
/// (<see cref="BatchPlanner"/>: fair, sorted by length, cut by the token budget) and takes its first batch. There is no
/// delay timer and no hand-off thread: a lone request on an idle server wakes a runner that runs it at once, and under
/// load batches grow by themselves because requests pile up while the runners are busy. The rest of a window stays
/// planned, so the next free runner starts its batch without waiting. When a new request with a batch's worth of inputs
/// comes in meanwhile, the window is planned again with the new requests (<see cref="HasNewRequestFillingABatch"/>), up
/// to <see cref="BatchingOptions.WindowInputs"/>: requests that arrive one by one then share a sort.
/// </para>
/// <para>
/// Runners are dedicated threads, not thread-pool threads: a forward pass blocks for milliseconds, and blocking pool
/// threads would starve the request handlers on a 2-core machine. One lock guards the queue; it is held only to add a
/// request or to plan a window (microseconds), never during a forward pass.
/// </para>
/// <para>
/// With a lone-request runner (<see cref="BatchingOptions.LoneRequestThreads"/>), a batch that starts while no other batch
/// of the model runs and nothing else waits goes to that runner, whose session runs one pass on several threads: the
/// lone request gets the latency of a multi-threaded pass, while concurrent batches keep the one-thread-per-pass layout
/// that gives the best throughput.
/// </para>
/// </summary>
internal sealed partial class DynamicBatcher : IAsyncDisposable
{
    private readonly string _modelId;
    private readonly IBatchRunner _runner;
    private readonly IBatchRunner? _loneRunner;
    private readonly BatchingOptions _options;
    private readonly EmbeddingMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Thread[] _runnerThreads;

    // Guarded by _gate (Monitor, so runners can wait on it for work).
    private readonly object _gate = new();
    private readonly List<EmbeddingJob> _queued = [];
    private readonly Queue<Batch> _planned = new();
    private long _plans; // numbers the plans, so the planner can keep inputs first planned earlier ahead (BatchItem.Plan)
    private bool _completing;
    private bool _aborted;
    private int _running;

    private int _queuedInputs;

    /// <param name="loneRunner">Runs a batch that has the model to itself; null: every batch goes to <paramref name="runner"/>.
    /// Must produce the same vectors as <paramref name="runner"/>.</param>
    public DynamicBatcher(string modelId, IBatchRunner runner, BatchingOptions options, int runners, EmbeddingMetrics metrics, ILogger logger,
        IBatchRunner? loneRunner = null)
    {
        _modelId = modelId;
        _runner = runner;
        _loneRunner = loneRunner;
        _options = options;
        _metrics = metrics;
        _logger = logger;

        _runnerThreads = new Thread[runners];
        for (var i = 0; i < runners; i++)
        {
            _runnerThreads[i] = new Thread(RunBatches) { IsBackground = true, Name = $"runner-{modelId}-{i}" };
            _runnerThreads[i].Start();
        }
    }

    /// <summary>Inputs waiting to be put in a batch.</summary>
    public int QueuedInputs => Volatile.Read(ref _queuedInputs);

    /// <summary>Queues <paramref name="inputs"/> and completes when all of them are embedded, in input order.</summary>
    /// <exception cref="EmbeddingException">The queue is full, or the batcher is shutting down.</exception>
    public async Task<(float[] Vectors, JobTimings Timings)> EmbedAsync(TokenizedInput[] inputs, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var count = inputs.Length;
        var queued = Interlocked.Add(ref _queuedInputs, count);
        // A request larger than the whole queue is still admitted when the queue is empty, so it can never be refused forever.
        if (queued > _options.MaxQueuedInputs && queued != count)
        {
            Interlocked.Add(ref _queuedInputs, -count);
            throw new EmbeddingException(EmbeddingErrorKind.Overloaded,
                $"Model overloaded: {queued - count} inputs are queued and the limit is {_options.MaxQueuedInputs}.")
            {
                RetryAfter = TimeSpan.FromSeconds(1),
            };
        }

        var job = new EmbeddingJob(inputs, _runner.Dimensions);
        lock (_gate)
        {
            if (_completing)
            {
                Interlocked.Add(ref _queuedInputs, -count);
                throw new EmbeddingException(EmbeddingErrorKind.Unhealthy, "The service is shutting down.");
            }

            _queued.Add(job);
            Monitor.Pulse(_gate);
        }

        job.RegisterCancellation(cancellationToken);
        var timings = await job.Completion.ConfigureAwait(false);
        return (job.Output, timings);
    }

    /// <summary>Stops taking new work, finishes everything already queued, then stops the runners. If
    /// <paramref name="cancellationToken"/> fires first, what is still queued fails with <see cref="EmbeddingErrorKind.Unhealthy"/>.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _completing = true;
            Monitor.PulseAll(_gate);
        }

        var stopped = Task.Factory.StartNew(JoinRunners, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            await stopped.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Out of time: abandon what is still queued rather than hang the shutdown.
            lock (_gate)
            {
                _aborted = true;
                Monitor.PulseAll(_gate);
            }

            await stopped.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync() => await DrainAsync(new CancellationToken(canceled: true)).ConfigureAwait(false);

    private void JoinRunners()
    {
        foreach (var thread in _runnerThreads)
        {
            thread.Join();
        }
    }

    private void RunBatches()
    {
        var rows = new List<int[]>();
        while (TakeBatch(out var alone) is { } batch)
        {
            // Inputs of callers that went away since planning are not worth a padded row.
            batch.RemoveAbandoned();
            if (batch.Items.Count > 0)
            {
                RunBatch(batch, rows, alone && _loneRunner is not null ? _loneRunner : _runner);
            }
            else
            {
                EndPass();
            }
        }
    }

    /// <summary>The next batch to run: already planned, or planned now from what is queued; waits while there is
    /// nothing. Null when the batcher is drained (or aborted). The caller owes one <see cref="EndPass"/> per batch.</summary>
    /// <param name="alone">No other batch of this model runs and nothing else waits.</param>
    private Batch? TakeBatch(out bool alone)
    {
        alone = false;
        lock (_gate)
        {
            while (true)
            {
                if (_aborted)
                {
                    FailEverything(new EmbeddingException(EmbeddingErrorKind.Unhealthy, "The service shut down before this request ran."));
                    return null;
                }

                DropAbandoned();
                if (_queued.Count > 0)
                {
                    if (_planned.Count == 0)
                    {
                        PlanWindow(newRequestsOnly: false);
                    }
                    else if (HasNewRequestFillingABatch() && PlannedInputs() < _options.WindowInputs)
                    {
                        PlanWindow(newRequestsOnly: true);
                    }
                }

                if (_planned.TryDequeue(out var next))
                {
                    if (_planned.Count > 0)
                    {
                        // More of this window is ready: wake another idle runner for it.
                        Monitor.Pulse(_gate);
                    }

                    alone = _running == 0 && _planned.Count == 0 && _queued.Count == 0;
                    _running++;
                    return next;
                }

                if (_completing)
                {
                    return null;
                }

                Monitor.Wait(_gate);
            }
        }
    }

    /// <summary>
    /// Whether a request none of whose inputs is planned yet has a batch's worth of them: then the window is planned again
    /// before the next batch, with the new requests sorted in. Such a request's inputs span many lengths, and sorted in
    /// with the window they pad less than in a window of their own (a few clients sending 32 texts each arrive one by one,
    /// so each request used to be sorted alone). Single inputs alone wait for the next window, as before: sorting them in
    /// gains little, and at 64 connections of one sentence each it put some newcomers in batches ahead of older inputs and
    /// raised the p99 latency by 10-20 % (bench/README.md). The rest of a request already planned in part waits for the
    /// next window too, so a 2,000-input request cannot take every slot that frees up.
    /// </summary>
    private bool HasNewRequestFillingABatch()
    {
        foreach (var job in _queued)
        {
            if (job.IsUnplanned && job.Inputs.Length >= _options.MaxBatchSize)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Inputs in the batches planned but not started.</summary>
    private int PlannedInputs()
    {
        var inputs = 0;
        foreach (var batch in _planned)
        {
            inputs += batch.Items.Count;
        }

        return inputs;
    }

    /// <summary>Plans the window again from the batches not started (less abandoned inputs) and what is queued (only
    /// requests not planned at all with <paramref name="newRequestsOnly"/>).</summary>
    private void PlanWindow(bool newRequestsOnly)
    {
        var planned = new List<BatchItem>();
        while (_planned.TryDequeue(out var batch))
        {
            batch.RemoveAbandoned();
            planned.AddRange(batch.Items);
        }

        try
        {
            var taken = -planned.Count;
            foreach (var batch in BatchPlanner.PlanWindow(_queued, planned, ++_plans, _options, newRequestsOnly))
            {
                _planned.Enqueue(batch);
                taken += batch.Items.Count;
            }

            Interlocked.Add(ref _queuedInputs, -taken);
        }
        catch (Exception ex)
        {
            // A bug in planning must not leave callers waiting forever: fail what is queued, and say so loudly.
            Log.PlanningFailed(_logger, _modelId, ex);
            var error = new EmbeddingException(EmbeddingErrorKind.Backend, "Scheduling the request failed.", innerException: ex);
            foreach (var item in planned)
            {
                item.Job.Fail(error);
            }

            FailEverything(error);
        }
    }

    /// <summary>Removes cancelled or timed-out jobs and gives their unscheduled inputs back to the queue bound.</summary>
    private void DropAbandoned()
    {
        for (var i = _queued.Count - 1; i >= 0; i--)
        {
            var job = _queued[i];
            if (job.IsAbandoned)
            {
                var unscheduled = job.Inputs.Length - job.NextToSchedule;
                Interlocked.Add(ref _queuedInputs, -unscheduled);
                _metrics.RecordDroppedInputs(_modelId, unscheduled);
                _queued.RemoveAt(i);
            }
        }
    }

    private void FailEverything(EmbeddingException error)
    {
        foreach (var job in _queued)
        {
            Interlocked.Add(ref _queuedInputs, -(job.Inputs.Length - job.NextToSchedule));
            job.Fail(error);
        }

        _queued.Clear();
        while (_planned.TryDequeue(out var batch))
        {
            foreach (var item in batch.Items)
            {
                item.Job.Fail(error);
            }
        }
    }

    /// <summary>A batch taken by <see cref="TakeBatch"/> no longer runs. Called before its callers are completed, so a
    /// caller's next request already sees the model idle (and may get the lone-request runner).</summary>
    private void EndPass()
    {
        lock (_gate)
        {
            _running--;
        }
    }

    private void RunBatch(Batch batch, List<int[]> rows, IBatchRunner runner)
    {
        var started = Stopwatch.GetTimestamp();
        rows.Clear();
        foreach (var item in batch.Items)
        {
            item.Job.MarkRunning(started);
            rows.Add(item.Job.Inputs[item.Index].Ids);
        }

        var dimensions = _runner.Dimensions;
        var size = batch.Items.Count * dimensions;
        var output = ArrayPool<float>.Shared.Rent(size);
        try
        {
            try
            {
                runner.Run(rows, output.AsSpan(0, size));
            }
            finally
            {
                EndPass();
            }

            _metrics.RecordBatch(_modelId, batch.Items.Count, batch.PaddedTokens, Stopwatch.GetElapsedTime(started),
                ReferenceEquals(runner, _loneRunner) ? "lone" : "shared");
            for (var row = 0; row < batch.Items.Count; row++)
            {
                var item = batch.Items[row];
                output.AsSpan(row * dimensions, dimensions).CopyTo(item.Job.Output.AsSpan(item.Index * dimensions, dimensions));
                item.Job.MarkDone(1);
            }
        }
        catch (Exception ex)
        {
            Log.BatchFailed(_logger, _modelId, batch.Items.Count, batch.MaxLength, ex);
            var error = new EmbeddingException(EmbeddingErrorKind.Backend, $"Inference failed: {ex.Message}", innerException: ex);
            foreach (var item in batch.Items)
            {
                item.Job.Fail(error);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(output);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Critical, "Planning batches for model {ModelId} failed.")]
        public static partial void PlanningFailed(ILogger logger, string modelId, Exception exception);

        [LoggerMessage(2, LogLevel.Error, "A batch of {Count} inputs (padded to {Length} tokens) failed on model {ModelId}.")]
        public static partial void BatchFailed(ILogger logger, string modelId, int count, int length, Exception exception);
    }
}
