namespace EmbeddingService.Inference.Batching;

/// <summary>
/// How many tokens per second a model runs while it has a queue: what a queue drains at. Measured on the passes that
/// start while more work waits behind them (the runners are then all busy, each running pass after pass on one thread),
/// as the runner count × the tokens of those passes over their time. Passes of an idle or lightly loaded model (one pass
/// at a time, often on the lone-request session) would describe another regime, and failed passes none, so they do not
/// count. The average's older part fades once it holds more than <see cref="WindowSeconds"/> of passes (each new second
/// keeps about 1 − 1/<see cref="WindowSeconds"/> of the past), so it follows a change of load (another model busy on the
/// same cores, other jobs on the machine). Backs the drain estimate: <c>Retry-After</c> on a 429 and the
/// <c>embedding_queue_drain_seconds</c> gauge. Not thread-safe: the batcher calls it under its lock.
/// </summary>
internal sealed class ThroughputMeter
{
    /// <summary>Seconds of passes the average holds before its older part fades: long enough to smooth a mix of batch
    /// lengths, short enough to follow a change of load.</summary>
    public const double WindowSeconds = 10;

    /// <summary>Pass seconds the seed counts for until measured passes replace it.</summary>
    private const double SeedSeconds = 0.5;

    private readonly int _runners;
    private double _tokens;
    private double _seconds;

    /// <param name="seedTokensPerSecond">One runner's rate before any pass is measured (the model's warm-up pass).</param>
    /// <param name="runners">Runners working in parallel when the model has a queue.</param>
    public ThroughputMeter(double seedTokensPerSecond, int runners)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seedTokensPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(runners);
        _runners = runners;
        _tokens = seedTokensPerSecond * SeedSeconds;
        _seconds = SeedSeconds;
    }

    /// <summary>Tokens (without padding) per second the model runs with a queue.</summary>
    public double TokensPerSecond => _runners * _tokens / _seconds;

    /// <summary>Seconds to run <paramref name="tokens"/> at the measured rate.</summary>
    public double DrainSeconds(long tokens) => tokens <= 0 ? 0 : tokens / TokensPerSecond;

    /// <summary>A pass that started with more work waiting ran <paramref name="tokens"/> tokens in <paramref name="duration"/>.</summary>
    public void PassFinished(int tokens, TimeSpan duration)
    {
        _tokens += tokens;
        _seconds += duration.TotalSeconds;
        if (_seconds > WindowSeconds)
        {
            // Scale the past down to WindowSeconds' worth: the older measure fades as new passes come in.
            var keep = WindowSeconds / _seconds;
            _tokens *= keep;
            _seconds = WindowSeconds;
        }
    }
}
