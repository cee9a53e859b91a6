using System.Text.Json;
using System.Text.Json.Serialization;

namespace EmbeddingService.Api.Contracts;

/// <summary>TEI's <c>inputs</c>: one string or a list of strings. Anything else is a 422 with the JSON path at fault.</summary>
[JsonConverter(typeof(StringOrListConverter))]
public sealed class StringOrList
{
    public StringOrList(IReadOnlyList<string> items, bool isList)
    {
        Items = items;
        IsList = isList;
    }

    public IReadOnlyList<string> Items { get; }

    /// <summary>Whether the caller sent a list (rather than a single string).</summary>
    public bool IsList { get; }
}

internal sealed class StringOrListConverter : JsonConverter<StringOrList>
{
    public override StringOrList Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return new StringOrList([reader.GetString()!], isList: false);
            case JsonTokenType.StartArray:
                var items = new List<string>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new JsonException($"Expected a string at position {items.Count} of the list, got {Describe(reader.TokenType)}.");
                    }

                    items.Add(reader.GetString()!);
                }

                return new StringOrList(items, isList: true);
            default:
                throw new JsonException($"Expected a string or a list of strings, got {Describe(reader.TokenType)}.");
        }
    }

    public override void Write(Utf8JsonWriter writer, StringOrList value, JsonSerializerOptions options)
    {
        if (!value.IsList && value.Items.Count == 1)
        {
            writer.WriteStringValue(value.Items[0]);
            return;
        }

        writer.WriteStartArray();
        foreach (var item in value.Items)
        {
            writer.WriteStringValue(item);
        }

        writer.WriteEndArray();
    }

    internal static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "a list",
        JsonTokenType.Null => "null",
        JsonTokenType.String => "a string",
        _ => token.ToString(),
    };
}
