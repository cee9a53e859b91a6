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
/// Requests are admitted against a bound counted in inputs (full ⇒ <see cref="EmbeddingErrorKind.Overloaded"/>, with a
/// <c>Retry-After</c> from the drain estimate). Each runner thread, whenever it is free, asks the
/// <see cref="BatchScheduler"/> for the next batch: interactive requests first, bulk ones at a guaranteed share, each
/// lane's oldest input in every batch it starts, with companions of similar length. There is no delay timer and no
/// hand-off thread: a lone request on an idle server wakes a runner that runs it at once, and under load batches grow by
/// themselves because requests pile up while the runners are busy.
/// </para>
/// <para>
/// Runners are dedicated threads, not thread-pool threads: a forward pass blocks for milliseconds, and blocking pool
/// threads would starve the request handlers on a 2-core machine. One lock guards the queue; it is held only to add or
/// withdraw a request or to cut a batch (microseconds), never during a forward pass.
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
    private readonly IReadOnlyList<IBatchRunner> _runners;
    private readonly IBatchRunner? _loneRunner;
    private readonly BatchingOptions _options;
    private readonly EmbeddingMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Thread[] _runnerThreads;
    private readonly Action<EmbeddingJob> _withdraw;

    // Guarded by _gate (Monitor, so runners can wait on it for work).
    private readonly object _gate = new();
    private readonly BatchScheduler _scheduler;
    private readonly ThroughputMeter _throughput;
    private bool _completing;
    private bool _aborted;
    private int _running;

    /// <param name="seedTokensPerSecond">One runner's expected throughput before any batch is measured (from the model's
    /// warm-up): the drain estimate's starting point.</param>
    /// <param name="loneRunner">Runs a batch that has the model to itself; null: every batch goes to <paramref name="runner"/>.
    /// Must produce the same vectors as <paramref name="runner"/>.</param>
    /// <param name="runners">One per runner thread (the same one several times where they share a session).</param>
    public DynamicBatcher(string modelId, IReadOnlyList<IBatchRunner> runners, BatchingOptions options, EmbeddingMetrics metrics, ILogger logger,
        IBatchRunner? loneRunner = null, double seedTokensPerSecond = 1000)
    {
        _modelId = modelId;
        _runners = runners;
        _loneRunner = loneRunner;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _scheduler = new BatchScheduler(options, dropped => metrics.RecordDroppedInputs(modelId, dropped));
        _throughput = new ThroughputMeter(seedTokensPerSecond, runners.Count);
        _withdraw = Withdraw;

        _runnerThreads = new Thread[runners.Count];
        for (var i = 0; i < runners.Count; i++)
        {
            var runner = runners[i];
            _runnerThreads[i] = new Thread(() => RunBatches(runner)) { IsBackground = true, Name = $"runner-{modelId}-{i}" };
            _runnerThreads[i].Start();
        }
    }

    /// <summary>What waits, and how long it should take to run at the throughput measured now.</summary>
    public QueueSnapshot Snapshot()
    {
        lock (_gate)
        {
            return new QueueSnapshot(_scheduler.Inputs, _scheduler.Tokens, _throughput.DrainSeconds(_scheduler.Tokens));
        }
    }

    /// <summary>Queues <paramref name="inputs"/> and completes when all of them are embedded, in input order.</summary>
    /// <exception cref="EmbeddingException">The queue is full, or the batcher is shutting down.</exception>
    public async Task<(float[] Vectors, JobTimings Timings)> EmbedAsync(TokenizedInput[] inputs, CancellationToken cancellationToken)
    {
        var job = new EmbeddingJob(inputs, _runners[0].Dimensions, RequestLanes.Of(inputs, _options));
        var timings = await RunJobAsync(job, cancellationToken).ConfigureAwait(false);
        return (job.Output, timings);
    }

    /// <summary>Like <see cref="EmbedAsync"/>, but answers each input's token vectors (<c>length × dimensions</c>), unpooled.</summary>
    public async Task<(float[][] TokenVectors, JobTimings Timings)> EmbedTokensAsync(TokenizedInput[] inputs, CancellationToken cancellationToken)
    {
        var job = new EmbeddingJob(inputs, _runners[0].Dimensions, RequestLanes.Of(inputs, _options), tokenVectors: true);
        var timings = await RunJobAsync(job, cancellationToken).ConfigureAwait(false);
        return (job.TokenOutputs!, timings);
    }

    private async Task<JobTimings> RunJobAsync(EmbeddingJob job, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var inputs = job.Inputs;
        lock (_gate)
        {
            if (_completing)
            {
                throw new EmbeddingException(EmbeddingErrorKind.Unhealthy, "The service is shutting down.");
            }

            // Bulk requests may fill the queue only up to BulkQueueShare of it, so an ingestion job that fills the queue
            // does not turn queries away. A request larger than its lane's limit is still admitted into an empty queue, so
            // it can never be refused forever.
            var queued = _scheduler.Inputs;
            var limit = job.Lane == RequestLane.Bulk ? BulkQueueLimit(_options) : _options.MaxQueuedInputs;
            if (queued > 0 && queued + inputs.Length > limit)
            {
                throw new EmbeddingException(EmbeddingErrorKind.Overloaded, job.Lane == RequestLane.Bulk
                    ? $"Model overloaded: {queued} inputs are queued, and requests larger than one batch may fill {limit} of the {_options.MaxQueuedInputs} places."
                    : $"Model overloaded: {queued} inputs are queued and the limit is {_options.MaxQueuedInputs}.")
                {
                    // The API rounds it up to whole seconds, at least 1.
                    RetryAfter = TimeSpan.FromSeconds(_throughput.DrainSeconds(_scheduler.Tokens)),
                };
            }

            _scheduler.Add(job);
            Monitor.Pulse(_gate);
        }

        job.RegisterCancellation(cancellationToken, _withdraw);
        return await job.Completion.ConfigureAwait(false);
    }

    /// <summary>The share of <see cref="BatchingOptions.MaxQueuedInputs"/> that bulk requests may fill: the rest stays
    /// free for interactive ones.</summary>
    public const double BulkQueueShare = 0.75;

    /// <summary>Queued inputs beyond which a bulk request is refused.</summary>
    public static int BulkQueueLimit(BatchingOptions options) => Math.Max(1, (int)(options.MaxQueuedInputs * BulkQueueShare));

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

    private void RunBatches(IBatchRunner runner)
    {
        var rows = new List<int[]>();
        var tokenRows = new List<float[]?>();
        while (TakeBatch(out var alone, out var backlogged) is { } batch)
        {
            // Inputs of callers that went away since the batch was cut are not worth a padded row.
            if (batch.RemoveAbandoned() is var dropped and > 0)
            {
                _metrics.RecordDroppedInputs(_modelId, dropped);
            }

            if (batch.Items.Count > 0)
            {
                RunBatch(batch, rows, tokenRows, alone && _loneRunner is not null ? _loneRunner : runner, backlogged);
            }
            else
            {
                EndPass(measured: null, TimeSpan.Zero);
            }
        }
    }

    /// <summary>The next batch to run; waits while there is nothing. Null when the batcher is drained (or aborted). The
    /// caller owes one <see cref="EndPass"/> per batch.</summary>
    /// <param name="alone">No other batch of this model runs and nothing else waits.</param>
    /// <param name="backlogged">More work waits behind this batch: its pass shows the throughput of a model with a queue.</param>
    private Batch? TakeBatch(out bool alone, out bool backlogged)
    {
        alone = false;
        backlogged = false;
        lock (_gate)
        {
            while (true)
            {
                if (_aborted)
                {
                    FailEverything(new EmbeddingException(EmbeddingErrorKind.Unhealthy, "The service shut down before this request ran."));
                    return null;
                }

                var next = TakeNext();
                if (next is not null)
                {
                    if (!_scheduler.IsEmpty)
                    {
                        // More is waiting: wake another idle runner for it.
                        Monitor.Pulse(_gate);
                    }

                    alone = _running == 0 && _scheduler.IsEmpty;
                    backlogged = !_scheduler.IsEmpty;
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

    /// <summary>The scheduler's next batch; if scheduling throws (a bug), fails everything queued rather than leave
    /// callers waiting forever, and says so loudly.</summary>
    private Batch? TakeNext()
    {
        try
        {
            return _scheduler.TakeNext();
        }
        catch (Exception ex)
        {
            Log.SchedulingFailed(_logger, _modelId, ex);
            FailEverything(new EmbeddingException(EmbeddingErrorKind.Backend, "Scheduling the request failed.", innerException: ex));
            return null;
        }
    }

    /// <summary>A caller went away: its waiting inputs leave the queue now, so they stop counting against its bound.</summary>
    private void Withdraw(EmbeddingJob job)
    {
        lock (_gate)
        {
            _scheduler.Withdraw(job);
        }
    }

    private void FailEverything(EmbeddingException error)
    {
        foreach (var job in _scheduler.Clear())
        {
            job.Fail(error);
        }
    }

    /// <summary>A batch taken by <see cref="TakeBatch"/> no longer runs. Called before its callers are completed, so a
    /// caller's next request already sees the model idle (and may get the lone-request runner).</summary>
    /// <param name="measured">A pass that succeeded with work waiting behind it, to measure the throughput by; else null.</param>
    private void EndPass(Batch? measured, TimeSpan duration)
    {
        lock (_gate)
        {
            _running--;
            if (measured is not null)
            {
                _throughput.PassFinished(measured.Tokens, duration);
            }
        }
    }

    private void RunBatch(Batch batch, List<int[]> rows, List<float[]?> tokenRows, IBatchRunner runner, bool backlogged)
    {
        var started = Stopwatch.GetTimestamp();
        rows.Clear();
        tokenRows.Clear();
        var wantsTokens = false;
        foreach (var item in batch.Items)
        {
            item.Job.MarkRunning(started);
            rows.Add(item.Job.Inputs[item.Index].Ids);
            var tokens = item.Job.TokenOutputs?[item.Index];
            tokenRows.Add(tokens);
            wantsTokens |= tokens is not null;
        }

        var dimensions = _runners[0].Dimensions;
        var size = batch.Items.Count * dimensions;
        var output = ArrayPool<float>.Shared.Rent(size);
        try
        {
            Exception? failure = null;
            try
            {
                runner.Run(rows, output.AsSpan(0, size), wantsTokens ? tokenRows : null);
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            var duration = Stopwatch.GetElapsedTime(started);
            // The lone-request session runs only when nothing waits, so a backlogged pass is always a shared one.
            EndPass(failure is null && backlogged ? batch : null, duration);
            if (failure is not null)
            {
                FailBatch(batch, failure);
                return;
            }

            _metrics.RecordBatch(_modelId, batch.Items.Count, batch.PaddedTokens, duration, ReferenceEquals(runner, _loneRunner) ? "lone" : "shared");
            for (var row = 0; row < batch.Items.Count; row++)
            {
                var item = batch.Items[row];
                output.AsSpan(row * dimensions, dimensions).CopyTo(item.Job.Output.AsSpan(item.Index * dimensions, dimensions));
                item.Job.MarkDone(1);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(output);
        }
    }

    /// <summary>Fails every request with an input in a batch whose pass threw, and takes their other waiting inputs out of
    /// the queue (a failed request is answered; its other inputs are not worth a pass).</summary>
    private void FailBatch(Batch batch, Exception failure)
    {
        Log.BatchFailed(_logger, _modelId, batch.Items.Count, batch.MaxLength, failure);
        var error = new EmbeddingException(EmbeddingErrorKind.Backend, $"Inference failed: {failure.Message}", innerException: failure);
        lock (_gate)
        {
            foreach (var item in batch.Items)
            {
                item.Job.Fail(error);
                _scheduler.Withdraw(item.Job);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Critical, "Scheduling batches for model {ModelId} failed.")]
        public static partial void SchedulingFailed(ILogger logger, string modelId, Exception exception);

        [LoggerMessage(2, LogLevel.Error, "A batch of {Count} inputs (padded to {Length} tokens) failed on model {ModelId}.")]
        public static partial void BatchFailed(ILogger logger, string modelId, int count, int length, Exception exception);
    }
}
