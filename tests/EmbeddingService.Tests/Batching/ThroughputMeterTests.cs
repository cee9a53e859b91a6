using System.Diagnostics;
using EmbeddingService.Inference.Batching;

namespace EmbeddingService.Tests.Batching;

/// <summary>The drain estimate's rate, on a clock the test drives.</summary>
public sealed class ThroughputMeterTests
{
    private static long At(double seconds) => (long)(seconds * Stopwatch.Frequency);

    [Fact]
    public void Before_any_pass_it_runs_at_the_seed()
    {
        var meter = new ThroughputMeter(seedTokensPerSecond: 400);

        Assert.Equal(400, meter.TokensPerSecond, 6);
        Assert.Equal(2.5, meter.DrainSeconds(1000), 6);
        Assert.Equal(0, meter.DrainSeconds(0));
    }

    [Fact]
    public void It_counts_only_the_time_a_pass_runs_and_overlapping_passes_add_up()
    {
        var meter = new ThroughputMeter(seedTokensPerSecond: 1);

        // Two passes of 1,000 tokens overlap for a second (1 busy second), then 8 idle seconds, then one of 1,000 in 1 s.
        meter.PassStarted(At(10));
        meter.PassStarted(At(10));
        meter.PassEnded(At(11), 1000);
        meter.PassEnded(At(11), 1000);
        meter.PassStarted(At(19));
        meter.PassEnded(At(20), 1000);

        // 3,000 tokens (+ the seed's 0.5) in 2 busy seconds (+ the seed's 0.5): the idle seconds do not count.
        Assert.Equal(3000.5 / 2.5, meter.TokensPerSecond, 6);
    }

    [Fact]
    public void It_follows_a_change_of_speed()
    {
        var meter = new ThroughputMeter(seedTokensPerSecond: 5000);
        var now = 0.0;
        for (var pass = 0; pass < 200; pass++)
        {
            meter.PassStarted(At(now));
            now += 0.5;
            meter.PassEnded(At(now), 50); // 100 tokens per second now
        }

        // 100 busy seconds at 100 tokens per second, ten times the fading time: the seed of 5,000 has faded out.
        Assert.InRange(meter.TokensPerSecond, 99, 101);
    }
}
