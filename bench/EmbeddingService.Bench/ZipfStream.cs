namespace EmbeddingService.Bench;

/// <summary>
/// A query stream over <see cref="Sentences"/> distinct sentences where the sentence of rank r comes with probability
/// proportional to 1 / r^s: popular queries again and again, a long tail seen once. Position i of the stream is drawn from
/// a hash of (seed, i), so any stretch of it can be read without the ones before, and the same seed gives the same
/// stream to each service compared.
/// </summary>
internal sealed class ZipfStream
{
    private readonly double[] _cumulative;
    private readonly ulong _seed;

    public ZipfStream(int sentences, double exponent, ulong seed)
    {
        Sentences = sentences;
        Exponent = exponent;
        _seed = seed;
        _cumulative = new double[sentences];
        var sum = 0.0;
        for (var rank = 1; rank <= sentences; rank++)
        {
            sum += Math.Pow(rank, -exponent);
            _cumulative[rank - 1] = sum;
        }

        for (var i = 0; i < sentences; i++)
        {
            _cumulative[i] /= sum;
        }
    }

    public int Sentences { get; }

    public double Exponent { get; }

    /// <summary>The rank (0 = the most popular) at position <paramref name="position"/> of the stream.</summary>
    public int RankAt(long position)
    {
        var u = (SplitMix64(_seed ^ (ulong)position) >> 11) * (1.0 / (1UL << 53));
        var index = Array.BinarySearch(_cumulative, u);
        return Math.Min(index >= 0 ? index : ~index, Sentences - 1);
    }

    /// <summary>The share of the stream the <paramref name="top"/> most popular sentences take.</summary>
    public double ShareOfTop(int top) => _cumulative[Math.Clamp(top, 1, Sentences) - 1];

    private static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
