using System.Diagnostics;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Inference.Batching;

/// <summary>
/// One request's inputs for one model on their way through the batcher. Its inputs may be spread over several batches,
/// in any order (a batch takes inputs of similar length); each batch writes its rows into <see cref="Output"/> at the
/// inputs' own indexes, so the result is in input order.
/// </summary>
internal sealed class EmbeddingJob
{
    private readonly TaskCompletionSource<JobTimings> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly bool[] _scheduled;
    private int _pending;
    private long _firstRunTimestamp;
    private CancellationTokenRegistration _cancellation;

    /// <param name="tokenVectors">Keep each input's token vectors too (<see cref="TokenOutputs"/>).</param>
    public EmbeddingJob(TokenizedInput[] inputs, int dimensions, RequestLane lane, bool tokenVectors = false)
    {
        Inputs = inputs;
        Lane = lane;
        Output = new float[inputs.Length * dimensions];
        TokenOutputs = tokenVectors ? Array.ConvertAll(inputs, input => new float[input.Length * dimensions]) : null;
        _scheduled = new bool[inputs.Length];
        _pending = inputs.Length;
        Waiting = inputs.Length;
        foreach (var input in inputs)
        {
            WaitingTokens += input.Length;
        }

        EnqueuedTimestamp = Stopwatch.GetTimestamp();
    }

    public TokenizedInput[] Inputs { get; }

    public RequestLane Lane { get; }

    /// <summary>Pooled vectors, <c>Inputs.Length × dimensions</c>, filled by the runners.</summary>
    public float[] Output { get; }

    /// <summary>Per input, its token vectors (<c>length × dimensions</c>), when the job asked for them; else null.</summary>
    public float[][]? TokenOutputs { get; }

    public long EnqueuedTimestamp { get; }

    // The scheduling state below is touched only by the scheduler, under the batcher's lock.

    /// <summary>Inputs not yet put in a batch.</summary>
    public int Waiting { get; private set; }

    /// <summary>Tokens of the inputs not yet put in a batch.</summary>
    public long WaitingTokens { get; private set; }

    /// <summary>The lowest index not yet put in a batch (<see cref="Inputs"/>.Length when none is left).</summary>
    public int FirstWaiting { get; private set; }

    /// <summary>Taken out of its lane (its caller went away, it failed, or the lane was emptied): its waiting inputs no
    /// longer count.</summary>
    public bool Withdrawn { get; private set; }

    public void MarkWithdrawn() => Withdrawn = true;

    public bool IsWaiting(int index) => !_scheduled[index];

    /// <summary>Input <paramref name="index"/> has been put in a batch.</summary>
    public void MarkScheduled(int index)
    {
        Debug.Assert(!_scheduled[index], "An input was put in two batches.");
        _scheduled[index] = true;
        Waiting--;
        WaitingTokens -= Inputs[index].Length;
        while (FirstWaiting < _scheduled.Length && _scheduled[FirstWaiting])
        {
            FirstWaiting++;
        }
    }

    /// <summary>Cancelled, timed out or failed: its remaining inputs are skipped.</summary>
    public bool IsAbandoned => _completion.Task.IsCompleted;

    public Task<JobTimings> Completion => _completion.Task;

    /// <summary>When <paramref name="cancellationToken"/> fires, the job is cancelled and <paramref name="onAbandoned"/> runs
    /// (on the cancelling thread), so its waiting inputs can leave the queue at once rather than when a runner next looks.
    /// Called after the job is queued, so that <paramref name="onAbandoned"/> always finds it there.</summary>
    public void RegisterCancellation(CancellationToken cancellationToken, Action<EmbeddingJob> onAbandoned)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var (job, onAbandoned) = ((EmbeddingJob, Action<EmbeddingJob>))state!;
                if (job._completion.TrySetCanceled(token))
                {
                    onAbandoned(job);
                }
            }, (this, onAbandoned));
            if (IsAbandoned)
            {
                // It ended before the registration was stored: nothing would remove it otherwise.
                _cancellation.Unregister();
            }
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
            // Unregister, not Dispose: Dispose waits for a cancellation callback already running, which may be waiting
            // for the batcher's lock held by this thread's caller.
            _cancellation.Unregister();
            _completion.TrySetResult(new JobTimings(
                Stopwatch.GetElapsedTime(EnqueuedTimestamp, firstRun),
                Stopwatch.GetElapsedTime(firstRun, now)));
        }
    }

    public void Fail(Exception exception)
    {
        _cancellation.Unregister();
        _completion.TrySetException(exception);
    }
}

/// <summary>Where a job's time went: waiting for its first batch, then from that batch's start to its last batch's end.</summary>
public readonly record struct JobTimings(TimeSpan Queue, TimeSpan Inference);
