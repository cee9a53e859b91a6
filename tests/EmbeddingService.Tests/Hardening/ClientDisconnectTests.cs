using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Hardening;

/// <summary>
/// Clients that give up in the middle of sending a request, on a real Kestrel socket (the in-memory test server has no
/// connection to break). Issue 14 saw Kestrel log "Connection processing ended abnormally. InvalidOperationException:
/// Reading is already in progress" at Warning for each of them; Hosting/RequestBodyBuffering.cs says why and how it ends.
/// </summary>
public sealed class ClientDisconnectTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/embed", "{\"inputs\": [\"the start of a long text that never ends")]
    [InlineData("/v1/embeddings", "{\"model\": \"all-MiniLM-L6-v2\", \"input\": [\"the start of a long text that never ends")]
    public async Task A_client_that_closes_its_connection_in_the_middle_of_a_body_leaves_no_warning_and_the_service_serves_on(string route, string bodyStart)
    {
        var logs = new CapturingLogSink();
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            // Kestrel's Debug events say when a request starts reading its body and when a connection is done with.
            ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore.Server.Kestrel"] = "Debug",
        }, services => services.AddSingleton<ILogEventSink>(logs), kestrel: true);
        var address = service.KestrelAddress;

        using (var client = new TcpClient())
        {
            await client.ConnectAsync(address.Host, address.Port, Ct);
            var stream = client.GetStream();
            var start = Encoding.UTF8.GetBytes(bodyStart);
            var head = Encoding.ASCII.GetBytes($"POST {route} HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: application/json\r\nContent-Length: {start.Length + 1_000_000}\r\n\r\n");
            await stream.WriteAsync(head, Ct);
            await stream.WriteAsync(start, Ct);

            // The endpoint has read the start of the body and waits for the rest: now the client goes away.
            Assert.True(await Eventually.TrueAsync(() => logs.Events.Any(static e => Rendered(e).Contains("started reading request body", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(30)), "the request never started reading its body");
        }

        Assert.True(await Eventually.TrueAsync(() => logs.Events.Any(static e => Rendered(e).Contains("stopped.", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30)), "Kestrel never finished with the connection");
        Assert.DoesNotContain(logs.Events, static e => e.Level >= LogEventLevel.Warning);

        using var http = service.CreateClient();
        var answer = await http.PostAsJsonAsync("/embed", new { inputs = "still serving" }, Ct);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }

    private static string Rendered(LogEvent logEvent) => logEvent.RenderMessage();
}
