using System.Diagnostics.Metrics;
using EmbeddingService.Inference.Batching;
using EmbeddingService.Inference.Caching;

namespace EmbeddingService.Inference.Diagnostics;

/// <summary>
/// The inference library's instruments, on the <c>EmbeddingService</c> meter (System.Diagnostics.Metrics), so any exporter
/// can read them; the host exports them in Prometheus format. Names follow OpenTelemetry conventions (dots, units).
/// <para>
/// One meter per process rather than one per DI container (IMeterFactory): exporters subscribe by meter name, and with two
/// live meters of the same name (several hosts in one process, as in the integration tests) they keep the instruments
/// of one and ignore the other's.
/// </para>
/// </summary>
public sealed class EmbeddingMetrics
{
    public const string MeterName = "EmbeddingService";

    private static readonly Meter s_meter = new(MeterName);
    private static readonly Dictionary<string, Func<QueueSnapshot>> s_queues = new(StringComparer.Ordinal);
    private static readonly Lock s_queuesLock = new();

    private static readonly Counter<long> s_inputs;
    private static readonly Counter<long> s_tokens;
    private static readonly Counter<long> s_rejections;
    private static readonly Counter<long> s_droppedInputs;
    private static readonly Counter<long> s_cacheHits;
    private static readonly Counter<long> s_cacheMisses;
    private static readonly List<EmbeddingCache> s_caches = [];
    private static readonly Histogram<int> s_batchSize;
    private static readonly Histogram<int> s_batchTokens;
    private static readonly Histogram<double> s_batchDuration;
    private static readonly Histogram<double> s_tokenizationDuration;
    private static readonly Histogram<double> s_queueDuration;
    private static readonly Histogram<double> s_inferenceDuration;

    static EmbeddingMetrics()
    {
        s_inputs = s_meter.CreateCounter<long>("embedding.inputs", "{input}", "Inputs answered, by the model or from the embedding cache (embedding.cache.hits says how many from the cache).");
        s_tokens = s_meter.CreateCounter<long>("embedding.tokens", "{token}", "Tokens of the inputs answered (special tokens included, before padding), cached inputs too.");
        s_rejections = s_meter.CreateCounter<long>("embedding.rejections", "{request}", "Requests answered with an error, by reason.");
        s_droppedInputs = s_meter.CreateCounter<long>("embedding.dropped.inputs", "{input}", "Queued inputs skipped because their caller went away or timed out, or their request failed.");
        // Exported as embedding_cache_hits_total and embedding_cache_misses_total, embedding_cache_entries and
        // embedding_cache_bytes: README and the dashboard name them.
        s_cacheHits = s_meter.CreateCounter<long>("embedding.cache.hits", "{input}", "Model inputs whose pooled vector came from the embedding cache.");
        s_cacheMisses = s_meter.CreateCounter<long>("embedding.cache.misses", "{input}",
            "Model inputs the embedding cache did not serve and the model ran (Cache-Control: no-cache included; no-store and a cache turned off count in neither).");
        s_meter.CreateObservableGauge("embedding.cache.entries", static () => ObserveCaches(static c => c.Entries), "{entry}", "Entries in the embedding cache.");
        s_meter.CreateObservableGauge("embedding.cache.bytes", static () => ObserveCaches(static c => c.Bytes), "By",
            "Bytes the embedding cache holds, as it counts them (ids, vector and a fixed overhead per entry); at most Cache:MaxBytes.");
        s_batchSize = s_meter.CreateHistogram<int>("embedding.batch.size", "{input}", "Inputs per forward pass.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        s_batchTokens = s_meter.CreateHistogram<int>("embedding.batch.tokens", "{token}", "Padded tokens per forward pass.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [16, 64, 256, 512, 1024, 2048, 4096, 8192, 16384] });
        var secondsBuckets = new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] };
        s_batchDuration = s_meter.CreateHistogram<double>("embedding.batch.duration", "s", "Time of one forward pass, pooling included.", advice: secondsBuckets);
        s_tokenizationDuration = s_meter.CreateHistogram<double>("embedding.tokenization.duration", "s", "Tokenization time per request.", advice: secondsBuckets);
        s_queueDuration = s_meter.CreateHistogram<double>("embedding.queue.duration", "s", "Time a request waited for its first batch.", advice: secondsBuckets);
        s_inferenceDuration = s_meter.CreateHistogram<double>("embedding.inference.duration", "s", "Time from a request's first batch start to its last batch end.", advice: secondsBuckets);
        // Exported as embedding_queue_inputs, embedding_queue_tokens and embedding_queue_drain_seconds: deployment files
        // (the KEDA ScaledObject) and the dashboard rely on these names.
        s_meter.CreateObservableGauge("embedding.queue.inputs", () => ObserveQueues(static q => q.Inputs), "{input}", "Inputs waiting for a batch.");
        s_meter.CreateObservableGauge("embedding.queue.tokens", () => ObserveQueues(static q => q.Tokens), "{token}", "Tokens of the inputs waiting for a batch.");
        s_meter.CreateObservableGauge("embedding.queue.drain", () => ObserveQueues(static q => q.DrainSeconds), "s",
            "Estimated time to run what waits: queued tokens divided by the tokens per second the model runs now.");
    }

    /// <summary>Exports <paramref name="queue"/> as the model's queue gauges (inputs, tokens, drain seconds).</summary>
    public void TrackQueue(string modelId, Func<QueueSnapshot> queue)
    {
        lock (s_queuesLock)
        {
            s_queues[modelId] = queue;
        }
    }

    /// <summary>Adds <paramref name="cache"/>'s size to the cache gauges until <see cref="UntrackCache"/>. A process has one
    /// cache, but for tests, which run several hosts: the gauges give the sum.</summary>
    public void TrackCache(EmbeddingCache cache)
    {
        lock (s_caches)
        {
            s_caches.Add(cache);
        }
    }

    public void UntrackCache(EmbeddingCache cache)
    {
        lock (s_caches)
        {
            s_caches.Remove(cache);
        }
    }

    /// <summary>Counts one request's cache lookups, in model inputs.</summary>
    public void RecordCacheLookups(string modelId, int hits, int misses)
    {
        var model = new KeyValuePair<string, object?>("model", modelId);
        s_cacheHits.Add(hits, model);
        s_cacheMisses.Add(misses, model);
    }

    /// <param name="session"><c>shared</c>, or <c>lone</c> for the lone-request session (<c>Batching:LoneRequestThreads</c>).</param>
    public void RecordBatch(string modelId, int size, int paddedTokens, TimeSpan duration, string session)
    {
        var model = new KeyValuePair<string, object?>("model", modelId);
        s_batchSize.Record(size, model);
        s_batchTokens.Record(paddedTokens, model);
        s_batchDuration.Record(duration.TotalSeconds, model, new KeyValuePair<string, object?>("session", session));
    }

    /// <param name="ran">Whether the model ran any of the request's inputs: a request answered wholly from the embedding
    /// cache never queued, and its zero queue and inference times would make those histograms look better than the model is.</param>
    public void RecordRequest(string modelId, int inputs, int tokens, TimeSpan tokenization, TimeSpan queue, TimeSpan inference, bool ran = true)
    {
        var model = new KeyValuePair<string, object?>("model", modelId);
        s_inputs.Add(inputs, model);
        s_tokens.Add(tokens, model);
        s_tokenizationDuration.Record(tokenization.TotalSeconds, model);
        if (ran)
        {
            s_queueDuration.Record(queue.TotalSeconds, model);
            s_inferenceDuration.Record(inference.TotalSeconds, model);
        }
    }

    public void RecordDroppedInputs(string modelId, int count) => s_droppedInputs.Add(count, new KeyValuePair<string, object?>("model", modelId));

    /// <summary>Counts a request answered with an error, by <paramref name="reason"/> (validation, overloaded, timeout...).</summary>
    public void RecordRejection(string reason) => s_rejections.Add(1, new KeyValuePair<string, object?>("reason", reason));

    private static long ObserveCaches(Func<EmbeddingCache, long> measure)
    {
        lock (s_caches)
        {
            return s_caches.Sum(measure);
        }
    }

    private static List<Measurement<T>> ObserveQueues<T>(Func<QueueSnapshot, T> measure)
        where T : struct
    {
        lock (s_queuesLock)
        {
            return s_queues.Select(pair => new Measurement<T>(measure(pair.Value()), new KeyValuePair<string, object?>("model", pair.Key))).ToList();
        }
    }
}
