using System.Diagnostics.Metrics;

namespace EmbeddingService.Inference.Diagnostics;

/// <summary>
/// The inference library's instruments, on the <c>EmbeddingService</c> meter (System.Diagnostics.Metrics), so any exporter
/// can read them; the host exports them in Prometheus format. Names follow OpenTelemetry conventions (dots, units).
/// </summary>
public sealed class EmbeddingMetrics : IDisposable
{
    public const string MeterName = "EmbeddingService";

    private readonly Meter _meter;
    private readonly Counter<long> _inputs;
    private readonly Counter<long> _tokens;
    private readonly Counter<long> _rejections;
    private readonly Counter<long> _droppedInputs;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<int> _batchTokens;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<double> _tokenizationDuration;
    private readonly Histogram<double> _queueDuration;
    private readonly Histogram<double> _inferenceDuration;
    private readonly Dictionary<string, Func<int>> _queueDepths = new(StringComparer.Ordinal);
    private readonly Lock _queueDepthsLock = new();

    public EmbeddingMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _inputs = _meter.CreateCounter<long>("embedding.inputs", "{input}", "Inputs embedded.");
        _tokens = _meter.CreateCounter<long>("embedding.tokens", "{token}", "Tokens embedded (special tokens included, before padding).");
        _rejections = _meter.CreateCounter<long>("embedding.rejections", "{request}", "Requests answered with an error, by reason.");
        _droppedInputs = _meter.CreateCounter<long>("embedding.dropped.inputs", "{input}", "Queued inputs skipped because their caller went away or timed out.");
        _batchSize = _meter.CreateHistogram<int>("embedding.batch.size", "{input}", "Inputs per forward pass.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _batchTokens = _meter.CreateHistogram<int>("embedding.batch.tokens", "{token}", "Padded tokens per forward pass.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [16, 64, 256, 512, 1024, 2048, 4096, 8192, 16384] });
        var secondsBuckets = new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] };
        _batchDuration = _meter.CreateHistogram<double>("embedding.batch.duration", "s", "Time of one forward pass, pooling included.", advice: secondsBuckets);
        _tokenizationDuration = _meter.CreateHistogram<double>("embedding.tokenization.duration", "s", "Tokenization time per request.", advice: secondsBuckets);
        _queueDuration = _meter.CreateHistogram<double>("embedding.queue.duration", "s", "Time a request waited for its first batch.", advice: secondsBuckets);
        _inferenceDuration = _meter.CreateHistogram<double>("embedding.inference.duration", "s", "Time from a request's first batch start to its last batch end.", advice: secondsBuckets);
        _meter.CreateObservableGauge("embedding.queue.depth", ObserveQueueDepths, "{input}", "Inputs waiting for a batch.");
    }

    public void TrackQueueDepth(string modelId, Func<int> depth)
    {
        lock (_queueDepthsLock)
        {
            _queueDepths[modelId] = depth;
        }
    }

    public void RecordBatch(string modelId, int size, int paddedTokens, TimeSpan duration)
    {
        var model = new KeyValuePair<string, object?>("model", modelId);
        _batchSize.Record(size, model);
        _batchTokens.Record(paddedTokens, model);
        _batchDuration.Record(duration.TotalSeconds, model);
    }

    public void RecordRequest(string modelId, int inputs, int tokens, TimeSpan tokenization, TimeSpan queue, TimeSpan inference)
    {
        var model = new KeyValuePair<string, object?>("model", modelId);
        _inputs.Add(inputs, model);
        _tokens.Add(tokens, model);
        _tokenizationDuration.Record(tokenization.TotalSeconds, model);
        _queueDuration.Record(queue.TotalSeconds, model);
        _inferenceDuration.Record(inference.TotalSeconds, model);
    }

    public void RecordDroppedInputs(string modelId, int count) => _droppedInputs.Add(count, new KeyValuePair<string, object?>("model", modelId));

    /// <summary>Counts a request answered with an error, by <paramref name="reason"/> (validation, overloaded, timeout...).</summary>
    public void RecordRejection(string reason) => _rejections.Add(1, new KeyValuePair<string, object?>("reason", reason));

    private IEnumerable<Measurement<int>> ObserveQueueDepths()
    {
        lock (_queueDepthsLock)
        {
            return _queueDepths.Select(static pair => new Measurement<int>(pair.Value(), new KeyValuePair<string, object?>("model", pair.Key))).ToList();
        }
    }

    public void Dispose() => _meter.Dispose();
}
