namespace EmbeddingService.Tests.Infrastructure;

/// <summary>
/// Waits for a condition by polling it without holding a thread: <c>SpinWait.SpinUntil</c> blocks a thread-pool thread
/// for up to its whole timeout, while the in-process service under test needs the same pool (2 threads to start with
/// on 2 cores) to make the condition true.
/// </summary>
internal static class Eventually
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>True as soon as <paramref name="condition"/> holds; false if it still does not after <paramref name="timeout"/>.</summary>
    public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan timeout) =>
        await TrueAsync(() => Task.FromResult(condition()), timeout);

    /// <summary>As <see cref="TrueAsync(Func{bool}, TimeSpan)"/>, for a condition that must await (e.g. an HTTP call).</summary>
    public static async Task<bool> TrueAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition())
            {
                return true;
            }

            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(PollInterval, TestContext.Current.CancellationToken);
        }
    }
}
