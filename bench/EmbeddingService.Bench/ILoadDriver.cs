namespace EmbeddingService.Bench;

/// <summary>A closed-loop HTTP load generator for one load level: <see cref="WrkDriver"/> where <c>wrk</c> is installed,
/// else <see cref="LoadDriver"/>.</summary>
internal interface ILoadDriver : IDisposable
{
    /// <summary>What generates the load, for the report.</summary>
    string Name { get; }

    /// <summary>Runs <paramref name="connections"/> connections, each with one request in flight; request number <c>i</c>
    /// posts <paramref name="body"/>(i) to <c>/embed</c>, or, when <paramref name="body"/> is null, is a
    /// <c>GET /health/live</c> (the HTTP round trip alone). Counts the requests that finish in the
    /// <paramref name="seconds"/> after a lead-in of <paramref name="leadInSeconds"/> at the same load.</summary>
    Task<LoadResult> RunAsync(string name, int connections, int sentencesPerRequest, Func<long, byte[]>? body,
        double leadInSeconds, double seconds, ServiceProcess service);
}
