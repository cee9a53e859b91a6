using System.Text.Json;
using System.Text.Json.Serialization;

namespace EmbeddingService.Api.Contracts;

/// <summary>An embedding on the wire: floats, or base64 of little-endian float32 (what OpenAI SDKs ask for by default).</summary>
[JsonConverter(typeof(EmbeddingVectorConverter))]
public sealed class EmbeddingVector(ReadOnlyMemory<float> values, bool base64)
{
    public ReadOnlyMemory<float> Values { get; } = values;

    public bool Base64 { get; } = base64;
}

internal sealed class EmbeddingVectorConverter : JsonConverter<EmbeddingVector>
{
    public override EmbeddingVector Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            var bytes = reader.GetBytesFromBase64();
            var floats = new float[bytes.Length / sizeof(float)];
            for (var i = 0; i < floats.Length; i++)
            {
                floats[i] = BitConverter.ToSingle(bytes, i * sizeof(float));
            }

            return new EmbeddingVector(floats, base64: true);
        }

        return new EmbeddingVector(JsonSerializer.Deserialize(ref reader, EmbeddingsJsonContext.Default.SingleArray)!, base64: false);
    }

    public override void Write(Utf8JsonWriter writer, EmbeddingVector value, JsonSerializerOptions options)
    {
        var span = value.Values.Span;
        if (value.Base64)
        {
            // Straight from the float buffer: on little-endian machines the bytes already are the wire format.
            writer.WriteBase64StringValue(BitConverter.IsLittleEndian ? System.Runtime.InteropServices.MemoryMarshal.AsBytes(span) : ToLittleEndian(span));
            return;
        }

        writer.WriteStartArray();
        foreach (var value1 in span)
        {
            writer.WriteNumberValue(value1);
        }

        writer.WriteEndArray();
    }

    private static byte[] ToLittleEndian(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        return bytes;
    }
}
