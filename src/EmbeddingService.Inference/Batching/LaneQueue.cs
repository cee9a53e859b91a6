namespace EmbeddingService.Inference.Batching;

/// <summary>
/// One lane's waiting inputs in arrival order, and how the next batch is cut from them: around the oldest waiting input,
/// with the inputs nearest to it in length among the lane's <see cref="BatchingOptions.WindowInputs"/> oldest, under
/// <see cref="BatchingOptions.MaxBatchSize"/> and <see cref="BatchingOptions.MaxBatchTokens"/>.
/// <para>
/// The oldest input is in every batch the lane starts, so an input with <c>q</c> inputs of its lane waiting ahead of it
/// is in one of the lane's next <c>q + 1</c> batches, whatever comes in after it: a newer input can ride along in a batch,
/// never take an older one's place. Companions of similar length keep padding low, as a length-sorted window did.
/// </para>
/// Not thread-safe: the batcher calls it under its lock.
/// </summary>
internal sealed class LaneQueue(Action<int> onDropped)
{
    private readonly List<EmbeddingJob> _jobs = [];
    private readonly List<Candidate> _window = [];

    /// <summary>Inputs waiting for a batch.</summary>
    public int Inputs { get; private set; }

    /// <summary>Tokens of the inputs waiting for a batch.</summary>
    public long Tokens { get; private set; }

    public bool IsEmpty => Inputs == 0;

    public void Add(EmbeddingJob job)
    {
        _jobs.Add(job);
        Inputs += job.Waiting;
        Tokens += job.WaitingTokens;
    }

    /// <summary>Takes a job's waiting inputs out of the lane (its caller went away, or it failed). Idempotent; the job
    /// leaves the list at the next batch.</summary>
    public void Withdraw(EmbeddingJob job)
    {
        if (job.Withdrawn)
        {
            return;
        }

        job.Withdrawn = true;
        Inputs -= job.Waiting;
        Tokens -= job.WaitingTokens;
        if (job.Waiting > 0)
        {
            onDropped(job.Waiting);
        }
    }

    /// <summary>Withdraws every job whose caller went away without the batcher hearing of it yet (a failed job, or a
    /// cancellation racing this call).</summary>
    public void WithdrawAbandoned()
    {
        foreach (var job in _jobs)
        {
            if (job.IsAbandoned)
            {
                Withdraw(job);
            }
        }
    }

    /// <summary>Empties the lane (shutdown, planning failure) and returns the jobs that had inputs waiting.</summary>
    public List<EmbeddingJob> Clear()
    {
        var waiting = _jobs.FindAll(static job => !job.Withdrawn && job.Waiting > 0);
        _jobs.Clear();
        Inputs = 0;
        Tokens = 0;
        return waiting;
    }

    /// <summary>The next batch: the oldest waiting input and its nearest neighbours in length. Call
    /// <see cref="WithdrawAbandoned"/> first; then it returns a batch whenever the lane is not empty.</summary>
    public Batch? TakeBatch(BatchingOptions options)
    {
        _jobs.RemoveAll(static job => job.Withdrawn || job.Waiting == 0);
        GatherWindow(options.WindowInputs);
        if (_window.Count == 0)
        {
            return null;
        }

        // Stable by construction: equal lengths keep arrival order (Age), so the anchor is the first of its length.
        _window.Sort(static (a, b) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.Age.CompareTo(b.Age));
        var anchor = _window.FindIndex(static c => c.Age == 0);
        var (first, last) = GrowAround(anchor, options);

        var batch = new Batch();
        for (var i = first; i <= last; i++)
        {
            var item = _window[i].Item;
            batch.Add(item);
            item.Job.MarkScheduled(item.Index);
        }

        Inputs -= batch.Items.Count;
        Tokens -= batch.Tokens;
        _window.Clear();
        return batch;
    }

    /// <summary>The lane's oldest waiting inputs, in arrival order (Age 0 is the oldest).</summary>
    private void GatherWindow(int size)
    {
        _window.Clear();
        foreach (var job in _jobs)
        {
            for (var index = job.FirstWaiting; index < job.Inputs.Length; index++)
            {
                if (_window.Count == size)
                {
                    return;
                }

                if (job.IsWaiting(index))
                {
                    _window.Add(new Candidate(new BatchItem(job, index), job.Inputs[index].Length, _window.Count));
                }
            }
        }
    }

    /// <summary>
    /// Grows a run of the length-sorted window around the anchor, one input at a time, taking the neighbour that adds the
    /// fewest padded tokens: a shorter one is padded up to the run's longest, a longer one pads every row already in. Stops
    /// at the batch size, or when neither neighbour fits the token budget (an input over the budget runs alone).
    /// </summary>
    private (int First, int Last) GrowAround(int anchor, BatchingOptions options)
    {
        int first = anchor, last = anchor;
        var longest = _window[anchor].Length;
        for (var count = 1; count < options.MaxBatchSize; count++)
        {
            var shorterWaste = long.MaxValue;
            if (first > 0 && (long)longest * (count + 1) <= options.MaxBatchTokens)
            {
                shorterWaste = longest - _window[first - 1].Length;
            }

            var longerWaste = long.MaxValue;
            if (last < _window.Count - 1 && (long)_window[last + 1].Length * (count + 1) <= options.MaxBatchTokens)
            {
                longerWaste = (long)(_window[last + 1].Length - longest) * count;
            }

            if (shorterWaste == long.MaxValue && longerWaste == long.MaxValue)
            {
                break;
            }

            if (longerWaste <= shorterWaste)
            {
                longest = _window[++last].Length;
            }
            else
            {
                first--;
            }
        }

        return (first, last);
    }

    private readonly record struct Candidate(BatchItem Item, int Length, int Age);
}
