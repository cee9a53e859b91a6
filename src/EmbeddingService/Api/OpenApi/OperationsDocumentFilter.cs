using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace EmbeddingService.Api.OpenApi;

/// <summary>
/// Adds the routes the API explorer cannot see (health checks and Prometheus metrics are not route handlers), public
/// and plain text, so that the document lists every route a client or an orchestrator calls.
/// </summary>
internal sealed class OperationsDocumentFilter : IDocumentFilter
{
    public void Apply(OpenApiDocument swaggerDoc, DocumentFilterContext context)
    {
        swaggerDoc.Paths ??= [];
        swaggerDoc.Paths["/health"] = Get("Health", "Ready: 200 once the models are loaded and warmed, 503 before and while shutting down",
            ("200", "Ready.", "Healthy"), ("503", "Not ready: models loading, failed, or shutting down.", "Unhealthy"));
        swaggerDoc.Paths["/health/live"] = Get("Live", "Live: 200 while the process runs",
            ("200", "The process runs.", "Healthy"));
        swaggerDoc.Paths["/metrics"] = Get("Metrics", "Prometheus metrics (text exposition format)",
            ("200", "Metrics: queue depth, batch sizes and tokens, stage timings, rejections by reason.", "# HELP embedding_queue_depth ..."));
    }

    private static OpenApiPathItem Get(string operationId, string summary, params (string Status, string Description, string Example)[] responses)
    {
        var operation = new OpenApiOperation
        {
            OperationId = operationId,
            Summary = summary,
            Description = "Public: never needs an API key.",
            Tags = new HashSet<OpenApiTagReference> { new("Operations") },
            Responses = [],
        };
        foreach (var (status, description, example) in responses)
        {
            operation.Responses[status] = new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["text/plain"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String }, Example = JsonValue.Create(example) },
                },
            };
        }

        return new OpenApiPathItem { Operations = new Dictionary<HttpMethod, OpenApiOperation> { [HttpMethod.Get] = operation } };
    }
}
