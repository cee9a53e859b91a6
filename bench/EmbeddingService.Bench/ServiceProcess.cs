using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EmbeddingService.Bench;

/// <summary>
/// The real service as a separate process: <c>dotnet EmbeddingService.dll --urls http://127.0.0.1:PORT</c>, run from the
/// dll's folder so it reads the <c>appsettings.json</c> and <c>models/</c> built beside it. Knows its time to ready and its RSS.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly string _logPath;
    private bool _keepLog;

    private ServiceProcess(Process process, Uri baseAddress, string logPath)
    {
        _process = process;
        BaseAddress = baseAddress;
        _logPath = logPath;
    }

    public Uri BaseAddress { get; }

    /// <summary>From <c>Process.Start</c> to the first <c>/health</c> 200 (models loaded and warmed).</summary>
    public TimeSpan TimeToReady { get; private set; }

    public int Id => _process.Id;

    /// <summary>Starts the service and waits until <c>/health</c> answers 200.</summary>
    public static async Task<ServiceProcess> StartAsync(BenchOptions options, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(options.ServiceDll))
        {
            throw new FileNotFoundException($"The service is not built at {options.ServiceDll} (build it, or pass --service-dll).");
        }

        var baseAddress = new Uri($"http://127.0.0.1:{(options.Port > 0 ? options.Port : FreePort())}/");
        // The service logs a line per request. It writes them to a file, not to a pipe this process reads: reading them
        // here would wake a thread of the bench for every request, on the same cores as the forward pass being timed (a
        // log collector reads them elsewhere in production). `exec` keeps the service's process id; the path is an
        // argument, not a variable the service would see as configuration.
        var logPath = Path.Combine(Path.GetTempPath(), $"embeddingservice-bench-{Environment.ProcessId}.log");
        var info = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = Path.GetDirectoryName(options.ServiceDll)!,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("log=$1; shift; exec \"$@\" > \"$log\" 2>&1");
        info.ArgumentList.Add("sh");
        info.ArgumentList.Add(logPath);
        info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(options.ServiceDll);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(baseAddress.ToString().TrimEnd('/'));
        foreach (var (key, value) in options.ServiceEnvironment)
        {
            info.Environment[key] = value;
        }

        var started = Stopwatch.GetTimestamp();
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start.");
        var service = new ServiceProcess(process, baseAddress, logPath);

        try
        {
            await service.WaitUntilReadyAsync(started, cancellationToken);
            return service;
        }
        catch
        {
            // The error names the log: keep it.
            service._keepLog = true;
            await service.DisposeAsync();
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(long started, CancellationToken cancellationToken)
    {
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var giveUp = started + 120 * Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < giveUp)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with code {_process.ExitCode}:\n{LastLines()}");
            }

            try
            {
                using var response = await probe.GetAsync("health", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    TimeToReady = Stopwatch.GetElapsedTime(started);
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Listening but slow to answer (a loaded machine): ask again.
            }

            await Task.Delay(10, cancellationToken);
        }

        throw new TimeoutException($"The service was not ready within 120 s:\n{LastLines()}");
    }

    /// <summary>Resident set size now (VmRSS), in MB.</summary>
    public double RssMb() => ReadStatusKb("VmRSS:") / 1024.0;

    /// <summary>CPU time the service has used so far (user + system).</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>The highest resident set size so far (VmHWM), in MB.</summary>
    public double PeakRssMb() => ReadStatusKb("VmHWM:") / 1024.0;

    /// <summary>The service's output so far (its log), line by line.</summary>
    public IEnumerable<string> LogLines() => File.ReadLines(_logPath);

    /// <summary>The service's last output lines (for errors), and where the rest is.</summary>
    public string LastLines()
    {
        try
        {
            return string.Join('\n', LogLines().TakeLast(40)) + $"\n(the whole log: {_logPath})";
        }
        catch (IOException ex)
        {
            return $"(no log at {_logPath}: {ex.Message})";
        }
    }

    /// <summary>Asks for a graceful stop (SIGTERM: drain, then exit); kills it after 15 s. Deletes the log unless
    /// something went wrong: the service exited by itself, did not start, or had to be killed.</summary>
    public async ValueTask DisposeAsync()
    {
        _keepLog |= _process.HasExited;
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigTerm);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _keepLog = true;
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        if (_keepLog)
        {
            Console.Error.WriteLine($"The service's log is kept at {_logPath}.");
        }
        else
        {
            File.Delete(_logPath);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private long ReadStatusKb(string field)
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"The service exited with code {_process.ExitCode}:\n{LastLines()}");
        }

        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(field.Length).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
