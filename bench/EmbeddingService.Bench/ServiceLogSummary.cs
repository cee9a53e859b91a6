using System.Text.Json;
using System.Text.RegularExpressions;

namespace EmbeddingService.Bench;

/// <summary>
/// What the service logged at Warning and above during a run, from its log file: counts by level, the two Kestrel
/// messages the issue reports (a warning that names a connection closed while reading, and its exception), and the first
/// few distinct messages. Reads the text format (<c>[HH:mm:ss WRN] message {properties}</c>, an exception on the lines
/// after) and the JSON one (<c>Logging:Format=json</c>: <c>@l</c>, <c>@m</c>, <c>@x</c>).
/// </summary>
internal sealed partial record ServiceLogSummary(long Lines, long Warnings, long Errors, long AbnormalEnds, long ReadingInProgress,
    IReadOnlyList<(string Message, long Count)> Distinct)
{
    public const string AbnormalEndText = "Connection processing ended abnormally";
    public const string ReadingInProgressText = "Reading is already in progress";

    private const int DistinctShown = 5;

    public static ServiceLogSummary Read(IEnumerable<string> lines)
    {
        long count = 0, warnings = 0, errors = 0, abnormal = 0, reading = 0;
        var distinct = new Dictionary<string, long>(StringComparer.Ordinal);
        var order = new List<string>();
        // A text-format entry at Warning or above, waiting for the first line of its exception (if any) to be named by both.
        string? pending = null;

        void Add(string message, string? exception)
        {
            var key = Normalize(exception is null ? message : $"{message} | {exception}");
            if (distinct.TryAdd(key, 0))
            {
                order.Add(key);
            }

            distinct[key]++;
        }

        foreach (var line in lines)
        {
            count++;
            // Anywhere: in a message, or in an exception's text below it.
            abnormal += line.Contains(AbnormalEndText, StringComparison.Ordinal) ? 1 : 0;
            reading += line.Contains(ReadingInProgressText, StringComparison.Ordinal) ? 1 : 0;
            var (level, message, exception) = Parse(line);
            if (level is null)
            {
                // Not an entry's first line: an exception's text, or a message's continuation.
                if (pending is not null && line.Trim().Length > 0)
                {
                    Add(pending, line.Trim());
                    pending = null;
                }

                continue;
            }

            if (pending is not null)
            {
                Add(pending, null);
                pending = null;
            }

            if (level is not ("WRN" or "ERR" or "FTL"))
            {
                continue;
            }

            warnings += level == "WRN" ? 1 : 0;
            errors += level == "WRN" ? 0 : 1;
            var labelled = $"{level} {message}";
            if (line.StartsWith('{'))
            {
                Add(labelled, exception);
            }
            else
            {
                pending = labelled;
            }
        }

        if (pending is not null)
        {
            Add(pending, null);
        }

        return new ServiceLogSummary(count, warnings, errors, abnormal, reading,
            order.Take(DistinctShown).Select(k => (k, distinct[k])).ToArray());
    }

    public void Print()
    {
        Console.WriteLine($"Service log ({Lines} lines): {Warnings} warnings, {Errors} errors or worse; \"{AbnormalEndText}\": {AbnormalEnds}; \"{ReadingInProgressText}\": {ReadingInProgress}");
        if (Distinct.Count > 0)
        {
            Console.WriteLine($"First distinct warnings and errors (ids and decimals masked; level, message | first line of its exception):");
            foreach (var (message, n) in Distinct)
            {
                Console.WriteLine($"  {n,6} x {message}");
            }
        }
    }

    /// <summary>An entry's level (VRB, DBG, INF, WRN, ERR, FTL), message and, in JSON, first exception line; a null level
    /// for a line that does not start an entry.</summary>
    private static (string? Level, string Message, string? Exception) Parse(string line)
    {
        if (line.StartsWith('{'))
        {
            try
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                // Compact JSON leaves out "@l" for Information.
                var level = root.TryGetProperty("@l", out var l) ? l.GetString() switch
                {
                    "Warning" => "WRN",
                    "Error" => "ERR",
                    "Fatal" => "FTL",
                    var other => other,
                } : "INF";
                var message = root.TryGetProperty("@m", out var m) ? m.GetString() ?? "" : "";
                var exception = root.TryGetProperty("@x", out var x) ? x.GetString()?.Split('\n')[0].Trim() : null;
                return (level, message, exception);
            }
            catch (JsonException)
            {
                return (null, line, null);
            }
        }

        var match = TextEntry().Match(line);
        return match.Success ? (match.Groups["level"].Value, StripProperties(match.Groups["message"].Value), null) : (null, line, null);
    }

    /// <summary>The text format appends the entry's properties as a JSON object (<c>{"SourceContext": …}</c>, or <c>{}</c>).</summary>
    private static string StripProperties(string message)
    {
        var cut = message.IndexOf(" {\"", StringComparison.Ordinal);
        cut = cut >= 0 ? cut : message.EndsWith(" {}", StringComparison.Ordinal) ? message.Length - 3 : -1;
        return cut >= 0 ? message[..cut] : message;
    }

    /// <summary>Kestrel's connection and request ids and decimal numbers (durations) differ on every line of one kind.</summary>
    private static string Normalize(string message) => Decimal().Replace(KestrelId().Replace(message, "<id>"), "N.N");

    [GeneratedRegex(@"^\[\d\d:\d\d:\d\d (?<level>[A-Z]{3})\] (?<message>.*)$")]
    private static partial Regex TextEntry();

    [GeneratedRegex(@"\b0H[0-9A-Z]{11,}(:[0-9A-F]{8})?\b")]
    private static partial Regex KestrelId();

    [GeneratedRegex(@"\d+\.\d+")]
    private static partial Regex Decimal();
}
