using System.Diagnostics;

namespace EmbeddingService.Inference.Batching;

/// <summary>
/// How many tokens per second a model runs now, measured while it has work: the tokens of finished passes over the time
/// at least one pass was running, in an average whose older part fades once it holds more than
/// <see cref="WindowSeconds"/> of such time (each new busy second keeps about 1 − 1/<see cref="WindowSeconds"/> of the
/// past). Idle time does not count, so a quiet minute does not make the model look slow. Padding and the number of
/// runners are in the measure, which is what a queue drains at. Backs the drain estimate (<c>Retry-After</c> on a 429
/// and the <c>embedding_queue_drain_seconds</c> gauge). Timestamps are <see cref="Stopwatch"/> ticks, passed in so tests
/// can drive the clock. Not thread-safe: the batcher calls it under its lock.
/// </summary>
internal sealed class ThroughputMeter
{
    /// <summary>Busy seconds the average holds before its older part fades: long enough to smooth a mix of batch lengths,
    /// short enough to follow a change of load (another model busy on the same cores, other jobs on the machine).</summary>
    public const double WindowSeconds = 10;

    /// <summary>Busy seconds the seed counts for until passes replace it.</summary>
    private const double SeedSeconds = 0.5;

    private double _tokens;
    private double _busySeconds;
    private long _lastMark;
    private int _running;

    /// <param name="seedTokensPerSecond">The estimate before any pass has run (from the model's warm-up).</param>
    public ThroughputMeter(double seedTokensPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seedTokensPerSecond);
        _tokens = seedTokensPerSecond * SeedSeconds;
        _busySeconds = SeedSeconds;
    }

    /// <summary>Tokens per second while busy.</summary>
    public double TokensPerSecond => _tokens / _busySeconds;

    /// <summary>Seconds to run <paramref name="tokens"/> at the measured rate.</summary>
    public double DrainSeconds(long tokens) => tokens <= 0 ? 0 : tokens / TokensPerSecond;

    public void PassStarted(long timestamp)
    {
        Advance(timestamp);
        _running++;
    }

    public void PassEnded(long timestamp, int tokens)
    {
        Advance(timestamp);
        _running--;
        _tokens += tokens;
        if (_busySeconds > WindowSeconds)
        {
            // Scale the past down to WindowSeconds' worth: the older measure fades as new passes come in.
            var keep = WindowSeconds / _busySeconds;
            _tokens *= keep;
            _busySeconds = WindowSeconds;
        }
    }

    private void Advance(long timestamp)
    {
        if (_running > 0)
        {
            _busySeconds += Stopwatch.GetElapsedTime(_lastMark, timestamp).TotalSeconds;
        }

        _lastMark = timestamp;
    }
}
