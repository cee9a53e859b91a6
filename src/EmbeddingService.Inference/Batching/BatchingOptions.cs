using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace EmbeddingService.Inference.Batching;

/// <summary>The <c>Batching</c> section: queue bound, batch limits and the runner pool.</summary>
public sealed class BatchingOptions
{
    public const string SectionName = "Batching";

    /// <summary>Inputs that may wait per model; a request that does not fit gets 429.</summary>
    [Range(1, 1_000_000)]
    public int MaxQueuedInputs { get; set; } = 4096;

    /// <summary>The most inputs in one forward pass. On 2 cores batches of 8-16 embed short sentences as fast per
    /// sentence as larger ones, and keep each pass short (bench/README.md).</summary>
    [Range(1, 4096)]
    public int MaxBatchSize { get; set; } = 16;

    /// <summary>The most padded tokens (longest input × batch size) in one forward pass; an input longer than this runs
    /// alone. Large budgets are slower per token on CPU (the activations outgrow the core's cache) and make ONNX Runtime's
    /// arena grow with the largest shape: 8192 measured ~1 GB peak RSS and 0.14× the raw mixed-length rate; 1024 about
    /// 500 MB and 0.8-0.9×; 256 about 400 MB and 0.98× (with <see cref="LoneRequestThreads"/> off). 128 cuts batches of
    /// short sentences at 6-7, near the raw loop's best batch of 8: 1.05× the requests of 256 at 64 connections and
    /// 1.03× on mixed lengths, two services side by side (bench/README.md).</summary>
    [Range(16, 1_048_576)]
    public int MaxBatchTokens { get; set; } = 128;

    /// <summary>How many of a lane's oldest waiting inputs a batch picks its members from: the oldest one, then those
    /// nearest to it in length (<see cref="LaneQueue"/>). Wider finds closer lengths (less padding) at the cost of a
    /// longer sort per batch.</summary>
    [Range(1, 65_536)]
    public int WindowInputs { get; set; } = 128;

    /// <summary>Interactive batches (requests that fit in one batch) that may start in a row while bulk inputs wait,
    /// before one bulk batch goes first (<see cref="BatchScheduler"/>). Higher favours queries over ingestion under a
    /// flood of small requests; every input still starts within a bounded number of batches.</summary>
    [Range(1, 1000)]
    public int InteractiveBatchesPerBulkBatch { get; set; } = 3;

    /// <summary>Padded tokens up to which a batch cut for interactive requests takes bulk inputs of its length along; 0:
    /// interactive batches carry interactive inputs only. A pass of one short input costs far more per input than one of
    /// several, so the ride-along makes a stream of queries take less from bulk throughput, at the price of a longer pass
    /// for the query: half the default token budget measured 0.86× against 0.83× the bulk throughput beside a caller
    /// sending one sentence at a time, with its p99 latency 45-50 ms instead of 40-48 ms (bench/README.md).</summary>
    [Range(0, 1_048_576)]
    public int InteractiveBatchTokens { get; set; } = 64;

    /// <summary>Concurrent forward passes per model; 0 derives it from the core count.</summary>
    [Range(0, 256)]
    public int Runners { get; set; }

    /// <summary>Give each runner an ONNX Runtime session of its own (all sharing one copy of the weights) instead of one
    /// session for all. On this project's AMD EPYC machine two one-thread passes side by side ran 1.13-1.16× as fast on a
    /// session each as on one shared session for 256-token chunks, 1.05-1.11× for mixed lengths, 0.99-1.05× for short
    /// sentences (raw loop, two full runs of the bench on 2026-12-03); the service's <c>/embed_chunks</c> went from 0.83× to
    /// 0.97× of the raw loop.</summary>
    public bool SessionPerRunner { get; set; } = true;

    /// <summary>ONNX Runtime intra-op threads per forward pass; 0 derives it from the core count and <see cref="Runners"/>.</summary>
    [Range(0, 256)]
    public int IntraOpThreads { get; set; }

    /// <summary>Let idle ONNX Runtime threads spin (<c>session.intra_op.allow_spinning</c>).</summary>
    public bool AllowSpinning { get; set; }

    /// <summary>Intra-op threads of a second session per model that runs a batch with the model to itself (no other
    /// batch running, nothing queued), its threads spinning during the pass. Not set: all cores up to
    /// <see cref="AutoLoneRequestThreadsCap"/>; 0 turns it off; always capped at the core count, and off unless above the
    /// intra-op threads in effect (<see cref="ResolveIntraOpThreads"/>). A lone pass on one thread is bound by reading
    /// the weights from memory (~87 MB for all-MiniLM-L6-v2): on 2 cores, two spinning threads bring the lone-request
    /// p50 from +2.8 to +3.7 ms over the raw batch-1 floor to +0.45 to +0.8 ms (bench). Both sessions share one copy
    /// of the weights, so the second costs ~35 MB of working memory per model, not a second ~90 MB copy. Not set, int8
    /// models get none: their matrices are a quarter of the bytes, a lone pass on one thread was the faster one in a
    /// plain loop (all-MiniLM-L6-v2-int8: 0.85 against 1.31 ms on two spinning threads), and through the service the
    /// two-thread pass gained nothing on average and doubled the p99 (bench/README.md), so their lone requests run on
    /// a runner's session. A value set here applies to every model.</summary>
    [Range(0, 256)]
    public int? LoneRequestThreads { get; set; }

    /// <summary>The most threads the lone-request session gets when <see cref="LoneRequestThreads"/> is not set: one
    /// short input's pass is split into ~100 small operators, and spreading each over more threads stops paying.</summary>
    public const int AutoLoneRequestThreadsCap = 4;

    /// <summary>The runner count in effect: as configured, else one per core.</summary>
    public int ResolveRunners(int processorCount) => Runners > 0 ? Runners : Math.Max(1, processorCount);

    /// <summary>The lone-request session's thread count in effect for a model: as configured (else the cores, up to
    /// <see cref="AutoLoneRequestThreadsCap"/>, or 0 for an int8 model), at most one per core; 0 (off) unless that is
    /// more than <paramref name="intraOpThreads"/>.</summary>
    /// <param name="int8">The model's matrices are int8 (its folder's precision).</param>
    public int ResolveLoneRequestThreads(int processorCount, int intraOpThreads, bool int8 = false)
    {
        var cores = Math.Max(1, processorCount);
        var threads = Math.Min(LoneRequestThreads ?? (int8 ? 0 : AutoLoneRequestThreadsCap), cores);
        return threads > intraOpThreads ? threads : 0;
    }

    /// <summary>The intra-op thread count in effect: as configured, else the cores shared out among the runners.</summary>
    public int ResolveIntraOpThreads(int processorCount) =>
        IntraOpThreads > 0 ? IntraOpThreads : Math.Max(1, processorCount / ResolveRunners(processorCount));
}

[OptionsValidator]
public sealed partial class BatchingOptionsValidator : IValidateOptions<BatchingOptions>
{
}
