namespace EmbeddingService.Inference.Chunking;

/// <summary>Tokens <see cref="From"/> to <see cref="To"/> (exclusive) of a document: one chunk.</summary>
public readonly record struct ChunkRange(int From, int To)
{
    public int Count => To - From;
}

/// <summary>
/// Cuts a tokenized document into chunks of at most a budget of tokens, greedily from the start:
/// <list type="bullet">
/// <item>a chunk never starts inside a word (on a WordPiece continuation), unless one word alone is longer than the budget;</item>
/// <item>it ends at the last sentence end within the budget where there is one, else at the last word start within it;</item>
/// <item>the next chunk starts up to <c>overlap</c> tokens before the end of the one before, at a word start, and always
/// after the previous chunk's start, so the plan always advances;</item>
/// <item>a document that fits is one chunk, an empty one none.</item>
/// </list>
/// Pure and deterministic: the same tokens and settings give the same chunks on every route.
/// </summary>
public static class ChunkPlanner
{
    public static IReadOnlyList<ChunkRange> Plan(DocumentTokens document, int budget, int overlap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(overlap);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(overlap, budget);

        var chunks = new List<ChunkRange>();
        var count = document.Count;
        var from = 0;
        while (from < count)
        {
            var to = count - from <= budget ? count : End(document, from, from + budget);
            chunks.Add(new ChunkRange(from, to));
            if (to == count)
            {
                break;
            }

            from = NextStart(document, from, to, overlap);
        }

        return chunks;
    }

    /// <summary>Where a chunk from <paramref name="from"/> ends, given that it may not reach past <paramref name="limit"/>
    /// (which lies inside the document).</summary>
    private static int End(DocumentTokens document, int from, int limit)
    {
        for (var end = limit; end > from; end--)
        {
            if (document.IsSentenceEnd(end))
            {
                return end;
            }
        }

        for (var end = limit; end > from; end--)
        {
            if (document.IsWordStart(end))
            {
                return end;
            }
        }

        // One word longer than the budget: it has to be cut.
        return limit;
    }

    private static int NextStart(DocumentTokens document, int from, int to, int overlap)
    {
        if (overlap == 0)
        {
            return to;
        }

        // The earliest word start within the overlap, but after this chunk's start so the plan advances.
        for (var start = Math.Max(to - overlap, from + 1); start < to; start++)
        {
            if (document.IsWordStart(start))
            {
                return start;
            }
        }

        return to;
    }
}
