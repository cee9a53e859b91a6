using System.Globalization;

namespace EmbeddingService.Tests.Deployment;

/// <summary>
/// Reads the YAML subset our deployment files use, so the tests need no YAML package: block mappings and sequences,
/// plain and quoted scalars, one-line flow sequences (<c>["a", "b"]</c>), <c>{}</c>, comments, and anchors with merge
/// keys (<c>&amp;name</c>, <c>*name</c>, <c>&lt;&lt;: *name</c>). Anything else (block scalars, multi-line flows, tags,
/// several documents) throws, so a file that outgrows the subset fails the tests loudly instead of being misread.
/// Mappings become <see cref="Dictionary{TKey,TValue}"/> of string to object, sequences <see cref="List{T}"/>, scalars strings.
/// </summary>
internal sealed class MiniYaml
{
    private readonly List<(int Indent, string Text, int Number)> _lines = [];
    private readonly Dictionary<string, object?> _anchors = new(StringComparer.Ordinal);
    private readonly string _source;
    private int _next;

    private MiniYaml(string text, string source)
    {
        _source = source;
        var number = 0;
        foreach (var raw in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            number++;
            if (raw.Contains('\t', StringComparison.Ordinal))
            {
                throw Error(number, "tabs are not allowed");
            }

            var content = StripComment(raw).TrimEnd();
            if (content.Trim().Length == 0)
            {
                continue;
            }

            if (content is "---" or "...")
            {
                throw Error(number, "several documents in one file are not supported");
            }

            var indent = content.Length - content.TrimStart(' ').Length;
            _lines.Add((indent, content[indent..], number));
        }
    }

    public static Dictionary<string, object?> ParseFile(string path) => Parse(File.ReadAllText(path), path);

    public static Dictionary<string, object?> Parse(string text, string source = "yaml")
    {
        var reader = new MiniYaml(text, source);
        if (reader._lines.Count == 0)
        {
            return [];
        }

        var root = reader.ParseBlock(reader._lines[0].Indent);
        if (reader._next < reader._lines.Count)
        {
            throw reader.Error(reader._lines[reader._next].Number, "unexpected indentation");
        }

        return root as Dictionary<string, object?> ?? throw reader.Error(1, "the document is not a mapping");
    }

    private object? ParseBlock(int indent) =>
        IsSequenceItem(_lines[_next].Text) ? ParseSequence(indent) : ParseMapping(indent);

    private List<object?> ParseSequence(int indent)
    {
        var items = new List<object?>();
        while (_next < _lines.Count && _lines[_next].Indent == indent && IsSequenceItem(_lines[_next].Text))
        {
            var (_, text, number) = _lines[_next];
            var rest = text.Length > 1 ? text[2..].TrimStart(' ') : string.Empty;
            if (rest.Length == 0)
            {
                _next++;
                items.Add(ChildBlock(indent, number));
            }
            else if (SplitKey(rest, out _, out _))
            {
                // "- key: value": a mapping whose first line starts after the dash.
                var column = indent + text.Length - rest.Length;
                _lines[_next] = (column, rest, number);
                items.Add(ParseMapping(column));
            }
            else
            {
                _next++;
                items.Add(ParseValue(rest, indent, number));
            }
        }

        return items;
    }

    private Dictionary<string, object?> ParseMapping(int indent)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        var merged = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (_next < _lines.Count && _lines[_next].Indent == indent)
        {
            var (_, text, number) = _lines[_next];
            if (IsSequenceItem(text))
            {
                break;
            }

            if (!SplitKey(text, out var key, out var value))
            {
                throw Error(number, $"expected 'key: value', found '{text}'");
            }

            _next++;
            var parsed = value.Length == 0 ? ChildBlock(indent, number, sequenceMayShareIndent: true) : ParseValue(value, indent, number);
            if (key == "<<")
            {
                foreach (var (k, v) in parsed as Dictionary<string, object?> ?? throw Error(number, "'<<' must merge a mapping"))
                {
                    merged[k] = v;
                }

                continue;
            }

            if (!map.TryAdd(key, parsed))
            {
                throw Error(number, $"duplicate key '{key}'");
            }
        }

        foreach (var (k, v) in merged)
        {
            map.TryAdd(k, v); // explicit keys win over merged ones
        }

        return map;
    }

    /// <summary>The block under a key or dash: more indented, or (for a key) a sequence at the key's own indentation.</summary>
    private object? ChildBlock(int parentIndent, int number, bool sequenceMayShareIndent = false)
    {
        if (_next >= _lines.Count)
        {
            return null;
        }

        var (indent, text, _) = _lines[_next];
        if (indent > parentIndent || (sequenceMayShareIndent && indent == parentIndent && IsSequenceItem(text)))
        {
            return ParseBlock(indent);
        }

        return null;
    }

    private object? ParseValue(string value, int indent, int number)
    {
        if (value.StartsWith('&'))
        {
            var space = value.IndexOf(' ', StringComparison.Ordinal);
            var name = space < 0 ? value[1..] : value[1..space];
            var rest = space < 0 ? string.Empty : value[(space + 1)..].Trim();
            var node = rest.Length == 0 ? ChildBlock(indent, number) : ParseValue(rest, indent, number);
            _anchors[name] = node;
            return node;
        }

        if (value.StartsWith('*'))
        {
            return _anchors.TryGetValue(value[1..], out var node) ? node : throw Error(number, $"unknown alias '{value}'");
        }

        if (value.StartsWith('[') || value.StartsWith('{'))
        {
            return ParseFlow(value, number);
        }

        if (value.StartsWith('|') || value.StartsWith('>') || value.StartsWith('!') || value.StartsWith('%'))
        {
            throw Error(number, $"'{value}' (block scalars, tags, directives) is not supported");
        }

        return Unquote(value, number);
    }

    private object ParseFlow(string value, int number)
    {
        if (value == "{}")
        {
            return new Dictionary<string, object?>(StringComparer.Ordinal);
        }

        if (!value.StartsWith('[') || !value.EndsWith(']'))
        {
            throw Error(number, $"only one-line flow sequences and {{}} are supported: '{value}'");
        }

        var items = new List<object?>();
        var inner = value[1..^1].Trim();
        if (inner.Length == 0)
        {
            return items;
        }

        var start = 0;
        char? quote = null;
        for (var i = 0; i <= inner.Length; i++)
        {
            if (i < inner.Length && quote is not null)
            {
                if (inner[i] == quote)
                {
                    quote = null;
                }

                continue;
            }

            if (i < inner.Length && inner[i] is '"' or '\'')
            {
                quote = inner[i];
                continue;
            }

            if (i < inner.Length && inner[i] is '[' or '{')
            {
                throw Error(number, "nested flow collections are not supported");
            }

            if (i == inner.Length || inner[i] == ',')
            {
                items.Add(Unquote(inner[start..i].Trim(), number));
                start = i + 1;
            }
        }

        return items;
    }

    private string Unquote(string value, int number)
    {
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            var inner = value[1..^1];
            if (inner.Contains('\\', StringComparison.Ordinal))
            {
                throw Error(number, "escapes in double-quoted strings are not supported");
            }

            return inner;
        }

        if (value.Length >= 2 && value[0] == '\'' && value[^1] == '\'')
        {
            return value[1..^1].Replace("''", "'", StringComparison.Ordinal);
        }

        if (value[0] is '"' or '\'')
        {
            throw Error(number, "unterminated or multi-line quoted strings are not supported");
        }

        return value;
    }

    private static bool IsSequenceItem(string text) => text == "-" || text.StartsWith("- ", StringComparison.Ordinal);

    /// <summary>Splits "key: value" at the first ": " (or a trailing ":") outside quotes.</summary>
    private static bool SplitKey(string text, out string key, out string value)
    {
        key = value = string.Empty;
        if (text.StartsWith('[') || text.StartsWith('{'))
        {
            return false;
        }

        char? quote = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote is not null)
            {
                if (c == quote)
                {
                    quote = null;
                }

                continue;
            }

            if (i == 0 && c is '"' or '\'')
            {
                quote = c;
                continue;
            }

            if (c == ':' && (i == text.Length - 1 || text[i + 1] == ' '))
            {
                key = text[..i].Trim().Trim('"', '\'');
                value = text[(i + 1)..].Trim();
                return key.Length > 0;
            }
        }

        return false;
    }

    /// <summary>Drops a comment: '#' at the start of the content or after a space, outside quotes.</summary>
    private static string StripComment(string line)
    {
        char? quote = null;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote is not null)
            {
                if (c == quote)
                {
                    quote = null;
                }
            }
            else if (c is '"' or '\'' && (i == 0 || line[i - 1] is ' ' or '[' or ',' or ':'))
            {
                quote = c;
            }
            else if (c == '#' && (i == 0 || line[i - 1] == ' '))
            {
                return line[..i];
            }
        }

        return line;
    }

    private FormatException Error(int line, string message) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{_source}:{line}: {message}"));
}

/// <summary>Navigation helpers over what <see cref="MiniYaml"/> returns.</summary>
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
