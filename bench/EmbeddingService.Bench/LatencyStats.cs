using System.Diagnostics;

namespace EmbeddingService.Bench;

/// <summary>Latencies of one measurement, in Stopwatch ticks; percentiles by nearest rank.</summary>
internal sealed class LatencyStats
{
    private readonly List<long> _ticks = [];

    public int Count => _ticks.Count;

    public void Add(long ticks) => _ticks.Add(ticks);

    /// <summary>Adds <paramref name="count"/> samples of <paramref name="microseconds"/> (a bucket of wrk's histogram).</summary>
    public void AddMicroseconds(long microseconds, long count)
    {
        var ticks = microseconds * Stopwatch.Frequency / 1_000_000;
        for (long i = 0; i < count; i++)
        {
            _ticks.Add(ticks);
        }
    }

    public void AddRange(LatencyStats other) => _ticks.AddRange(other._ticks);

    /// <summary>All the samples of <paramref name="parts"/> together.</summary>
    public static LatencyStats Pool(IEnumerable<LatencyStats> parts)
    {
        var pooled = new LatencyStats();
        foreach (var part in parts)
        {
            pooled.AddRange(part);
        }

        return pooled;
    }

    /// <summary>The <paramref name="percentile"/> (0-100) in milliseconds; NaN when empty.</summary>
    public double PercentileMs(double percentile)
    {
        if (_ticks.Count == 0)
        {
            return double.NaN;
        }

        _ticks.Sort();
        var rank = (int)Math.Ceiling(percentile / 100 * _ticks.Count) - 1;
        return _ticks[Math.Clamp(rank, 0, _ticks.Count - 1)] * 1000.0 / Stopwatch.Frequency;
    }
}
