using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace EmbeddingService.Tests.Infrastructure;

/// <summary>A Serilog sink to register in a test host's services (the host's Serilog reads sinks from them), keeping
/// every event it sees.</summary>
internal sealed class CapturingLogSink : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyCollection<LogEvent> Events => _events;

    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);
}
