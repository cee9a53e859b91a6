using System.Text.Json;
using System.Text.Json.Serialization;

namespace EmbeddingService.Api.Contracts;

/// <summary>Source-generated JSON metadata for every type on the wire: no reflection at run time.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, MaxDepth = 32)]
[JsonSerializable(typeof(EmbedRequest))]
[JsonSerializable(typeof(TokenizeRequest))]
[JsonSerializable(typeof(SimilarityRequest))]
[JsonSerializable(typeof(OpenAiEmbeddingRequest))]
[JsonSerializable(typeof(EmbedChunksRequest))]
[JsonSerializable(typeof(EmbedAllRequest))]
[JsonSerializable(typeof(DecodeRequest))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(List<List<ChunkEmbedding>>))]
[JsonSerializable(typeof(float[][][]))]
[JsonSerializable(typeof(float[][]))]
[JsonSerializable(typeof(float[]))]
[JsonSerializable(typeof(List<List<SimpleToken>>))]
[JsonSerializable(typeof(TeiError))]
[JsonSerializable(typeof(OpenAiEmbeddingResponse))]
[JsonSerializable(typeof(OpenAiModelList))]
[JsonSerializable(typeof(OpenAiErrorResponse))]
[JsonSerializable(typeof(InfoResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
internal sealed partial class EmbeddingsJsonContext : JsonSerializerContext
{
}
