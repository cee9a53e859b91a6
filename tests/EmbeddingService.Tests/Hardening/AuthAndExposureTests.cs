using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Hardening;

public sealed class AuthAndExposureTests(EmbeddingServiceFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_api_keys_every_inference_and_info_route_needs_a_bearer_key()
    {
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0"] = "first-secret",
            ["Auth:ApiKeys:1"] = "second-secret",
        });
        using var client = service.CreateClient();

        var calls = new (string Method, string Route, object? Body)[]
        {
            ("POST", "/embed", new { inputs = "x" }),
            ("POST", "/tokenize", new { inputs = "x" }),
            ("POST", "/similarity", new { inputs = new { source_sentence = "a", sentences = new[] { "b" } } }),
            ("POST", "/v1/embeddings", new { input = "x", model = "all-MiniLM-L6-v2" }),
            ("GET", "/v1/models", null),
            ("GET", "/info", null),
        };

        foreach (var (method, route, body) in calls)
        {
            foreach (var key in new[] { null, "wrong", "first-secret-but-longer", "first-secre" })
            {
                var refused = await SendAsync(client, method, route, body, key);
                Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);
                await BadInputBatteryTests.AssertErrorShapeAsync(refused, route, 401, $"{route} with key '{key}'");
            }

            Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, method, route, body, "first-secret")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, method, route, body, "second-secret")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/metrics", Ct)).StatusCode);
    }

    [Fact]
    public async Task Metrics_can_require_the_key_too()
    {
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0"] = "k",
            ["Auth:ProtectMetrics"] = "true",
        });
        using var client = service.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/metrics", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, "GET", "/metrics", null, "k")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health", Ct)).StatusCode);
    }

    [Fact]
    public async Task Rate_limiting_answers_429_with_retry_after_per_key()
    {
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0"] = "a",
            ["Auth:ApiKeys:1"] = "b",
            ["RateLimiting:Enabled"] = "true",
            ["RateLimiting:TokenLimit"] = "3",
            ["RateLimiting:TokensPerPeriod"] = "1",
            ["RateLimiting:ReplenishmentPeriodSeconds"] = "600",
        });
        using var client = service.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, "POST", "/embed", new { inputs = "x" }, "a")).StatusCode);
        }

        var limited = await SendAsync(client, "POST", "/v1/embeddings", new { input = "x", model = "all-MiniLM-L6-v2" }, "a");
        Assert.NotNull(limited.Headers.RetryAfter);
        await BadInputBatteryTests.AssertErrorShapeAsync(limited, "/v1/embeddings", 429, "rate limited");

        // Another key has its own bucket, and probes are never limited.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, "POST", "/embed", new { inputs = "x" }, "b")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health", Ct)).StatusCode);
    }

    [Fact]
    public async Task Cors_is_off_unless_origins_are_configured()
    {
        await using var open = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?> { ["Cors:AllowedOrigins:0"] = "https://app.example.com" });
        using var allowed = open.CreateClient();
        var preflight = await allowed.SendAsync(Preflight(), Ct);
        Assert.Equal("https://app.example.com", preflight.Headers.GetValues("Access-Control-Allow-Origin").Single());

        using var plain = factory.CreateClient();
        var closed = await plain.SendAsync(Preflight(), Ct);
        Assert.False(closed.Headers.Contains("Access-Control-Allow-Origin"));
    }

    private static HttpRequestMessage Preflight()
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/embed");
        request.Headers.Add("Origin", "https://app.example.com");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        return request;
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string route, object? body, string? key)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), route);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client.SendAsync(request, Ct);
    }
}
