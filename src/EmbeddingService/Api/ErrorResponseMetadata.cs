using EmbeddingService.Api.Contracts;

namespace EmbeddingService.Api;

/// <summary>Declares each route's error responses, with their body schema, for the OpenAPI document.</summary>
internal static class ErrorResponseMetadata
{
    private static readonly int[] s_statuses = [400, 401, 404, 413, 415, 422, 429, 500, 503];

    public static RouteHandlerBuilder ProducesTeiErrors(this RouteHandlerBuilder builder)
    {
        foreach (var status in s_statuses)
        {
            builder.Produces<TeiError>(status, "application/json");
        }

        return builder;
    }

    public static RouteHandlerBuilder ProducesOpenAiErrors(this RouteHandlerBuilder builder)
    {
        foreach (var status in s_statuses)
        {
            builder.Produces<OpenAiErrorResponse>(status, "application/json");
        }

        return builder;
    }
}
