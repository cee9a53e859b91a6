using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace EmbeddingService.Tests.Deployment;

/// <summary>
/// Reads a YAML file (docker-compose.yml, the Kubernetes manifests, Prometheus and Grafana configuration) into plain values:
/// mappings become <see cref="Dictionary{TKey,TValue}"/> of string to object, sequences <see cref="List{T}"/>, scalars
/// strings as written (no type guessing: <c>true</c> stays <c>"true"</c>, <c>0</c> stays <c>"0"</c>), empty values null.
/// Anchors, aliases and <c>&lt;&lt;</c> merge keys are resolved as Docker Compose resolves them: YamlDotNet's plain parser
/// keeps <c>&lt;&lt;</c> as an ordinary key, so the events go through its <see cref="MergingParser"/> first.
/// </summary>
internal static class YamlFile
{
    private static readonly IDeserializer s_deserializer = new DeserializerBuilder().Build();

    public static Dictionary<string, object?> Load(string path) => Parse(File.ReadAllText(path), path);

    public static Dictionary<string, object?> Parse(string text, string source = "yaml")
    {
        using var reader = new StringReader(text);
        object? document;
        try
        {
            document = s_deserializer.Deserialize(new MergingParser(new Parser(reader)));
        }
        catch (YamlException e)
        {
            throw new FormatException($"{source}: {e.Message}", e);
        }

        return Plain(document) as Dictionary<string, object?> ?? throw new FormatException($"{source}: the document is not a mapping");
    }

    /// <summary>YamlDotNet's untyped result (object-keyed dictionaries, lists of objects) as string-keyed values.</summary>
    private static object? Plain(object? node) => node switch
    {
        IDictionary<object, object?> map => map.ToDictionary(static e => (string)e.Key, static e => Plain(e.Value), StringComparer.Ordinal),
        IList<object?> items => items.Select(Plain).ToList(),
        _ => node,
    };
}

/// <summary>Navigation over what <see cref="YamlFile"/> returns, failing with the key that was missing or of the wrong shape.</summary>
internal static class YamlNode
{
    public static Dictionary<string, object?> Map(this object? node, string key) =>
        node.Get(key) as Dictionary<string, object?> ?? throw new KeyNotFoundException($"'{key}' is not a mapping");

    public static List<object?> Seq(this object? node, string key) =>
        node.Get(key) as List<object?> ?? throw new KeyNotFoundException($"'{key}' is not a sequence");

    public static string Str(this object? node, string key) =>
        node.Get(key) as string ?? throw new KeyNotFoundException($"'{key}' is not a scalar");

    public static object? Get(this object? node, string key) =>
        node is Dictionary<string, object?> map
            ? map.TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no key '{key}' (keys: {string.Join(", ", map.Keys)})")
            : throw new KeyNotFoundException($"looking up '{key}' in something that is not a mapping");

    public static IEnumerable<Dictionary<string, object?>> Maps(this List<object?> items) => items.Cast<Dictionary<string, object?>>();
}
