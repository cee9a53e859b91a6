using System.Text.Json;
using System.Text.Json.Serialization;

namespace EmbeddingService.Api.Contracts;

/// <summary>TEI's <c>InputIds</c>: one list of token ids, or a list of them. <see cref="Single"/> says which was sent, so the
/// answer keeps TEI's shape.</summary>
[JsonConverter(typeof(TokenIdListsConverter))]
public sealed class TokenIdLists(IReadOnlyList<IReadOnlyList<int>> lists, bool single)
{
    public IReadOnlyList<IReadOnlyList<int>> Lists { get; } = lists;

    /// <summary>One list was sent, not a list of lists.</summary>
    public bool Single { get; } = single;
}

internal sealed class TokenIdListsConverter : JsonConverter<TokenIdLists>
{
    public override TokenIdLists Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException($"`ids` must be a list of token ids or a list of such lists; got {StringOrListConverter.Describe(reader.TokenType)}.");
        }

        if (!reader.Read())
        {
            throw new JsonException("Unexpected end of `ids`.");
        }

        switch (reader.TokenType)
        {
            case JsonTokenType.EndArray:
                return new TokenIdLists([], single: true);
            case JsonTokenType.Number:
                return new TokenIdLists([TokenIdReader.ReadIds(ref reader, "ids")], single: true);
            case JsonTokenType.StartArray:
                return new TokenIdLists(TokenIdReader.ReadIdLists(ref reader, "ids"), single: false);
            default:
                throw new JsonException($"`ids` items must be token ids or lists of them; got {StringOrListConverter.Describe(reader.TokenType)}.");
        }
    }

    public override void Write(Utf8JsonWriter writer, TokenIdLists value, JsonSerializerOptions options)
    {
        if (!value.Single)
        {
            writer.WriteStartArray();
        }

        foreach (var ids in value.Lists)
        {
            writer.WriteStartArray();
            foreach (var id in ids)
            {
                writer.WriteNumberValue(id);
            }

            writer.WriteEndArray();
        }

        if (!value.Single)
        {
            writer.WriteEndArray();
        }
    }
}

/// <summary>Token-id lists in request bodies (<c>/v1/embeddings</c>' <c>input</c>, <c>/decode</c>'s <c>ids</c>), read alike.</summary>
internal static class TokenIdReader
{
    /// <summary>Reads lists of integers up to the outer closing bracket; the reader starts on the first inner list's
    /// opening bracket. An empty inner list is kept (the caller decides whether it is allowed).</summary>
    public static List<IReadOnlyList<int>> ReadIdLists(ref Utf8JsonReader reader, string field)
    {
        var lists = new List<IReadOnlyList<int>>();
        do
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new JsonException($"`{field}[{lists.Count}]` must be a list of token ids like the other items; got {StringOrListConverter.Describe(reader.TokenType)}.");
            }

            if (!reader.Read())
            {
                throw new JsonException($"Unexpected end of `{field}`.");
            }

            lists.Add(reader.TokenType == JsonTokenType.EndArray ? [] : ReadIds(ref reader, $"{field}[{lists.Count}]"));
        }
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray);

        return lists;
    }

    /// <summary>Reads integers up to the closing bracket; the reader starts on the first number.</summary>
    public static List<int> ReadIds(ref Utf8JsonReader reader, string path)
    {
        var ids = new List<int>();
        do
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var id))
            {
                throw new JsonException($"`{path}[{ids.Count}]` must be an integer token id; got {StringOrListConverter.Describe(reader.TokenType)}.");
            }

            ids.Add(id);
        }
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray);

        return ids;
    }
}
