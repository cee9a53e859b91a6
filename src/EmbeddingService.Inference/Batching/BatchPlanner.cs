namespace EmbeddingService.Inference.Batching;

/// <summary>
/// Turns what is queued into batches, with no timer: called whenever a runner is free.
/// <list type="number">
/// <item>Fill a window of up to <see cref="BatchingOptions.WindowInputs"/> inputs, taking from the queued jobs in arrival order,
/// at most <see cref="BatchingOptions.MaxBatchSize"/> inputs from each job per pass. A 2,000-input request thus takes one
/// batch's worth per window and everyone behind it still gets into the next window: no caller starves.</item>
/// <item>Sort the window by token count, so inputs of similar length share a batch and padding stays low.</item>
/// <item>Cut it into batches under <see cref="BatchingOptions.MaxBatchSize"/> and <see cref="BatchingOptions.MaxBatchTokens"/>
/// (padded tokens = longest × count).</item>
/// </list>
/// Pure logic, no threads: the batching loop owns the state it is given.
/// </summary>
internal static class BatchPlanner
{
    /// <summary>Plans the next window from <paramref name="queued"/> (jobs in arrival order with unscheduled inputs),
    /// advances their <see cref="EmbeddingJob.NextToSchedule"/>, and drops jobs that are now fully scheduled.</summary>
    /// <returns>The batches, shortest inputs first; empty only when nothing is queued.</returns>
    public static List<Batch> PlanWindow(List<EmbeddingJob> queued, BatchingOptions options)
    {
        var window = new List<BatchItem>(Math.Min(options.WindowInputs, 1024));
        var progress = true;
        while (progress && window.Count < options.WindowInputs)
        {
            progress = false;
            foreach (var job in queued)
            {
                var take = Math.Min(options.MaxBatchSize, options.WindowInputs - window.Count);
                for (var k = 0; k < take && !job.IsFullyScheduled; k++)
                {
                    window.Add(new BatchItem(job, job.NextToSchedule++));
                    progress = true;
                }

                if (window.Count >= options.WindowInputs)
                {
                    break;
                }
            }
        }

        queued.RemoveAll(static job => job.IsFullyScheduled);

        // A stable sort keeps equal lengths in arrival order.
        var sorted = window.OrderBy(static item => item.Length).ToList();
        var batches = new List<Batch>();
        var current = new Batch();
        foreach (var item in sorted)
        {
            var paddedIfAdded = Math.Max(current.MaxLength, item.Length) * (current.Items.Count + 1);
            if (current.Items.Count > 0 && (current.Items.Count >= options.MaxBatchSize || paddedIfAdded > options.MaxBatchTokens))
            {
                batches.Add(current);
                current = new Batch();
            }

            current.Add(item);
        }

        if (current.Items.Count > 0)
        {
            batches.Add(current);
        }

        return batches;
    }
}
