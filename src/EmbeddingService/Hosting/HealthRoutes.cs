namespace EmbeddingService.Hosting;

/// <summary>
/// Which requests are health probes: <c>/health</c> and <c>/health/live</c>, and TEI's aliases of <c>/health</c> for the
/// Hugging Face Inference API (<c>GET /</c>) and AWS SageMaker (<c>GET /ping</c>). The middleware before routing (API keys,
/// rate limiting, request logging) reads this one rule, so probes stay public, unlimited and quiet; <c>POST /</c> is
/// <c>/embed</c> and gets none of that.
/// </summary>
internal static class HealthRoutes
{
    public static bool IsProbe(HttpRequest request) =>
        request.Path.StartsWithSegments("/health")
        || (HttpMethods.IsGet(request.Method) && (request.Path == "/" || request.Path == "/ping"));
}
