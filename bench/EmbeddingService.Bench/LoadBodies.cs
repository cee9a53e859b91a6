namespace EmbeddingService.Bench;

/// <summary>
/// The request bodies of the load levels. Short: one distinct text per request, each load run reading a block of
/// <see cref="Workloads.Short"/> indices of its own, so no text is sent twice in a run (a level measured in rounds takes
/// a block per window). Mixed: <see cref="ServiceLoad.MixedPerRequest"/> consecutive mixed-length texts per request.
/// </summary>
internal sealed class LoadBodies(Workloads workloads, string model)
{
    private int _nextBlock;

    /// <summary>Bodies of one short text each, from the next block of indices no other load run reads.</summary>
    public Func<long, byte[]> ShortBlock()
    {
        var first = _nextBlock++ * Workloads.ShortBlockSize;
        return i => i < Workloads.ShortBlockSize
            ? RequestBodies.Embed([workloads.Short(first + i)], model)
            : throw new InvalidOperationException($"A load run asked for more than {Workloads.ShortBlockSize} short texts.");
    }

    /// <summary>Request <paramref name="i"/> of a mixed-length load: the mixed texts from <c>i × 32</c> on, wrapping.</summary>
    public byte[] Mixed(long i)
    {
        var mixed = workloads.Mixed;
        var start = (int)(i * ServiceLoad.MixedPerRequest % (mixed.Length - ServiceLoad.MixedPerRequest));
        return RequestBodies.Embed(mixed.AsSpan(start, ServiceLoad.MixedPerRequest).ToArray(), model);
    }
}
