namespace EmbeddingService.Inference.Batching;

/// <summary>
/// Who runs next: one model's two lanes (<see cref="RequestLane"/>) and the rule between them. Pure logic, no threads and
/// no clock: the batcher calls it under its lock whenever a runner is free.
/// <para>
/// <b>Interactive first.</b> A request that fits in one batch waits in the interactive lane, which gets the next batch
/// whenever it has inputs waiting, except that after <see cref="BatchingOptions.InteractiveBatchesPerBulkBatch"/> (R)
/// interactive batches in a row while bulk inputs wait, one bulk batch goes first. So a query waits for the batches
/// already running, not behind a whole ingestion job, and a flood of small requests cannot stop an ingestion job either.
/// An interactive batch with room left takes bulk inputs of its length along, up to
/// <see cref="BatchingOptions.InteractiveBatchTokens"/> padded tokens.
/// </para>
/// <para>
/// <b>The starvation bound.</b> Each lane's batch holds its oldest waiting input (<see cref="LaneQueue"/>). Count the
/// batches that start after an input was queued, its own included: with <c>q</c> inputs of its lane waiting ahead of it
/// then, an interactive input is in one of the next <c>(q + 1) + ⌈(q + 1) / R⌉</c> batches, a bulk input in one of the
/// next <c>(q + 1)(R + 1)</c>. Nothing that arrives later counts: newer inputs can only ride along in a batch, and cancelled
/// ones leave. Bulk inputs riding in an interactive batch only shorten the bulk lane. <c>q</c> is bounded by <see cref="BatchingOptions.MaxQueuedInputs"/> (or by one request, admitted into an
/// empty queue). The property tests in <c>StarvationBoundTests</c> pin both bounds under adversarial arrivals.
/// </para>
/// </summary>
internal sealed class BatchScheduler
{
    private readonly BatchingOptions _options;
    private readonly LaneQueue _interactive;
    private readonly LaneQueue _bulk;

    // Interactive batches started in a row while bulk inputs waited.
    private int _interactiveStreak;

    /// <param name="onDropped">Told how many waiting inputs left the queue because their caller went away.</param>
    public BatchScheduler(BatchingOptions options, Action<int> onDropped)
    {
        _options = options;
        _interactive = new LaneQueue(onDropped);
        _bulk = new LaneQueue(onDropped);
    }

    /// <summary>Inputs waiting for a batch, in both lanes.</summary>
    public int Inputs => _interactive.Inputs + _bulk.Inputs;

    /// <summary>Tokens of the inputs waiting for a batch, in both lanes.</summary>
    public long Tokens => _interactive.Tokens + _bulk.Tokens;

    public bool IsEmpty => Inputs == 0;

    public void Add(EmbeddingJob job) => LaneOf(job).Add(job);

    /// <summary>Takes the waiting inputs of a job whose caller went away, or that failed, out of the queue (idempotent).</summary>
    public void Withdraw(EmbeddingJob job) => LaneOf(job).Withdraw(job);

    /// <summary>The next batch to run, or null when nothing waits.</summary>
    public Batch? TakeNext()
    {
        var bulkWaits = !_bulk.IsEmpty;
        if (!_interactive.IsEmpty && (!bulkWaits || _interactiveStreak < _options.InteractiveBatchesPerBulkBatch))
        {
            _interactiveStreak = bulkWaits ? _interactiveStreak + 1 : 0;
            var batch = _interactive.TakeBatch(_options)!;
            if (bulkWaits)
            {
                // Room left in a query's batch carries bulk inputs of its length, up to a smaller budget than a full batch's
                // so the query's pass stays short: a pass of one short input costs far more per input than one of several
                // (on this project's 2-core EPYC, 4.2 ms for one against 18.4 ms for eight), so that pass does bulk work
                // too, and a stream of queries takes less from bulk throughput.
                _bulk.TopUp(batch, _options, _options.InteractiveBatchTokens);
            }

            return batch;
        }

        _interactiveStreak = 0;
        return _bulk.TakeBatch(_options);
    }

    /// <summary>Empties both lanes (shutdown, a scheduling failure) and returns the jobs that had inputs waiting.</summary>
    public List<EmbeddingJob> Clear()
    {
        var jobs = _interactive.Clear();
        jobs.AddRange(_bulk.Clear());
        return jobs;
    }

    private LaneQueue LaneOf(EmbeddingJob job) => job.Lane == RequestLane.Interactive ? _interactive : _bulk;
}
