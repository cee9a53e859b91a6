using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EmbeddingService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EmbeddingService.Tests.Hardening;

/// <summary>
/// Overload is shed, not suffered: a full queue answers 429 with Retry-After, accepted work completes, timeouts drop
/// work from the queue, and shutdown drains. Inference is a gated fake here so the tests decide when it finishes.
/// </summary>
public sealed class OverloadTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(EmbeddingServiceFactory Service, GatedRunnerFactory Runners)> StartGatedAsync(Dictionary<string, string?> settings)
    {
        var runners = new GatedRunnerFactory();
        settings.TryAdd("Batching:Runners", "1");
        settings.TryAdd("Batching:LoneRequestThreads", GatedRunnerFactory.OneSession);
        var service = await EmbeddingServiceFactory.StartAsync(settings, runners.Install);
        return (service, runners);
    }

    [Fact]
    public async Task A_burst_against_a_small_queue_gets_only_200s_and_429s_and_the_service_stays_healthy()
    {
        var (service, runners) = await StartGatedAsync(new() { ["Batching:MaxQueuedInputs"] = "8", ["Batching:MaxBatchSize"] = "4" });
        await using var _ = service;
        using var client = service.CreateClient();

        var burst = Enumerable.Range(0, 300).Select(i => i % 2 == 0
            ? client.PostAsJsonAsync("/embed", new { inputs = $"burst {i}" }, Ct)
            : client.PostAsJsonAsync("/v1/embeddings", new { input = $"burst {i}", model = "all-MiniLM-L6-v2" }, Ct)).ToArray();

        // Every request that could not queue has been answered already; release the runner for the ones that did.
        Assert.True(await Eventually.TrueAsync(() => burst.Count(static t => t.IsCompleted) >= 300 - 8 - 2 * 4, TimeSpan.FromSeconds(60)));
        runners["all-MiniLM-L6-v2"].Release(1000);
        var responses = await Task.WhenAll(burst);

        var statuses = responses.Select(static r => (int)r.StatusCode).ToArray();
        Assert.All(statuses, static s => Assert.True(s is 200 or 429, $"status {s}"));
        Assert.Contains(200, statuses);
        Assert.Contains(429, statuses);
        foreach (var rejected in responses.Where(static r => r.StatusCode == HttpStatusCode.TooManyRequests))
        {
            Assert.True(rejected.Headers.RetryAfter is not null, "429 without Retry-After");
            var route = rejected.RequestMessage!.RequestUri!.AbsolutePath;
            await BadInputBatteryTests.AssertErrorShapeAsync(rejected, route, 429, "overloaded");
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/embed", new { inputs = "after the burst" }, Ct)).StatusCode);
    }

    [Fact]
    public async Task A_request_that_cannot_finish_in_time_is_dropped_and_answered_503()
    {
        var (service, runners) = await StartGatedAsync(new() { ["Limits:RequestTimeoutSeconds"] = "1", ["Batching:MaxBatchSize"] = "1" });
        await using var _ = service;
        using var client = service.CreateClient();
        var runner = runners["all-MiniLM-L6-v2"];

        var first = client.PostAsJsonAsync("/embed", new { inputs = "holds the runner" }, Ct);
        var queued = await client.PostAsJsonAsync("/v1/embeddings", new { input = "waits in the queue", model = "all-MiniLM-L6-v2" }, Ct);

        Assert.True(HttpStatusCode.ServiceUnavailable == queued.StatusCode, await queued.Content.ReadAsStringAsync(Ct));
        using var body = JsonDocument.Parse(await queued.Content.ReadAsStringAsync(Ct));
        Assert.Equal("timeout", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.NotNull(queued.Headers.RetryAfter);

        runner.Release(1000);
        await first;
        // The timed-out input never reached the model: only the warm-up and the first request ran.
        Assert.Equal(2, runner.Batches.Count);
        // ...and its place in the queue is given back once a runner looks at the queue again.
        var model = service.Services.GetRequiredService<EmbeddingService.Inference.Models.ModelCatalog>().Get(null);
        Assert.True(await Eventually.TrueAsync(() => model.Queue.Inputs == 0, TimeSpan.FromSeconds(30)));
        Assert.Equal(2, runner.Batches.Count);
    }

    [Fact]
    public async Task Shutdown_refuses_new_work_reports_unhealthy_and_finishes_what_is_running()
    {
        var (service, runners) = await StartGatedAsync(new());
        await using var _ = service;
        using var client = service.CreateClient();

        var inFlight = client.PostAsJsonAsync("/embed", new { inputs = "in flight during shutdown" }, Ct);
        Assert.True(await Eventually.TrueAsync(() => runners["all-MiniLM-L6-v2"].Batches.Count >= 2, TimeSpan.FromSeconds(30)));

        // What SIGTERM triggers (ModelLifetimeService hooks ApplicationStopping to it). Calling StopApplication itself would end
        // the test host's Program.Main and dispose it under the test; the publish smoke test covers the real SIGTERM.
        var catalog = service.Services.GetRequiredService<EmbeddingService.Inference.Models.ModelCatalog>();
        catalog.BeginShutdown();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live", Ct)).StatusCode);
        var refused = await client.PostAsJsonAsync("/embed", new { inputs = "too late" }, Ct);
        await BadInputBatteryTests.AssertErrorShapeAsync(refused, "/embed", 503, "shutting down");

        runners["all-MiniLM-L6-v2"].Release(1000);
        Assert.Equal(HttpStatusCode.OK, (await inFlight).StatusCode);
        await catalog.DrainAsync(Ct);
    }

    [Fact]
    public async Task Before_the_models_are_warmed_health_is_503_and_requests_get_unhealthy()
    {
        var runners = new GatedRunnerFactory { HoldWarmUp = true };
        var logs = new CapturingLogSink();
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?> { ["Batching:LoneRequestThreads"] = GatedRunnerFactory.OneSession }, services =>
        {
            runners.Install(services);
            services.AddSingleton<Serilog.Core.ILogEventSink>(logs);
        }, waitForReady: false);
        using var client = service.CreateClient();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health", Ct)).StatusCode);
        // Readiness probes during every start-up get this 503: it is the answer, not a fault, so nothing logs an error.
        Assert.DoesNotContain(logs.Events, static e => e.Level >= Serilog.Events.LogEventLevel.Error);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live", Ct)).StatusCode);
        await BadInputBatteryTests.AssertErrorShapeAsync(await client.PostAsJsonAsync("/embed", new { inputs = "early" }, Ct), "/embed", 503, "loading");
        await BadInputBatteryTests.AssertErrorShapeAsync(
            await client.PostAsJsonAsync("/v1/embeddings", new { input = "early", model = "all-MiniLM-L6-v2" }, Ct), "/v1/embeddings", 503, "loading");

        // Let both models' warm-up passes through: the service turns ready.
        var catalog = service.Services.GetRequiredService<EmbeddingService.Inference.Models.ModelCatalog>();
        await ReleaseEveryWarmUpAsync(runners, catalog);
        await catalog.Ready.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health", Ct)).StatusCode);
    }

    [Fact]
    public async Task Disposing_the_catalog_while_the_models_load_waits_for_them_and_then_releases_them()
    {
        // What a host that fails to start (its port in use) does: it is disposed while the models are still loading.
        var runners = new GatedRunnerFactory { HoldWarmUp = true };
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?> { ["Batching:LoneRequestThreads"] = GatedRunnerFactory.OneSession },
            runners.Install, waitForReady: false);
        var catalog = service.Services.GetRequiredService<EmbeddingService.Inference.Models.ModelCatalog>();
        Assert.True(await Eventually.TrueAsync(() => catalog.ModelIds.All(id => runners.TryGet(id, out _)), TimeSpan.FromSeconds(60)));

        var disposing = catalog.DisposeAsync().AsTask();

        // The warm-up passes are held, so the models are still loading: disposing must wait for them, or their
        // sessions and runner threads would be created after the catalog was disposed, and outlive it.
        Assert.False(disposing.IsCompleted);
        await ReleaseEveryWarmUpAsync(runners, catalog);
        await disposing.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.Equal(EmbeddingService.Inference.Models.ModelCatalogState.Stopping, catalog.State);
        Assert.Equal(catalog.ModelIds.Count(), catalog.Models.Count);
    }

    /// <summary>Waits until every configured model's warm-up pass is held, then lets them all through.</summary>
    private static async Task ReleaseEveryWarmUpAsync(GatedRunnerFactory runners, EmbeddingService.Inference.Models.ModelCatalog catalog)
    {
        Assert.True(await Eventually.TrueAsync(() => catalog.ModelIds.All(id => runners.TryGet(id, out _)), TimeSpan.FromSeconds(60)));
        foreach (var id in catalog.ModelIds)
        {
            runners[id].Release();
        }
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(0.2, 1)]
    [InlineData(1.0, 1)]
    [InlineData(1.01, 2)]
    [InlineData(17.5, 18)]
    public void Retry_after_is_the_wait_rounded_up_to_whole_seconds_and_at_least_one(double seconds, int expected) =>
        Assert.Equal(expected, EmbeddingService.Api.Errors.ApiErrorWriter.RetryAfterSeconds(TimeSpan.FromSeconds(seconds)));
}
