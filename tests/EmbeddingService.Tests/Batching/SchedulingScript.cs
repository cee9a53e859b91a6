using FsCheck;
using FsCheck.Fluent;
using EmbeddingService.Inference.Batching;

namespace EmbeddingService.Tests.Batching;

/// <summary>One event of an adversarial arrival order: a request comes in, a runner starts a batch, or a caller gives up.</summary>
internal abstract record ScriptStep;

/// <summary>A request with inputs of these token counts.</summary>
internal sealed record Arrive(int[] Lengths) : ScriptStep
{
    public override string ToString() => Lengths.Length == 1 ? $"Arrive({Lengths[0]})" : $"Arrive({Lengths.Length} inputs, {Lengths.Min()}-{Lengths.Max()} tokens)";
}

/// <summary>The runner finishes what it runs and starts the next batch.</summary>
internal sealed record NextBatch : ScriptStep
{
    public override string ToString() => "NextBatch";
}

/// <summary>The caller of the <c>Pick</c>-th request still in flight (modulo their count) gives up.</summary>
internal sealed record GiveUp(int Pick) : ScriptStep;

/// <summary>Generators of adversarial arrival orders: floods of single sentences, streams of large requests, lengths that
/// never match, callers that give up, in any interleaving with batch starts.</summary>
internal static class SchedulingScripts
{
    /// <summary>Small limits, so that few steps reach every case: batches of up to 4 inputs and 64 padded tokens (32 for an
    /// interactive batch taking bulk inputs along), requests of 1 to 120 inputs of 3 to 40 tokens (a request of up to 4
    /// short inputs is interactive, a 40-token pair is not).</summary>
    public static BatchingOptions Options(int interactiveBatchesPerBulkBatch) => new()
    {
        MaxBatchSize = 4,
        MaxBatchTokens = 64,
        WindowInputs = 16,
        MaxQueuedInputs = 100_000,
        InteractiveBatchesPerBulkBatch = interactiveBatchesPerBulkBatch,
        // Interactive batches take bulk inputs along: the bound must hold with them.
        InteractiveBatchTokens = 32,
    };

    public static Arbitrary<ScriptStep[]> Steps(int maxSteps, bool shrink)
    {
        var length = Gen.Frequency((3, Gen.Choose(3, 16)), (1, Gen.Choose(17, 40)));
        var count = Gen.Frequency((5, Gen.Constant(1)), (2, Gen.Choose(2, 4)), (2, Gen.Choose(5, 30)), (1, Gen.Choose(31, 120)));
        var arrive = count.SelectMany(n => Gen.ArrayOf(length, n)).Select(static lengths => (ScriptStep)new Arrive(lengths));
        var step = Gen.Frequency(
            (5, arrive),
            (4, Gen.Constant((ScriptStep)new NextBatch())),
            (1, Gen.Choose(0, 1000).Select(static pick => (ScriptStep)new GiveUp(pick))));
        var steps = Gen.Choose(1, maxSteps).SelectMany(n => Gen.ArrayOf(step, n));
        return shrink ? Arb.From(steps, ShrinkByDroppingSteps) : Arb.From(steps);
    }

    /// <summary>A failing order shrinks to a shorter one: without one step, or without its second half.</summary>
    private static IEnumerable<ScriptStep[]> ShrinkByDroppingSteps(ScriptStep[] steps)
    {
        if (steps.Length > 8)
        {
            yield return steps[..(steps.Length / 2)];
        }

        for (var i = 0; i < steps.Length; i++)
        {
            yield return [.. steps[..i], .. steps[(i + 1)..]];
        }
    }
}

/// <summary>
/// The starvation bound, checked from the outside: records when each input was queued (how many batches had started, and
/// how many inputs of its lane were waiting ahead of it) and in which batch it started, then asserts that it started
/// within the bound the scheduler states (<see cref="BatchScheduler"/>), however the script went on.
/// </summary>
internal sealed class StartBoundOracle(BatchingOptions options)
{
    private readonly Dictionary<(int Request, int Index), TrackedInput> _inputs = [];
    private int _batchesStarted;

    /// <summary>Inputs queued, not started, and whose caller has not given up.</summary>
    public int Waiting => _inputs.Values.Count(static i => i.StartedIn == 0 && !i.GaveUp);

    /// <summary>Tokens of the <see cref="Waiting"/> inputs.</summary>
    public long WaitingTokens => _inputs.Values.Where(static i => i.StartedIn == 0 && !i.GaveUp).Sum(static i => (long)i.Length);

    /// <summary>The bound for an input that had <paramref name="ahead"/> inputs of its lane waiting ahead of it.</summary>
    public long Bound(RequestLane lane, int ahead)
    {
        var r = options.InteractiveBatchesPerBulkBatch;
        long q = ahead + 1;
        return lane == RequestLane.Interactive ? q + (q + r - 1) / r : q * (r + 1);
    }

    public void Queued(int request, int[] lengths, RequestLane lane)
    {
        var ahead = _inputs.Values.Count(i => i.Lane == lane && i.StartedIn == 0 && !i.GaveUp);
        for (var index = 0; index < lengths.Length; index++)
        {
            _inputs.Add((request, index), new TrackedInput(lane, lengths[index], _batchesStarted, ahead + index));
        }
    }

    public void GaveUp(int request)
    {
        foreach (var ((r, _), input) in _inputs)
        {
            if (r == request && input.StartedIn == 0)
            {
                input.GaveUp = true;
            }
        }
    }

    /// <summary>A batch started with these inputs; asserts each starts once and within its bound.</summary>
    public void Started(IEnumerable<(int Request, int Index)> members)
    {
        _batchesStarted++;
        foreach (var member in members)
        {
            var input = _inputs[member];
            Assert.False(input.GaveUp, $"input {member} started after its caller gave up");
            Assert.True(input.StartedIn == 0, $"input {member} started twice");
            input.StartedIn = _batchesStarted;
            var waited = _batchesStarted - input.QueuedAfter;
            var bound = Bound(input.Lane, input.Ahead);
            Assert.True(waited <= bound,
                $"{input.Lane} input {member} with {input.Ahead} inputs ahead started in batch {waited} counted from its queueing; the bound is {bound}");
        }
    }

    /// <summary>Every input whose caller stayed has started.</summary>
    public void AssertAllStarted() =>
        Assert.All(_inputs, pair => Assert.True(pair.Value.StartedIn > 0 || pair.Value.GaveUp, $"input {pair.Key} never started"));

    public bool IsWaiting(int request) => _inputs.Any(pair => pair.Key.Request == request && pair.Value.StartedIn == 0 && !pair.Value.GaveUp);

    private sealed class TrackedInput(RequestLane lane, int length, int queuedAfter, int ahead)
    {
        public RequestLane Lane { get; } = lane;

        public int Length { get; } = length;

        /// <summary>Batches started before it was queued.</summary>
        public int QueuedAfter { get; } = queuedAfter;

        /// <summary>Inputs of its lane waiting ahead of it when it was queued.</summary>
        public int Ahead { get; } = ahead;

        /// <summary>The number of the batch it started in (from 1); 0 until then.</summary>
        public int StartedIn { get; set; }

        public bool GaveUp { get; set; }
    }
}
