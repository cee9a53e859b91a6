using EmbeddingService.Inference.Batching;

namespace EmbeddingService.Tests.Batching;

/// <summary>The drain estimate's rate: runners × the tokens per second of the passes measured.</summary>
public sealed class ThroughputMeterTests
{
    [Fact]
    public void Before_any_pass_it_runs_at_the_seed_times_the_runners()
    {
        var meter = new ThroughputMeter(seedTokensPerSecond: 200, runners: 2);

        Assert.Equal(400, meter.TokensPerSecond, 6);
        Assert.Equal(2.5, meter.DrainSeconds(1000), 6);
        Assert.Equal(0, meter.DrainSeconds(0));
    }

    [Fact]
    public void Each_runner_adds_the_rate_of_its_passes()
    {
        var meter = new ThroughputMeter(seedTokensPerSecond: 1, runners: 2);

        meter.PassFinished(1000, TimeSpan.FromSeconds(1));
        meter.PassFinished(3000, TimeSpan.FromSeconds(2));

        // (4,000 tokens + the seed's 0.5) in (3 s + the seed's 0.5) per runner, two runners side by side.
        Assert.Equal(2 * 4000.5 / 3.5, meter.TokensPerSecond, 6);
    }

    [Fact]
    public void It_follows_a_change_of_speed()
    {
        var meter = new ThroughputMeter(seedTokensPerSecond: 5000, runners: 1);
        for (var pass = 0; pass < 200; pass++)
        {
            meter.PassFinished(50, TimeSpan.FromSeconds(0.5)); // 100 tokens per second now
        }

        // 100 s of passes at 100 tokens per second, ten times the fading time: the seed of 5,000 has faded out.
        Assert.InRange(meter.TokensPerSecond, 99, 101);
    }
}
