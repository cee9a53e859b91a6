using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace EmbeddingService.Api.OpenApi;

/// <summary>
/// Adds the route the API explorer cannot see (the Prometheus scraping endpoint is not a route handler), public and
/// plain text, so that the document lists every route a client or an orchestrator calls.
/// </summary>
internal sealed class OperationsDocumentFilter : IDocumentFilter
{
    public void Apply(OpenApiDocument swaggerDoc, DocumentFilterContext context)
    {
        swaggerDoc.Paths ??= [];
        swaggerDoc.Paths["/metrics"] = Get("Metrics", "Prometheus metrics (text exposition format)",
            ("200", "Metrics: queue (inputs, tokens, drain seconds), batch sizes and tokens, stage timings, rejections by reason.", "# HELP embedding_queue_inputs ..."));
    }

    private static OpenApiPathItem Get(string operationId, string summary, params (string Status, string Description, string Example)[] responses)
    {
        var operation = new OpenApiOperation
        {
            OperationId = operationId,
            Summary = summary,
            Description = "Public unless Auth:ProtectMetrics is set.",
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
