namespace EmbeddingService.Inference.Batching;

/// <summary>
/// One lane's waiting inputs in arrival order, and how the next batch is cut from them: around the oldest waiting input,
/// with the inputs nearest to it in length among the lane's <see cref="BatchingOptions.WindowInputs"/> oldest, under
/// <see cref="BatchingOptions.MaxBatchSize"/> and <see cref="BatchingOptions.MaxBatchTokens"/>.
/// <para>
/// The oldest input is in every batch the lane starts, so an input with <c>q</c> inputs of its lane waiting ahead of it
/// is in one of the lane's next <c>q + 1</c> batches, whatever comes in after it: a newer input can ride along in a batch,
/// never take an older one's place. Companions of similar length keep padding low.
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

        job.MarkWithdrawn();
        Inputs -= job.Waiting;
        Tokens -= job.WaitingTokens;
        if (job.Waiting > 0)
        {
            onDropped(job.Waiting);
        }
    }

    /// <summary>Empties the lane (shutdown, a scheduling failure) and returns its jobs still in flight, to be failed.
    /// They are marked withdrawn, so a cancellation arriving afterwards takes nothing from the emptied counts.</summary>
    public List<EmbeddingJob> Clear()
    {
        var inFlight = _jobs.FindAll(static job => !job.Withdrawn && !job.IsAbandoned);
        foreach (var job in _jobs)
        {
            job.MarkWithdrawn();
        }

        _jobs.Clear();
        Inputs = 0;
        Tokens = 0;
        return inFlight;
    }

    /// <summary>The next batch: the oldest waiting input and its nearest neighbours in length; null when the lane is empty.</summary>
    public Batch? TakeBatch(BatchingOptions options)
    {
        if (!PrepareWindow(options))
        {
            return null;
        }

        var anchor = _window.FindIndex(static c => c.Age == 0);
        var batch = new Batch();
        var (first, last) = Grow(anchor, anchor, 1, _window[anchor].Length, options.MaxBatchSize, options.MaxBatchTokens);
        Take(batch, first, last);
        return batch;
    }

    /// <summary>Adds inputs of this lane nearest in length to <paramref name="batch"/>'s longest, while the batch stays
    /// within <see cref="BatchingOptions.MaxBatchSize"/> and <paramref name="maxTokens"/> padded tokens.</summary>
    public void TopUp(Batch batch, BatchingOptions options, int maxTokens)
    {
        if (batch.Items.Count >= options.MaxBatchSize || !PrepareWindow(options))
        {
            return;
        }

        // An empty run at the place the batch's longest input would take in the sorted window.
        var place = _window.FindIndex(c => c.Length > batch.MaxLength);
        place = place < 0 ? _window.Count : place;
        var (first, last) = Grow(place, place - 1, batch.Items.Count, batch.MaxLength, options.MaxBatchSize, maxTokens);
        Take(batch, first, last);
    }

    /// <summary>Drops finished and withdrawn jobs and sorts the lane's oldest inputs by length (equal lengths in arrival
    /// order); false when nothing waits.</summary>
    private bool PrepareWindow(BatchingOptions options)
    {
        _jobs.RemoveAll(static job => job.Withdrawn || job.Waiting == 0);
        GatherWindow(options.WindowInputs);
        if (_window.Count == 0)
        {
            // Waiting inputs that no window can reach would never run: fail loudly (the batcher fails what is queued).
            return Inputs == 0 ? false : throw new InvalidOperationException($"{Inputs} inputs are counted as waiting but none can be scheduled.");
        }

        _window.Sort(static (a, b) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.Age.CompareTo(b.Age));
        return true;
    }

    /// <summary>Moves the window's inputs <paramref name="first"/>..<paramref name="last"/> into the batch and out of the lane.</summary>
    private void Take(Batch batch, int first, int last)
    {
        for (var i = first; i <= last; i++)
        {
            var item = _window[i].Item;
            batch.Add(item);
            item.Job.MarkScheduled(item.Index);
            Inputs--;
            Tokens -= item.Length;
        }

        _window.Clear();
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
    /// Grows the run <paramref name="first"/>..<paramref name="last"/> of the length-sorted window (inclusive; empty when
    /// last &lt; first) one input at a time, taking the neighbour that adds the fewest padded tokens to a batch of
    /// <paramref name="count"/> inputs padded to <paramref name="longest"/>: a shorter one is padded up to the longest, a
    /// longer one pads every row already in. Stops at <paramref name="maxSize"/> inputs, or when neither neighbour fits
    /// <paramref name="maxTokens"/> (so an input over the budget runs alone).
    /// </summary>
    private (int First, int Last) Grow(int first, int last, int count, int longest, int maxSize, int maxTokens)
    {
        for (; count < maxSize; count++)
        {
            var shorterWaste = long.MaxValue;
            if (first > 0 && (long)Math.Max(longest, _window[first - 1].Length) * (count + 1) <= maxTokens)
            {
                shorterWaste = longest - _window[first - 1].Length;
            }

            var longerWaste = long.MaxValue;
            if (last < _window.Count - 1 && (long)Math.Max(longest, _window[last + 1].Length) * (count + 1) <= maxTokens)
            {
                longerWaste = (long)Math.Max(0, _window[last + 1].Length - longest) * count;
            }

            if (shorterWaste == long.MaxValue && longerWaste == long.MaxValue)
            {
                break;
            }

            if (longerWaste <= shorterWaste)
            {
                longest = Math.Max(longest, _window[++last].Length);
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
