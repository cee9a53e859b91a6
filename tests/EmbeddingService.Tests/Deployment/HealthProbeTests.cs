using System.Net;
using System.Net.Sockets;
using EmbeddingService.Hosting;

namespace EmbeddingService.Tests.Deployment;

public sealed class HealthProbeTests
{
    [Fact]
    public async Task Without_the_switch_the_service_starts_as_usual()
    {
        Assert.Null(await HealthProbe.TryRunAsync(["--urls", "http://127.0.0.1:5000"], TextWriter.Null, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void The_default_url_is_the_image_port_and_the_readiness_route()
    {
        Assert.True(HealthProbe.TryParse(["--health-check"], out var url, out _));
        Assert.Equal(new Uri("http://127.0.0.1:8080/health"), url);

        Assert.True(HealthProbe.TryParse(["--health-check", "--verbose"], out url, out _));
        Assert.Equal(HealthProbe.DefaultUrl, url);

        Assert.True(HealthProbe.TryParse(["--health-check", "http://localhost:9000/health"], out url, out _));
        Assert.Equal(new Uri("http://localhost:9000/health"), url);
    }

    [Fact]
    public async Task A_bad_url_is_unhealthy_with_a_message()
    {
        var output = new StringWriter();
        Assert.Equal(1, await HealthProbe.TryRunAsync(["--health-check", "not-a-url"], output, TestContext.Current.CancellationToken));
        Assert.Contains("not an absolute http(s) URL", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nobody_listening_is_unhealthy()
    {
        var port = FreePort();
        var output = new StringWriter();
        Assert.Equal(1, await HealthProbe.TryRunAsync(["--health-check", $"http://127.0.0.1:{port}/health"], output, TestContext.Current.CancellationToken));
        Assert.StartsWith("unhealthy:", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(200, 0)]
    [InlineData(503, 1)]
    public async Task The_exit_code_follows_the_status(int status, int expected)
    {
        // A bare listener answering one request: the probe must judge the status code alone.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync(TestContext.Current.CancellationToken);
            var buffer = new byte[4096];
            _ = await socket.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
            var reason = status == 200 ? "OK" : "Service Unavailable";
            await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), TestContext.Current.CancellationToken);
        }, TestContext.Current.CancellationToken);

        var output = new StringWriter();
        Assert.Equal(expected, await HealthProbe.TryRunAsync(["--health-check", $"http://127.0.0.1:{port}/health"], output, TestContext.Current.CancellationToken));
        Assert.Contains($"answered {status}", output.ToString(), StringComparison.Ordinal);
        await server;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
