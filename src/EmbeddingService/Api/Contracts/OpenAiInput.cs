using System.Text.Json;
using System.Text.Json.Serialization;

namespace EmbeddingService.Api.Contracts;

/// <summary>
/// OpenAI's <c>input</c>: a string, a list of strings, a list of token ids (one input) or a list of lists of token ids.
/// Exactly one of <see cref="Texts"/> and <see cref="TokenIds"/> is set.
/// </summary>
[JsonConverter(typeof(OpenAiInputConverter))]
public sealed class OpenAiInput
{
    private OpenAiInput(IReadOnlyList<string>? texts, IReadOnlyList<IReadOnlyList<int>>? tokenIds)
    {
        Texts = texts;
        TokenIds = tokenIds;
    }

    public IReadOnlyList<string>? Texts { get; }

    public IReadOnlyList<IReadOnlyList<int>>? TokenIds { get; }

    public int Count => Texts?.Count ?? TokenIds!.Count;

    public static OpenAiInput FromTexts(IReadOnlyList<string> texts) => new(texts, null);

    public static OpenAiInput FromTokenIds(IReadOnlyList<IReadOnlyList<int>> tokenIds) => new(null, tokenIds);
}

internal sealed class OpenAiInputConverter : JsonConverter<OpenAiInput>
{
    public override OpenAiInput Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return OpenAiInput.FromTexts([reader.GetString()!]);
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException($"`input` must be a string, a list of strings or a list of token ids; got {StringOrListConverter.Describe(reader.TokenType)}.");
        }

        if (!reader.Read())
        {
            throw new JsonException("Unexpected end of `input`.");
        }

        switch (reader.TokenType)
        {
            case JsonTokenType.EndArray:
                return OpenAiInput.FromTexts([]);
            case JsonTokenType.String:
                var texts = new List<string>();
                do
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new JsonException($"`input[{texts.Count}]` must be a string like the other items; got {StringOrListConverter.Describe(reader.TokenType)}.");
                    }

                    texts.Add(reader.GetString()!);
                }
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray);

                return OpenAiInput.FromTexts(texts);
            case JsonTokenType.Number:
                return OpenAiInput.FromTokenIds([TokenIdReader.ReadIds(ref reader, "input")]);
            case JsonTokenType.StartArray:
                return OpenAiInput.FromTokenIds(TokenIdReader.ReadIdLists(ref reader, "input"));
            default:
                throw new JsonException($"`input` items must be strings or token ids; got {StringOrListConverter.Describe(reader.TokenType)}.");
        }
    }

    public override void Write(Utf8JsonWriter writer, OpenAiInput value, JsonSerializerOptions options)
    {
        if (value.Texts is not null)
        {
            JsonSerializer.Serialize(writer, value.Texts, EmbeddingsJsonContext.Default.IReadOnlyListString);
            return;
        }

        writer.WriteStartArray();
        foreach (var ids in value.TokenIds!)
        {
            writer.WriteStartArray();
            foreach (var id in ids)
            {
                writer.WriteNumberValue(id);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndArray();
    }
}
