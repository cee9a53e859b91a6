using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Hardening;

/// <summary>
/// The one line per request that README's Operations section promises, written through the host's own logger: each test
/// host logs through its own Serilog logger, never the static one, so these lines must not depend on it either.
/// </summary>
public sealed class RequestLogTests
{
    [Fact]
    public async Task Every_request_gets_one_line_with_its_route_status_model_inputs_and_tokens_and_never_its_text()
    {
        var logs = new CapturingLogSink();
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Serilog:MinimumLevel:Override:Serilog.AspNetCore.RequestLoggingMiddleware"] = "Information",
        }, services => services.AddSingleton<ILogEventSink>(logs));
        using var client = service.CreateClient();

        await client.EmbedAsync(new { inputs = new[] { "a secret sentence", "another one" } });

        var line = Assert.Single(logs.Events, static e => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal));
        Assert.Equal(LogEventLevel.Information, line.Level);
        Assert.Equal("HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms", line.MessageTemplate.Text);
        Assert.Equal("\"POST\"", line.Properties["RequestMethod"].ToString());
        Assert.Equal("\"/embed\"", line.Properties["RequestPath"].ToString());
        Assert.Equal("200", line.Properties["StatusCode"].ToString());
        Assert.Equal("\"all-MiniLM-L6-v2\"", line.Properties["Model"].ToString());
        Assert.Equal("2", line.Properties["Inputs"].ToString());
        Assert.True(int.Parse(line.Properties["Tokens"].ToString(), System.Globalization.CultureInfo.InvariantCulture) >= 8);
        Assert.Equal("\"/embed\"", line.Properties["Route"].ToString());
        Assert.DoesNotContain(logs.Events, static e => e.RenderMessage().Contains("secret", StringComparison.Ordinal)
            || e.Properties.Values.Any(static v => v.ToString().Contains("secret", StringComparison.Ordinal)));
    }
}
