using System.Text.RegularExpressions;

namespace EmbeddingService.Tests.Deployment;

/// <summary>A series selector in a PromQL expression: the metric it reads and its label matchers (label to value).</summary>
internal sealed record PromSelector(string Metric, IReadOnlyDictionary<string, string> Matchers);

/// <summary>
/// What a PromQL expression (a dashboard panel's, the KEDA trigger's) reads: its series selectors. Enough to check the
/// names against what the service exports; not a validating parser. Function and aggregation names are told apart by
/// the parenthesis after them, grouping clauses (<c>by (le, model)</c>) name labels of a result rather than series, and
/// Grafana's variables (<c>$model</c>, <c>$__rate_interval</c>) stand only in label values and ranges.
/// </summary>
internal static partial class PromQl
{
    /// <summary>Binary and modifier keywords, which read like metric names but select nothing.</summary>
    private static readonly HashSet<string> s_keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "and", "or", "unless", "atan2", "bool", "offset", "group_left", "group_right", "inf", "nan",
    };

    public static IReadOnlyList<PromSelector> Selectors(string expression)
    {
        // Strings first (a label value may hold anything), kept aside and put back into the matchers that quote them.
        var strings = new List<string>();
        var text = StringLiteral().Replace(expression, m =>
        {
            strings.Add(Regex.Unescape(m.Groups[1].Value));
            return $"\"{strings.Count - 1}\"";
        });
        text = Range().Replace(text, " ");
        text = Grouping().Replace(text, " ");

        var selectors = new List<PromSelector>();
        foreach (Match match in Selector().Matches(text))
        {
            var name = match.Groups["name"].Value;
            if (match.Groups["call"].Success || s_keywords.Contains(name))
            {
                continue;
            }

            var matchers = Matcher().Matches(match.Groups["matchers"].Value)
                .ToDictionary(static m => m.Groups["label"].Value, m => strings[int.Parse(m.Groups["index"].Value)], StringComparer.Ordinal);
            selectors.Add(new PromSelector(name, matchers));
        }

        return selectors;
    }

    [GeneratedRegex("""
        "((?:[^"\\]|\\.)*)"
        """)]
    private static partial Regex StringLiteral();

    /// <summary>A range or subquery window, <c>[5m]</c>, <c>[$__rate_interval]</c>, <c>[1h:5m]</c>.</summary>
    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Range();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    /// <summary>A name not inside another token (so not the digits of <c>0.95</c>), its matchers, and whether a call follows.</summary>
    [GeneratedRegex(@"(?<![\w:.$])(?<name>[A-Za-z_:][\w:]*)\s*(?<matchers>\{[^}]*\})?(?<call>\s*\()?")]
    private static partial Regex Selector();

    [GeneratedRegex("""
        (?<label>[A-Za-z_]\w*)\s*(?:=~|!~|!=|=)\s*"(?<index>\d+)"
        """)]
    private static partial Regex Matcher();
}
