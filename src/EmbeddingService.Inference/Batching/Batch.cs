namespace EmbeddingService.Inference.Batching;

/// <summary>A set of inputs, from one or more jobs, that run through the model in one padded forward pass.</summary>
internal sealed class Batch
{
    public List<BatchItem> Items { get; } = [];

    /// <summary>The longest input: every row is padded to it.</summary>
    public int MaxLength { get; private set; }

    /// <summary>Padded tokens: what the forward pass costs.</summary>
    public int PaddedTokens => MaxLength * Items.Count;

    /// <summary>The earliest plan that took one of the inputs from the queue (<see cref="BatchItem.Plan"/>).</summary>
    public long OldestPlan { get; private set; } = long.MaxValue;

    public void Add(BatchItem item)
    {
        Items.Add(item);
        MaxLength = Math.Max(MaxLength, item.Length);
        OldestPlan = Math.Min(OldestPlan, item.Plan);
    }

    /// <summary>Drops the inputs of callers that went away since planning, and recomputes the padding for what is left.</summary>
    public void RemoveAbandoned()
    {
        if (Items.RemoveAll(static item => item.Job.IsAbandoned) > 0)
        {
            MaxLength = Items.Count == 0 ? 0 : Items.Max(static item => item.Length);
        }
    }
}

/// <summary>One input of one job inside a batch, and the plan that first took it from the queue.</summary>
internal readonly record struct BatchItem(EmbeddingJob Job, int Index, long Plan)
{
    public int Length => Job.Inputs[Index].Length;
}
