using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using EmbeddingService.Inference.Diagnostics;
using EmbeddingService.Inference.Runtime;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Inference.Batching;

/// <summary>
/// The queue, the batching loop and the runner threads of one model.
/// <para>
/// Requests are admitted against a bound counted in inputs (full ⇒ <see cref="EmbeddingErrorKind.Overloaded"/>) and queued
/// in a channel. One loop waits until a runner slot is free, then plans a window of what is queued
/// (<see cref="BatchPlanner"/>) and hands batches to the runner threads one at a time. There is no delay timer: a lone
/// request on an idle server runs at once, and under load batches grow by themselves because requests pile up while the
/// runners are busy. One slot more than there are runners lets the next batch be ready the moment a runner frees up.
/// </para>
/// <para>
/// Runners are dedicated threads, not thread-pool threads: a forward pass blocks for milliseconds, and blocking pool
/// threads would starve the request handlers on a 2-core machine.
/// </para>
/// </summary>
internal sealed partial class DynamicBatcher : IAsyncDisposable
{
    private readonly string _modelId;
    private readonly IBatchRunner _runner;
    private readonly BatchingOptions _options;
    private readonly EmbeddingMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Channel<EmbeddingJob> _incoming;
    private readonly BlockingCollection<Batch> _ready;
    private readonly SemaphoreSlim _freeSlots;
    private readonly Thread[] _runnerThreads;
    private readonly CancellationTokenSource _abort = new();
    private readonly Task _loop;
    private int _queuedInputs;

    public DynamicBatcher(string modelId, IBatchRunner runner, BatchingOptions options, int runners, EmbeddingMetrics metrics, ILogger logger)
    {
        _modelId = modelId;
        _runner = runner;
        _options = options;
        _metrics = metrics;
        _logger = logger;

        // Admission is bounded by _queuedInputs (inputs, not requests); the channel's own bound is the same number and
        // can never be the one that is hit, since every job holds at least one input.
        _incoming = Channel.CreateBounded<EmbeddingJob>(new BoundedChannelOptions(options.MaxQueuedInputs)
        {
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _ready = new BlockingCollection<Batch>(new ConcurrentQueue<Batch>(), runners + 1);
        _freeSlots = new SemaphoreSlim(runners + 1, runners + 1);

        _runnerThreads = new Thread[runners];
        for (var i = 0; i < runners; i++)
        {
            _runnerThreads[i] = new Thread(RunBatches) { IsBackground = true, Name = $"runner-{modelId}-{i}" };
            _runnerThreads[i].Start();
        }

        _loop = Task.Run(BatchLoopAsync);
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
        if (!_incoming.Writer.TryWrite(job))
        {
            Interlocked.Add(ref _queuedInputs, -count);
            throw new EmbeddingException(EmbeddingErrorKind.Unhealthy, "The service is shutting down.");
        }

        job.RegisterCancellation(cancellationToken);
        var timings = await job.Completion.ConfigureAwait(false);
        return (job.Output, timings);
    }

    /// <summary>Stops taking new work, finishes everything already queued, then stops the runners.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        _incoming.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Out of time: abandon what is still queued rather than hang the shutdown.
            await _abort.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        foreach (var thread in _runnerThreads)
        {
            thread.Join();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DrainAsync(new CancellationToken(canceled: true)).ConfigureAwait(false);
        _abort.Dispose();
        _freeSlots.Dispose();
        _ready.Dispose();
    }

    private async Task BatchLoopAsync()
    {
        var queued = new List<EmbeddingJob>();
        var planned = new Queue<Batch>();
        var reader = _incoming.Reader;
        try
        {
            while (true)
            {
                await _freeSlots.WaitAsync(_abort.Token).ConfigureAwait(false);

                while (planned.Count == 0)
                {
                    while (reader.TryRead(out var job))
                    {
                        queued.Add(job);
                    }

                    DropAbandoned(queued);
                    if (queued.Count > 0)
                    {
                        foreach (var batch in BatchPlanner.PlanWindow(queued, _options))
                        {
                            Interlocked.Add(ref _queuedInputs, -batch.Items.Count);
                            planned.Enqueue(batch);
                        }
                    }
                    else if (!await reader.WaitToReadAsync(_abort.Token).ConfigureAwait(false))
                    {
                        return; // completed by DrainAsync and everything queued has been planned
                    }
                }

                _ready.Add(planned.Dequeue());
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            var error = new EmbeddingException(EmbeddingErrorKind.Unhealthy, "The service shut down before this request ran.");
            foreach (var job in queued.Concat(planned.SelectMany(static b => b.Items.Select(static i => i.Job))))
            {
                job.Fail(error);
            }

            while (reader.TryRead(out var job))
            {
                job.Fail(error);
            }
        }
        catch (Exception ex)
        {
            // A bug in planning must not leave callers waiting forever: fail what we hold, and say so loudly.
            Log.BatchLoopFailed(_logger, _modelId, ex);
            var error = new EmbeddingException(EmbeddingErrorKind.Backend, "The batching loop failed.", innerException: ex);
            foreach (var job in queued)
            {
                job.Fail(error);
            }

            throw;
        }
        finally
        {
            _ready.CompleteAdding();
        }
    }

    /// <summary>Removes cancelled or timed-out jobs and gives their unscheduled inputs back to the queue bound.</summary>
    private void DropAbandoned(List<EmbeddingJob> queued)
    {
        for (var i = queued.Count - 1; i >= 0; i--)
        {
            var job = queued[i];
            if (job.IsAbandoned)
            {
                var unscheduled = job.Inputs.Length - job.NextToSchedule;
                Interlocked.Add(ref _queuedInputs, -unscheduled);
                _metrics.RecordDroppedInputs(_modelId, unscheduled);
                queued.RemoveAt(i);
            }
        }
    }

    private void RunBatches()
    {
        var rows = new List<int[]>();
        foreach (var batch in _ready.GetConsumingEnumerable())
        {
            try
            {
                // Inputs of callers that went away since planning are not worth a padded row.
                batch.Items.RemoveAll(static item => item.Job.IsAbandoned);
                if (batch.Items.Count > 0)
                {
                    RunBatch(batch, rows);
                }
            }
            finally
            {
                _freeSlots.Release();
            }
        }
    }

    private void RunBatch(Batch batch, List<int[]> rows)
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
            _runner.Run(rows, output.AsSpan(0, size));
        }
        catch (Exception ex)
        {
            Log.BatchFailed(_logger, _modelId, batch.Items.Count, batch.MaxLength, ex);
            var error = new EmbeddingException(EmbeddingErrorKind.Backend, $"Inference failed: {ex.Message}", innerException: ex);
            foreach (var item in batch.Items)
            {
                item.Job.Fail(error);
            }

            ArrayPool<float>.Shared.Return(output);
            return;
        }

        _metrics.RecordBatch(_modelId, batch.Items.Count, batch.PaddedTokens, Stopwatch.GetElapsedTime(started));
        for (var row = 0; row < batch.Items.Count; row++)
        {
            var item = batch.Items[row];
            output.AsSpan(row * dimensions, dimensions).CopyTo(item.Job.Output.AsSpan(item.Index * dimensions, dimensions));
            item.Job.MarkDone(1);
        }

        ArrayPool<float>.Shared.Return(output);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Critical, "The batching loop of model {ModelId} failed.")]
        public static partial void BatchLoopFailed(ILogger logger, string modelId, Exception exception);

        [LoggerMessage(2, LogLevel.Error, "A batch of {Count} inputs (padded to {Length} tokens) failed on model {ModelId}.")]
        public static partial void BatchFailed(ILogger logger, string modelId, int count, int length, Exception exception);
    }
}
