namespace EmbeddingService.Hosting;

/// <summary>
/// <c>dotnet EmbeddingService.dll --health-check [url]</c>: one GET against the running service's readiness route, exit
/// code 0 on a 2xx answer and 1 otherwise. The container image's HEALTHCHECK runs it, so the image needs no curl. It
/// returns before the web host is built: no configuration, logging or models are loaded.
/// </summary>
internal static class HealthProbe
{
    public const string Switch = "--health-check";

    /// <summary>Where the probe looks when no URL is given: the image's port, on loopback.</summary>
    public static readonly Uri DefaultUrl = new("http://127.0.0.1:8080/health");

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(5);

    /// <summary>Runs the probe when <paramref name="args"/> ask for it; <c>null</c> means "start the service as usual".</summary>
    public static async Task<int?> TryRunAsync(string[] args, TextWriter? output = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (!TryParse(args, out var url, out var error))
        {
            return null;
        }

        output ??= Console.Out;
        if (url is null)
        {
            await output.WriteLineAsync($"unhealthy: {error}");
            return 1;
        }

        try
        {
            using var client = new HttpClient { Timeout = s_timeout };
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var healthy = response.IsSuccessStatusCode;
            await output.WriteLineAsync($"{(healthy ? "healthy" : "unhealthy")}: GET {url} answered {(int)response.StatusCode}");
            return healthy ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await output.WriteLineAsync($"unhealthy: GET {url} failed: {ex.Message}");
            return 1;
        }
    }

    /// <summary>
    /// False when the switch is absent. Otherwise true, with the URL to probe (the argument after the switch, unless it
    /// is another switch, else <see cref="DefaultUrl"/>), or a null URL and an error when that argument is not an absolute http(s) URL.
    /// </summary>
    public static bool TryParse(IReadOnlyList<string> args, out Uri? url, out string? error)
    {
        url = null;
        error = null;
        var index = -1;
        for (var i = 0; i < args.Count; i++)
        {
            if (string.Equals(args[i], Switch, StringComparison.Ordinal))
            {
                index = i;
                break;
            }
        }

        if (index < 0)
        {
            return false;
        }

        if (index + 1 >= args.Count || args[index + 1].StartsWith('-'))
        {
            url = DefaultUrl;
            return true;
        }

        if (Uri.TryCreate(args[index + 1], UriKind.Absolute, out var given) && (given.Scheme == Uri.UriSchemeHttp || given.Scheme == Uri.UriSchemeHttps))
        {
            url = given;
        }
        else
        {
            error = $"'{args[index + 1]}' is not an absolute http(s) URL (usage: {Switch} [http://127.0.0.1:8080/health]).";
        }

        return true;
    }
}
