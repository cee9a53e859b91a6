using System.Buffers;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace EmbeddingService.Hosting;

/// <summary>
/// Reads each request body to its end through the request stream before the endpoint binds it, then lets the endpoint
/// read it from memory.
/// <para>
/// Why: with the body read straight from Kestrel, a client that closes its connection in the middle of a body (a caller
/// giving up on a large request) left Kestrel's connection reader in a read: Kestrel then logged "Connection processing
/// ended abnormally. System.InvalidOperationException: Reading is already in progress" at Warning for every such client.
/// The JSON binder reads through the body's PipeReader and, like any incremental parser, examines bytes it does not
/// consume yet; Kestrel cannot return its connection reader to a clean state after an early end of the body when the last
/// read examined more than it consumed (<c>Http1ContentLengthMessageBody</c>: <c>_cannotResetInputPipe</c>), and the
/// minimal API binder answers 400 instead of failing the request, so Kestrel goes on to read the next request from that
/// reader. Reproduced with a five-line minimal API on ASP.NET Core 10.0.12, without this service's code. The stream API
/// consumes everything it returns, so a body that ends early leaves the connection reader clean, and the failure still
/// reaches the exception handler as before.
/// </para>
/// <para>
/// Bodies are bounded (<see cref="LimitsOptions.MaxRequestBodyBytes"/>, also enforced by Kestrel while reading) and read
/// into a pooled buffer that goes back to the pool when the request ends; the request timeout covers the upload as before.
/// </para>
/// </summary>
internal static class RequestBodyBuffering
{
    /// <summary>The first buffer when the body's length is unknown.</summary>
    private const int FirstBufferBytes = 4096;

    /// <summary>The largest first buffer: memory is taken as bytes arrive, not as a client declares them (a slow client
    /// declaring 2 MB would otherwise hold 2 MB from its first byte).</summary>
    private const int MaxFirstBufferBytes = 64 * 1024;

    public static IApplicationBuilder UseRequestBodyBuffering(this IApplicationBuilder app) => app.Use(BufferAsync);

    private static async Task BufferAsync(HttpContext context, RequestDelegate next)
    {
        if (context.GetEndpoint() is null || context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true)
        {
            await next(context);
            return;
        }

        // One byte over the limit fits, so a body of exactly the limit ends with room to spare and one over it is caught.
        var limit = context.RequestServices.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxRequestBodyBytes;
        var capacity = (int)Math.Min(limit + 1, Array.MaxLength);
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp((context.Request.ContentLength ?? FirstBufferBytes) + 1, 1, Math.Min(capacity, MaxFirstBufferBytes)));
        var original = context.Request.Body;
        try
        {
            var length = 0;
            while (true)
            {
                // The pool may hand out more than was asked: never read past the capacity.
                var room = Math.Min(buffer.Length, capacity);
                if (length == room)
                {
                    if (length > limit)
                    {
                        // Kestrel refuses such a body while reading it, but not every host does, and a chunked body has no
                        // length to check up front.
                        throw new BadHttpRequestException($"The request body is larger than {limit} bytes (Limits:MaxRequestBodyBytes).",
                            StatusCodes.Status413PayloadTooLarge);
                    }

                    buffer = Grow(buffer, length, capacity);
                    continue;
                }

                var read = await context.Request.Body.ReadAsync(buffer.AsMemory(length, room - length), context.RequestAborted);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            context.Request.Body = new MemoryStream(buffer, 0, length, writable: false);
            await next(context);
        }
        finally
        {
            // Nothing may read the pooled buffer once it is back in the pool.
            context.Request.Body = original;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A buffer twice as large (at most <paramref name="capacity"/>) holding the bytes read so far.</summary>
    private static byte[] Grow(byte[] buffer, int length, int capacity)
    {
        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(2L * buffer.Length, capacity));
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }
}
