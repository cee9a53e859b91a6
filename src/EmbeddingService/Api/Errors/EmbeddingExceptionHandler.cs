using Microsoft.AspNetCore.Diagnostics;
using EmbeddingService.Inference;

namespace EmbeddingService.Api.Errors;

/// <summary>
/// Turns every exception that escapes a handler into the route's error body: domain failures by their kind, unreadable
/// requests by the framework's verdict, anything else as a 500 without internals. A caller that went away gets nothing.
/// </summary>
internal sealed partial class EmbeddingExceptionHandler(ILogger<EmbeddingExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            // Don't treat a client that disconnected as an error.
            Log.RequestCanceled(logger, httpContext.Request.Path);
            return true;
        }

        var error = exception switch
        {
            EmbeddingException embedding => ApiErrors.From(embedding),
            BadHttpRequestException badRequest => ApiErrors.From(badRequest),
            _ => null,
        };

        if (error is null)
        {
            Log.Unhandled(logger, httpContext.Request.Path, exception);
            error = new ApiError(ApiErrorKind.Internal, "An internal error occurred.");
        }
        else if (error.Kind == ApiErrorKind.Backend)
        {
            Log.Unhandled(logger, httpContext.Request.Path, exception);
        }

        if (httpContext.Response.HasStarted)
        {
            return true;
        }

        httpContext.Response.Clear();
        await ApiErrorWriter.WriteAsync(httpContext, error);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "The request to {Path} was canceled by the client.", EventName = "RequestCanceled")]
        public static partial void RequestCanceled(ILogger logger, PathString path);

        [LoggerMessage(2, LogLevel.Error, "The request to {Path} failed.", EventName = "RequestFailed")]
        public static partial void Unhandled(ILogger logger, PathString path, Exception exception);
    }
}
