namespace EmbeddingService.Inference.Batching;

/// <summary>A set of inputs, from one or more jobs, that run through the model in one padded forward pass.</summary>
internal sealed class Batch
{
    public List<BatchItem> Items { get; } = [];

    /// <summary>The longest input: every row is padded to it.</summary>
    public int MaxLength { get; private set; }

    /// <summary>Padded tokens: what the forward pass costs.</summary>
    public int PaddedTokens => MaxLength * Items.Count;

    /// <summary>Tokens of the inputs themselves, without padding: what they took from the queue.</summary>
    public int Tokens { get; private set; }

    public void Add(BatchItem item)
    {
        Items.Add(item);
        MaxLength = Math.Max(MaxLength, item.Length);
        Tokens += item.Length;
    }

    /// <summary>Drops the inputs of callers that went away since the batch was cut, and recomputes the padding.</summary>
    /// <returns>How many inputs were dropped.</returns>
    public int RemoveAbandoned()
    {
        var removed = Items.RemoveAll(static item => item.Job.IsAbandoned);
        if (removed > 0)
        {
            MaxLength = 0;
            Tokens = 0;
            foreach (var item in Items)
            {
                MaxLength = Math.Max(MaxLength, item.Length);
                Tokens += item.Length;
            }
        }

        return removed;
    }
}

/// <summary>One input of one job inside a batch.</summary>
internal readonly record struct BatchItem(EmbeddingJob Job, int Index)
{
    public int Length => Job.Inputs[Index].Length;
}
