namespace EmbeddingService.Bench;

/// <summary>
/// The request bodies of the load levels. Short: one distinct text per request, each load run reading a block of
/// <see cref="Workloads.Short"/> indices of its own, so no text is sent twice in a run (a level measured in rounds takes
/// a block per window). Mixed: <see cref="ServiceLoad.MixedPerRequest"/> consecutive mixed-length texts per request.
/// </summary>
internal sealed class LoadBodies(Workloads workloads, string model)
{
    /// <summary>Short-text indices a one-connection caller window may read: it sends a few hundred requests a second
    /// for at most ~15 s, far fewer than a block of <see cref="Workloads.ShortBlockSize"/>.</summary>
    public const long CallerBlockSize = 10_000;

    private long _nextIndex;

    /// <summary>Bodies of one short text each, from the next <paramref name="size"/> indices, which no other load run reads.</summary>
    public Func<long, byte[]> ShortBlock(long size = Workloads.ShortBlockSize)
    {
        var first = _nextIndex;
        _nextIndex += size;
        return i => i < size
            ? RequestBodies.Embed([workloads.Short(first + i)], model)
            : throw new InvalidOperationException($"A load run asked for more than {size} short texts.");
    }

    /// <summary>Request <paramref name="i"/> of a mixed-length load: the mixed texts from <c>i × 32</c> on, wrapping.</summary>
    public byte[] Mixed(long i)
    {
        var mixed = workloads.Mixed;
        var start = (int)(i * ServiceLoad.MixedPerRequest % (mixed.Length - ServiceLoad.MixedPerRequest));
        return RequestBodies.Embed(mixed.AsSpan(start, ServiceLoad.MixedPerRequest).ToArray(), model);
    }
}
