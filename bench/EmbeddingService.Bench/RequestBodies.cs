using System.Text;
using System.Text.Json;

namespace EmbeddingService.Bench;

/// <summary>JSON bodies for <c>POST /embed</c>, good and deliberately bad.</summary>
internal static class RequestBodies
{
    /// <summary><c>{"inputs": [...], "model": ...}</c>.</summary>
    public static byte[] Embed(IReadOnlyList<string> texts, string model)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("inputs");
            foreach (var text in texts)
            {
                json.WriteStringValue(text);
            }

            json.WriteEndArray();
            json.WriteString("model", model);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Bodies that are not valid requests, with the name the soak reports them under.</summary>
    public static readonly (string Kind, byte[] Body)[] Malformed =
    [
        ("truncated json", Encoding.UTF8.GetBytes("{\"inputs\": [\"a cut-off request")),
        ("not json", Encoding.UTF8.GetBytes("inputs=hello")),
        ("wrong type", Encoding.UTF8.GetBytes("{\"inputs\": 42}")),
        ("empty body", []),
    ];
}
