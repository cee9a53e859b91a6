namespace EmbeddingService.Inference.Batching;

/// <summary>
/// Turns what is queued into batches, with no timer: called when a runner is free and nothing is planned, or when a new
/// request with a batch's worth of inputs has come in while batches wait (<c>DynamicBatcher</c>).
/// <list type="number">
/// <item>Fill a window of up to <see cref="BatchingOptions.WindowInputs"/> inputs: first the inputs already planned but not
/// yet running, then inputs from the queued jobs in arrival order, at most <see cref="BatchingOptions.MaxBatchSize"/> from
/// each job per pass. A 2,000-input request thus takes one batch's worth per pass and everyone behind it still gets into
/// the window: no caller starves. Planning again while batches wait takes only from requests not yet planned at all, so
/// the rest of a large request still goes one window at a time.</item>
/// <item>Sort the window by token count, so inputs of similar length share a batch and padding stays low. Planned inputs
/// join the sort again, so requests that arrive one by one still find neighbours of their length.</item>
/// <item>Cut it into batches under <see cref="BatchingOptions.MaxBatchSize"/> and <see cref="BatchingOptions.MaxBatchTokens"/>
/// (padded tokens = longest × count).</item>
/// <item>Order the batches by the oldest plan they hold an input of, then by length: a batch that holds an input planned
/// earlier runs before the batches of newer inputs alone. Newer inputs of a similar length can ride in such a batch, so
/// an input can wait for one batch per older input of its window at worst.</item>
/// </list>
/// Pure logic, no threads: the batching loop owns the state it is given.
/// </summary>
internal static class BatchPlanner
{
    /// <summary>Plans a window from <paramref name="planned"/> (inputs planned earlier that have not started) and
    /// <paramref name="queued"/> (jobs in arrival order with unscheduled inputs), advances the jobs'
    /// <see cref="EmbeddingJob.NextToSchedule"/>, and drops jobs that are now fully scheduled.</summary>
    /// <param name="plan">This plan's number, higher than every earlier plan's: the age of the inputs it takes from the queue.</param>
    /// <param name="newRequestsOnly">Take inputs only from jobs none of whose inputs has been planned yet.</param>
    /// <returns>The batches in the order to run them; empty only when nothing is planned or queued.</returns>
    public static List<Batch> PlanWindow(List<EmbeddingJob> queued, IReadOnlyCollection<BatchItem> planned, long plan, BatchingOptions options,
        bool newRequestsOnly = false)
    {
        var window = new List<BatchItem>(Math.Min(Math.Max(options.WindowInputs, planned.Count), 1024));
        window.AddRange(planned);
        var sources = newRequestsOnly ? queued.FindAll(static job => job.IsUnplanned) : queued;
        var progress = true;
        while (progress && window.Count < options.WindowInputs)
        {
            progress = false;
            foreach (var job in sources)
            {
                var take = Math.Min(options.MaxBatchSize, options.WindowInputs - window.Count);
                for (var k = 0; k < take && !job.IsFullyScheduled; k++)
                {
                    window.Add(new BatchItem(job, job.NextToSchedule++, plan));
                    progress = true;
                }

                if (window.Count >= options.WindowInputs)
                {
                    break;
                }
            }
        }

        queued.RemoveAll(static job => job.IsFullyScheduled);

        // Stable sorts: equal lengths keep their order in the window (older first), and batches of one plan keep the
        // length order.
        var batches = new List<Batch>();
        var current = new Batch();
        foreach (var item in window.OrderBy(static item => item.Length))
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

        return batches.OrderBy(static batch => batch.OldestPlan).ToList();
    }
}
