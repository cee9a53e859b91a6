namespace EmbeddingService.Api.Errors;

/// <summary>Which family of routes a request belongs to, and so which error body it gets.</summary>
internal enum ApiSurface
{
    /// <summary>Text Embeddings Inference routes: <c>{"error", "error_type"}</c>.</summary>
    Tei,
    /// <summary>OpenAI routes under <c>/v1</c>, and TEI's alias <c>/embeddings</c>: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
    OpenAi,
}

internal static class ApiSurfaces
{
    public static ApiSurface Of(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase)
        || context.Request.Path.Equals(OpenAiApi.EmbeddingsAlias, StringComparison.OrdinalIgnoreCase)
            ? ApiSurface.OpenAi
            : ApiSurface.Tei;
}
