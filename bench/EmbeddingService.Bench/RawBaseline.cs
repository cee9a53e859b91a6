using System.Diagnostics;
using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Runtime;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Bench;

/// <summary>A raw layout: <paramref name="Runners"/> threads, each with its own session of <paramref name="IntraOp"/> ONNX
/// Runtime threads (or, with <paramref name="OneSession"/>, all calling one session, as the service's runners do), whose
/// idle threads spin (<paramref name="Spin"/>) or sleep. With
/// <paramref name="Plain"/>: the independent loop of bench/PlainOnnxBaseline in a process of its own (ONNX Runtime's
/// default options, so its idle threads spin), not the library's runner.</summary>
internal sealed record RawLayout(int Runners, int IntraOp, bool Spin, bool OneSession = false, bool Plain = false)
{
    public override string ToString() => Plain ? $"plain {Runners}x{IntraOp}" : $"{Runners}x{IntraOp}{(Spin ? " spin" : "")}{(OneSession ? " one session" : "")}";
}

/// <summary>One raw configuration's result: <paramref name="Sentences"/> embedded in <paramref name="Seconds"/>, and the
/// time each batch took.</summary>
internal sealed record RawResult(string Workload, RawLayout Layout, int BatchSize, long Sentences, double Seconds, LatencyStats Latency)
{
    public double SentencesPerSecond => Sentences / Seconds;

    /// <summary>Median time of one batch, text to vectors.</summary>
    public double P50Ms => Latency.PercentileMs(50);

    /// <summary>Windows of one configuration as one measurement: sentences over the windows' total time, every batch's time.</summary>
    public static RawResult Combine(IReadOnlyList<RawResult> windows) =>
        windows[0] with
        {
            Sentences = windows.Sum(static w => w.Sentences),
            Seconds = windows.Sum(static w => w.Seconds),
            Latency = LatencyStats.Pool(windows.Select(static w => w.Latency)),
        };
}

/// <summary>
/// The in-process limit with no HTTP and no batcher: the library's own <see cref="ModelTokenizer"/> and
/// <see cref="OnnxBatchRunner"/> driven directly. Each batch is timed from text to normalized vectors
/// (tokenize, build tensors, run, pool, normalize). Each thread has its own session, or all call one (<see cref="RawLayout"/>).
/// </summary>
internal sealed class RawBaseline(ModelManifest manifest, ModelTokenizer tokenizer, Workloads workloads, double seconds)
{
    /// <summary>Consecutive short sentences sorted by length together. The service's scheduler sorts what is queued before
    /// cutting batches, fewer than 64 at 64 connections (some are in a running batch), so a raw batch pads no more than
    /// the service's.</summary>
    private const int ShortWindow = 64;

    /// <summary>Enough short sentences for any layout's time budget (the fastest takes ~1,500 in 2.5 s).</summary>
    private const int ShortCount = 8192;

    private string[]? _shortSequence;

    // Where the next short run starts reading, so that runs measured again read further on rather than the same sentences
    // (any stretch of the shuffled sequence is alike, but the service reads a new stretch in every window).
    private long _nextPlain;
    private long _nextSorted;

    /// <summary>Short distinct sentences for <see cref="RawBaseline"/>'s time budget: threads take consecutive batches of
    /// the short sequence, each window of <see cref="ShortWindow"/> sorted by token count when batches hold more than one.</summary>
    public RawResult Short(RawLayout layout, int batchSize)
    {
        // Batches of one pad nothing, so they read the plain order (a run stopping mid-window would otherwise have read
        // only that window's shortest sentences).
        var sequence = batchSize == 1 ? null : _shortSequence ??= SortedInWindows();
        // Sorted batches start at a window's start, so none straddles two windows.
        var first = sequence is null ? _nextPlain : (_nextSorted + ShortWindow - 1) / ShortWindow * ShortWindow;
        var cursor = first;
        var (sentences, elapsed, latency) = RunThreads(layout, deadline: seconds, (runner, output) =>
        {
            var start = Interlocked.Add(ref cursor, batchSize) - batchSize;
            var texts = new string[batchSize];
            for (var i = 0; i < batchSize; i++)
            {
                texts[i] = sequence is null ? workloads.Short(start + i) : sequence[(start + i) % sequence.Length];
            }

            EmbedBatch(runner, texts, output);
            return batchSize;
        });
        if (sequence is null)
        {
            _nextPlain = cursor;
        }
        else
        {
            _nextSorted = cursor;
        }

        return new RawResult("short", layout, batchSize, sentences, elapsed, latency);
    }

    private string[] SortedInWindows() =>
        Enumerable.Range(0, ShortCount)
            .Select(i => workloads.Short(i))
            .Chunk(ShortWindow)
            .SelectMany(window => window.OrderBy(t => tokenizer.Encode(t, truncate: true, TruncationDirection.Right).Length))
            .ToArray();

    /// <summary>The first <paramref name="count"/> mixed-length texts, sorted by token count and cut into batches of
    /// <paramref name="batchSize"/>; longest batches first, so the last ones to finish are short. Fixed work (the pass
    /// <paramref name="passes"/> times over), timed.</summary>
    public RawResult MixedSorted(RawLayout layout, int batchSize, int count, int passes = 1)
    {
        var texts = workloads.Mixed.Take(count).OrderBy(t => tokenizer.Encode(t, truncate: true, TruncationDirection.Right).Length).ToArray();
        var pass = texts.Chunk(batchSize).Reverse().ToArray();
        var batches = Enumerable.Repeat(pass, passes).SelectMany(static b => b).ToArray();
        var next = -1;
        var (sentences, elapsed, latency) = RunThreads(layout, deadline: null, (runner, output) =>
        {
            var index = Interlocked.Increment(ref next);
            if (index >= batches.Length)
            {
                return 0;
            }

            EmbedBatch(runner, batches[index], output);
            return batches[index].Length;
        });
        return new RawResult("mixed sorted", layout, batchSize, sentences, elapsed, latency);
    }

    /// <summary>Model inputs given as token ids (document chunks with their special tokens), in the order given, cut into
    /// batches of <paramref name="batchSize"/>, the whole list <paramref name="passes"/> times over. Fixed work, timed;
    /// counted in inputs (chunks).</summary>
    public RawResult Rows(string workload, RawLayout layout, int batchSize, int[][] rows, int passes = 1)
    {
        var pass = rows.Chunk(batchSize).ToArray();
        var batches = Enumerable.Repeat(pass, passes).SelectMany(static b => b).ToArray();
        var next = -1;
        var (count, elapsed, latency) = RunThreads(layout, deadline: null, (runner, output) =>
        {
            var index = Interlocked.Increment(ref next);
            if (index >= batches.Length)
            {
                return 0;
            }

            var batch = batches[index];
            var dimensions = runner.Dimensions;
            runner.Run(batch, output.AsSpan(0, batch.Length * dimensions));
            for (var i = 0; i < batch.Length; i++)
            {
                Pooling.Normalize(output.AsSpan(i * dimensions, dimensions));
            }

            return batch.Length;
        });
        return new RawResult(workload, layout, batchSize, count, elapsed, latency);
    }

    /// <summary>Runs <paramref name="work"/> on the layout's threads (on a session each, or on one) until it returns 0
    /// or <paramref name="deadline"/> seconds pass. Two warm-up batches per thread are not counted.</summary>
    private (long Sentences, double Seconds, LatencyStats Latency) RunThreads(RawLayout layout, double? deadline, Func<OnnxBatchRunner, float[], int> work)
    {
        var runners = layout.Runners;
        var sessions = Enumerable.Range(0, layout.OneSession ? 1 : runners).Select(_ => new OnnxBatchRunner(manifest, new RuntimeOptions(layout.IntraOp, layout.Spin))).ToArray();
        try
        {
            var warmup = new float[2 * sessions[0].Dimensions];
            var warmText = workloads.Short(0);
            foreach (var session in sessions)
            {
                EmbedBatch(session, [warmText, warmText], warmup);
                EmbedBatch(session, [warmText, warmText], warmup);
            }

            using var start = new Barrier(runners + 1);
            var latencies = new LatencyStats[runners];
            OnnxBatchRunner SessionOf(int thread) => sessions[thread % sessions.Length];
            var counts = new long[runners];
            long stopAt = long.MaxValue;
            var threads = new Thread[runners];
            for (var r = 0; r < runners; r++)
            {
                var id = r;
                threads[r] = new Thread(() =>
                {
                    var output = new float[4096 * SessionOf(id).Dimensions];
                    var latency = latencies[id] = new LatencyStats();
                    start.SignalAndWait();
                    while (Stopwatch.GetTimestamp() < Volatile.Read(ref stopAt))
                    {
                        var began = Stopwatch.GetTimestamp();
                        var done = work(SessionOf(id), output);
                        if (done == 0)
                        {
                            break;
                        }

                        latency.Add(Stopwatch.GetTimestamp() - began);
                        counts[id] += done;
                    }
                }) { IsBackground = true, Name = $"raw-{id}" };
                threads[r].Start();
            }

            start.SignalAndWait();
            var began = Stopwatch.GetTimestamp();
            if (deadline is { } d)
            {
                Volatile.Write(ref stopAt, began + (long)(d * Stopwatch.Frequency));
            }

            foreach (var thread in threads)
            {
                thread.Join();
            }

            var elapsed = Stopwatch.GetElapsedTime(began).TotalSeconds;
            return (counts.Sum(), elapsed, LatencyStats.Pool(latencies));
        }
        finally
        {
            foreach (var session in sessions)
            {
                session.Dispose();
            }
        }
    }

    /// <summary>Text to normalized vectors, the work one batch costs in the service minus HTTP and queueing.</summary>
    private void EmbedBatch(OnnxBatchRunner runner, string[] texts, float[] output)
    {
        var rows = new int[texts.Length][];
        for (var i = 0; i < texts.Length; i++)
        {
            rows[i] = tokenizer.Encode(texts[i], truncate: true, TruncationDirection.Right).Ids;
        }

        var dimensions = runner.Dimensions;
        runner.Run(rows, output.AsSpan(0, texts.Length * dimensions));
        for (var i = 0; i < texts.Length; i++)
        {
            Pooling.Normalize(output.AsSpan(i * dimensions, dimensions));
        }
    }
}
