using System.Net;
using System.Text;
using System.Text.Json;

namespace EmbeddingService.Bench;

/// <summary>
/// A large request body that looks valid (<c>{"inputs": ["…", "…", …</c>) and declares <see cref="DeclaredBytes"/> in its
/// <c>Content-Length</c>, sent slowly and never finished: the body stops short of its declared length and waits for the
/// request to be cancelled, so the client always gives up mid-upload and the service sees the connection close while it
/// is still reading the body (a case in which the issue reports Kestrel warnings).
/// </summary>
internal sealed class CutOffUploadContent(string text) : HttpContent
{
    /// <summary>Under the service's default <c>Limits:MaxRequestBodyBytes</c> (2,000,000), so Kestrel does not refuse it
    /// up front with a 413.</summary>
    public const long DeclaredBytes = 1_000_000;

    private const int ChunkBytes = 16 * 1024;

    /// <summary>16 KiB every 20 ms, about 0.8 MB/s: far above Kestrel's minimum body data rate (240 bytes/s), so only the
    /// client's give-up ends the upload.</summary>
    private static readonly TimeSpan s_chunkInterval = TimeSpan.FromMilliseconds(20);

    private static readonly byte[] s_prefix = Encoding.UTF8.GetBytes("{\"inputs\": [");

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var element = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(text) + ", ");
        var chunk = Enumerable.Repeat(element, Math.Max(1, ChunkBytes / element.Length)).SelectMany(static e => e).ToArray();
        await stream.WriteAsync(s_prefix, cancellationToken);
        long sent = s_prefix.Length;
        while (sent + chunk.Length < DeclaredBytes)
        {
            await stream.WriteAsync(chunk, cancellationToken);
            await stream.FlushAsync(cancellationToken);
            sent += chunk.Length;
            await Task.Delay(s_chunkInterval, cancellationToken);
        }

        // Never complete: the body ends only when the client gives up.
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = DeclaredBytes;
        return true;
    }
}
