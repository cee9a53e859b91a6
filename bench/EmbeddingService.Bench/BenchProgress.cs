using Spectre.Console;

namespace EmbeddingService.Bench;

/// <summary>
/// A live progress display of the run's phases (Spectre.Console) on standard error, where that is a terminal: a full run
/// takes about 17 minutes. Phases report their steps through <see cref="Begin"/>; with no display (redirected, or
/// <c>--no-progress</c>) that does nothing. While the display is live and the report would go to the same terminal, the
/// report is held back and printed whole at the end, so the two never interleave.
/// </summary>
internal static class BenchProgress
{
    private static ProgressContext? s_context;

    public static async Task RunAsync(bool enabled, Func<Task> run)
    {
        if (!enabled || Console.IsErrorRedirected)
        {
            await run();
            return;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var report = Console.Out;
        var errors = Console.Error;
        // The phases' one-line logs go through the display, which prints them above the bars.
        Console.SetError(new LineWriter(console));
        var heldBack = Console.IsOutputRedirected ? null : new StringWriter();
        if (heldBack is not null)
        {
            Console.SetOut(heldBack);
        }

        try
        {
            await console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    s_context = context;
                    await run();
                });
        }
        finally
        {
            s_context = null;
            Console.SetError(errors);
            if (heldBack is not null)
            {
                Console.SetOut(report);
                report.Write(heldBack.ToString());
            }
        }
    }

    /// <summary>A phase of <paramref name="steps"/> steps (rounds, configurations), shown as one bar.</summary>
    public static Phase Begin(string description, int steps) => new(s_context?.AddTask(description, maxValue: Math.Max(steps, 1)));

    /// <summary>Hands whole lines to the display (Spectre.Console places them above the live bars).</summary>
    private sealed class LineWriter(IAnsiConsole console) : TextWriter
    {
        private readonly System.Text.StringBuilder _line = new();
        private readonly Lock _lock = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_lock)
            {
                if (value == '\n')
                {
                    console.WriteLine(_line.ToString().TrimEnd('\r'));
                    _line.Clear();
                }
                else
                {
                    _line.Append(value);
                }
            }
        }
    }

    internal sealed class Phase(ProgressTask? task) : IDisposable
    {
        public void Advance() => task?.Increment(1);

        /// <summary>Marks the phase finished, whatever its count.</summary>
        public void Dispose()
        {
            if (task is not null)
            {
                task.Value = task.MaxValue;
                task.StopTask();
            }
        }
    }
}
