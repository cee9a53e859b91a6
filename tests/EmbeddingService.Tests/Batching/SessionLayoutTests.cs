using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Batching;

/// <summary><c>Batching:SessionPerRunner</c>: the catalog asks for a session per runner (all sharing the model's weights),
/// or for one that every runner shares.</summary>
public sealed class SessionLayoutTests
{
    [Theory]
    [InlineData("true", 3)]
    [InlineData("false", 1)]
    public async Task The_catalog_asks_for_a_session_per_runner_or_one_for_all(string sessionPerRunner, int sessions)
    {
        var runners = new GatedRunnerFactory { Gated = false };
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>
        {
            ["Batching:Runners"] = "3",
            ["Batching:IntraOpThreads"] = "1",
            ["Batching:SessionPerRunner"] = sessionPerRunner,
            ["Batching:LoneRequestThreads"] = GatedRunnerFactory.OneSession,
        }, runners.Install);
        using var client = service.CreateClient();

        Assert.Single(await client.EmbedAsync(new { inputs = "runs on one of them" }));
        Assert.Equal(sessions, runners.SessionsRequested["all-MiniLM-L6-v2"]);
    }
}
