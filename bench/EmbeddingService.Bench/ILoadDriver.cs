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
    /// <param name="cacheControl">A <c>Cache-Control</c> header for every request (<see cref="NoStore"/> for levels whose
    /// texts repeat, so they keep measuring forward passes); null sends none and the service's cache is used.</param>
    /// <param name="requestsPerSecondCeiling">More requests per second than the level can reach, so that no body is sent
    /// twice (drivers that write the bodies out first write this many per second of the run).</param>
    Task<LoadResult> RunAsync(string name, int connections, int sentencesPerRequest, Func<long, byte[]>? body,
        double leadInSeconds, double seconds, ServiceProcess service, string? cacheControl = null, int requestsPerSecondCeiling = DefaultRequestsPerSecondCeiling);

    /// <summary>The service neither reads nor writes its embedding cache for the request.</summary>
    public const string NoStore = "no-store";

    /// <summary>More sentences per second than any level of forward passes reaches here (~800): cache hits go faster.</summary>
    public const int DefaultRequestsPerSecondCeiling = 3000;
}
