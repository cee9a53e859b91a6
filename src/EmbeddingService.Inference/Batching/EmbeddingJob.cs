using System.Diagnostics;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Inference.Batching;

/// <summary>
/// One request's inputs for one model on their way through the batcher. Its inputs may be spread over several batches;
/// each batch writes its rows into <see cref="Output"/> at the inputs' own indexes, so the result is in input order.
/// </summary>
internal sealed class EmbeddingJob
{
    private readonly TaskCompletionSource<JobTimings> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pending;
    private long _firstRunTimestamp;
    private CancellationTokenRegistration _cancellation;

    public EmbeddingJob(TokenizedInput[] inputs, int dimensions)
    {
        Inputs = inputs;
        Output = new float[inputs.Length * dimensions];
        _pending = inputs.Length;
        EnqueuedTimestamp = Stopwatch.GetTimestamp();
    }

    public TokenizedInput[] Inputs { get; }

    /// <summary>Pooled vectors, <c>Inputs.Length × dimensions</c>, filled by the runners.</summary>
    public float[] Output { get; }

    public long EnqueuedTimestamp { get; }

    /// <summary>The next input not yet put in a batch. Touched only by the batching loop.</summary>
    public int NextToSchedule { get; set; }

    public bool IsFullyScheduled => NextToSchedule >= Inputs.Length;

    /// <summary>None of its inputs has been put in a batch yet.</summary>
    public bool IsUnplanned => NextToSchedule == 0;

    /// <summary>Cancelled, timed out or failed: its remaining inputs are skipped.</summary>
    public bool IsAbandoned => _completion.Task.IsCompleted;

    public Task<JobTimings> Completion => _completion.Task;

    public void RegisterCancellation(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(
                static (state, token) => ((EmbeddingJob)state!)._completion.TrySetCanceled(token), this);
        }
    }

    /// <summary>Called by a runner when the batch holding some of this job's inputs starts.</summary>
    public void MarkRunning(long timestamp) => Interlocked.CompareExchange(ref _firstRunTimestamp, timestamp, 0);

    /// <summary>Called by a runner when <paramref name="count"/> of this job's inputs are in <see cref="Output"/>.</summary>
    public void MarkDone(int count)
    {
        if (Interlocked.Add(ref _pending, -count) == 0)
        {
            var now = Stopwatch.GetTimestamp();
            var firstRun = Interlocked.Read(ref _firstRunTimestamp);
            _cancellation.Dispose();
            _completion.TrySetResult(new JobTimings(
                Stopwatch.GetElapsedTime(EnqueuedTimestamp, firstRun),
                Stopwatch.GetElapsedTime(firstRun, now)));
        }
    }

    public void Fail(Exception exception)
    {
        _cancellation.Dispose();
        _completion.TrySetException(exception);
    }
}

/// <summary>Where a job's time went: waiting for its first batch, then from that batch's start to its last batch's end.</summary>
public readonly record struct JobTimings(TimeSpan Queue, TimeSpan Inference);
