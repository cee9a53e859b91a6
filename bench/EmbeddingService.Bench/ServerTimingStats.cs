using System.Globalization;
using System.Net.Http.Headers;

namespace EmbeddingService.Bench;

/// <summary>Collects the service's <c>x-total-time</c>, <c>x-queue-time</c> and <c>x-inference-time</c> headers (ms), so a
/// load level shows how much of the client's latency the service spent queueing, in ONNX Runtime, and elsewhere.</summary>
internal sealed class ServerTimingStats
{
    private readonly List<double> _total = [];
    private readonly List<double> _queue = [];
    private readonly List<double> _inference = [];

    public void Add(HttpResponseHeaders headers)
    {
        AddHeader(headers, "x-total-time", _total);
        AddHeader(headers, "x-queue-time", _queue);
        AddHeader(headers, "x-inference-time", _inference);
    }

    public void AddRange(ServerTimingStats other)
    {
        _total.AddRange(other._total);
        _queue.AddRange(other._queue);
        _inference.AddRange(other._inference);
    }

    public ServerTimings Medians() => new(Median(_total), Median(_queue), Median(_inference));

    private static void AddHeader(HttpResponseHeaders headers, string name, List<double> values)
    {
        if (headers.TryGetValues(name, out var found)
            && double.TryParse(found.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
        {
            values.Add(ms);
        }
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        values.Sort();
        return values[(values.Count - 1) / 2];
    }
}
