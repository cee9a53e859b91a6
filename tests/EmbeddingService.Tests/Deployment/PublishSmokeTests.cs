using System.Diagnostics;

namespace EmbeddingService.Tests.Deployment;

/// <summary>
/// Runs <c>.ci/publish-smoke.sh</c>: the Dockerfile's build stage replayed without an engine (its COPY set and its
/// publish command), then the published output started with the final stage's ENV, USER and ENTRYPOINT, checked through
/// /health, /embed, /metrics and the HEALTHCHECK command, and stopped with SIGTERM.
/// </summary>
public sealed class PublishSmokeTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task The_published_image_content_starts_with_the_Dockerfile_entrypoint_and_environment()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("The smoke script needs Linux (bash, /proc), like the image.");
        }

        var script = DeploymentFiles.PathOf(".ci/publish-smoke.sh");
        var log = Path.Combine(Path.GetTempPath(), $"publish-smoke-{Guid.NewGuid():N}.log");
        // Output goes to a file, not a pipe: nothing the script starts can keep this test waiting for end-of-stream.
        var start = new ProcessStartInfo("bash", ["-c", "exec \"$0\" >\"$1\" 2>&1", script, log])
        {
            WorkingDirectory = DeploymentFiles.RepoRoot,
            UseShellExecute = false,
        };

        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(s_limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }

        var output = File.Exists(log) ? await File.ReadAllTextAsync(log, CancellationToken.None) : "(no log)";
        File.Delete(log);
        TestContext.Current.SendDiagnosticMessage(output);
        Assert.True(process.ExitCode == 0, $"publish-smoke.sh exited {process.ExitCode}:\n{output}");
        Assert.Contains("[publish-smoke] POST /embed -> 1 vector of 384 dimensions", output, StringComparison.Ordinal);
        Assert.Contains("[publish-smoke] POST /embed of the same text again -> x-cache-hits: 1", output, StringComparison.Ordinal);
        Assert.Contains("[publish-smoke] OK", output, StringComparison.Ordinal);
    }
}
