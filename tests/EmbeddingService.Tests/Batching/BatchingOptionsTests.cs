using EmbeddingService.Inference.Batching;

namespace EmbeddingService.Tests.Batching;

/// <summary>How the runner layout is derived from the options and the core count.</summary>
public sealed class BatchingOptionsTests
{
    [Theory]
    [InlineData(null, 2, 1, 2)] // by default every core for a lone pass on 2 cores, one thread per pass otherwise
    [InlineData(null, 16, 1, 4)] // by default at most 4
    [InlineData(null, 1, 1, 0)] // one core: nothing to gain
    [InlineData(null, 8, 4, 0)] // by default not with passes already on 4 threads
    [InlineData(0, 2, 1, 0)] // 0: off
    [InlineData(2, 2, 1, 2)]
    [InlineData(8, 2, 1, 2)] // capped at the core count
    [InlineData(2, 1, 1, 0)] // one core: no more threads than the shared session has, so off
    [InlineData(2, 4, 2, 0)] // not more than the intra-op threads in effect: off
    [InlineData(4, 4, 2, 4)]
    public void Lone_request_threads_are_capped_at_the_cores_and_off_unless_above_the_intra_op_threads(int? configured, int cores, int intraOp, int expected)
    {
        var options = new BatchingOptions { LoneRequestThreads = configured };
        Assert.Equal(expected, options.ResolveLoneRequestThreads(cores, intraOp));
    }

    [Theory]
    [InlineData(null, 2, 1, 0)] // not set: none for an int8 model, whose lone pass is no faster on two threads
    [InlineData(null, 16, 1, 0)]
    [InlineData(2, 2, 1, 2)] // set: every model, int8 too
    [InlineData(8, 4, 1, 4)] // still capped at the core count
    [InlineData(0, 2, 1, 0)]
    public void Int8_models_get_a_lone_request_session_only_when_the_setting_asks_for_one(int? configured, int cores, int intraOp, int expected)
    {
        var options = new BatchingOptions { LoneRequestThreads = configured };
        Assert.Equal(expected, options.ResolveLoneRequestThreads(cores, intraOp, int8: true));
    }

    [Theory]
    [InlineData(0, 0, 2, 2, 1)]
    [InlineData(1, 0, 2, 1, 2)]
    [InlineData(0, 0, 1, 1, 1)]
    [InlineData(2, 2, 2, 2, 2)]
    public void Runners_and_intra_op_threads_derive_from_the_cores_when_not_set(int runners, int intraOp, int cores, int expectedRunners, int expectedIntraOp)
    {
        var options = new BatchingOptions { Runners = runners, IntraOpThreads = intraOp };
        Assert.Equal(expectedRunners, options.ResolveRunners(cores));
        Assert.Equal(expectedIntraOp, options.ResolveIntraOpThreads(cores));
    }
}
