using System.Diagnostics;
using System.Text.Json;
using EmbeddingService.Tests.Deployment;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Client;

/// <summary>
/// The Hugging Face inference client for JavaScript (<c>@huggingface/inference</c>, pinned in
/// <c>tests/clients-js/package-lock.json</c>), pointed at the service as at a TEI endpoint, unchanged: its
/// <c>featureExtraction</c> posts to the endpoint's root, TEI's alias of <c>/embed</c>. Runs on Node.js with the package
/// installed from the npm registry by <c>npm ci</c> on first use.
/// </summary>
public sealed class HuggingFaceClientTests
{
    private static readonly string s_clientsDir = Path.Combine(DeploymentFiles.RepoRoot, "tests", "clients-js");
    private static readonly SemaphoreSlim s_install = new(1, 1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Feature_extraction_with_the_service_as_endpoint_returns_the_vectors_of_embed()
    {
        await InstallAsync();
        await using var service = await EmbeddingServiceFactory.StartAsync(new Dictionary<string, string?>(), kestrel: true);
        var endpoint = service.KestrelAddress.ToString().TrimEnd('/');
        using var client = new HttpClient { BaseAddress = service.KestrelAddress };
        var texts = new[] { "What is Deep Learning?", "A man is playing a guitar." };
        var expected = await client.EmbedAsync(new { inputs = texts });

        var one = JsonSerializer.Deserialize<float[][]>(await RunNodeAsync("hf-feature-extraction.mjs", [endpoint, texts[0]]))!;
        VectorAssert(expected[0], Assert.Single(one));

        var both = JsonSerializer.Deserialize<float[][]>(await RunNodeAsync("hf-feature-extraction.mjs", [endpoint, .. texts]))!;
        Assert.Equal(2, both.Length);
        VectorAssert(expected[0], both[0]);
        VectorAssert(expected[1], both[1]);
    }

    private static void VectorAssert(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(VectorMath.Cosine(expected, actual) > 0.99999);
    }

    /// <summary><c>npm ci</c> once per checkout (node_modules is not committed).</summary>
    private static async Task InstallAsync()
    {
        await s_install.WaitAsync(Ct);
        try
        {
            if (!Directory.Exists(Path.Combine(s_clientsDir, "node_modules", "@huggingface", "inference")))
            {
                await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5));
            }
        }
        finally
        {
            s_install.Release();
        }
    }

    private static Task<string> RunNodeAsync(string script, IEnumerable<string> arguments) =>
        RunAsync("node", [script, .. arguments], TimeSpan.FromMinutes(1));

    private static async Task<string> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = s_clientsDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program} (Node.js and npm are needed).");
        var output = process.StandardOutput.ReadToEndAsync(Ct);
        var error = process.StandardError.ReadToEndAsync(Ct);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', start.ArgumentList)} ran over {timeout}: {await error}");
        }

        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', start.ArgumentList)} exited {process.ExitCode}: {await error}");
        return await output;
    }
}
