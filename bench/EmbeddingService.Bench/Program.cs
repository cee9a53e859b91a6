using EmbeddingService.Bench;

// One run: the raw in-process baseline, then the real service over HTTP on the same sentences, then the ratios.
// `--soak --minutes N` runs the soak instead. See bench/README.md.
var options = BenchOptions.Parse(args);
var workloads = Workloads.Load(options.EvalDir);
Report.Header(options, workloads);

List<RawResult> raw = [];
if (!options.Soak && !options.ServiceOnly)
{
    raw = RawRun.Measure(options, workloads);
    Report.Raw(raw);
    if (options.RawOnly)
    {
        return;
    }
}

await using var service = await ServiceProcess.StartAsync(options);
using var httpClientDriver = new LoadDriver(service.BaseAddress);
Console.WriteLine($"Service ready in {service.TimeToReady.TotalSeconds:F2} s (pid {service.Id}, RSS {service.RssMb():F0} MB).");
await ServiceLoad.EnsureEmbedsAsync(httpClientDriver.Client, options.Model);

if (options.Soak)
{
    await new SoakRunner(service, httpClientDriver, workloads, options.Model).RunAsync(options.SoakMinutes);
    return;
}

// wrk where it is installed: one C thread drives every connection, where the HttpClient driver needs a thread per
// connection on the cores the service is using.
using var wrk = options.Driver == LoadDriverChoice.HttpClient ? null : WrkDriver.TryCreate(service.BaseAddress);
if (wrk is null && options.Driver == LoadDriverChoice.Wrk)
{
    throw new InvalidOperationException("--driver wrk: wrk is not on the PATH (Debian: apt-get install wrk).");
}

ILoadDriver loadDriver = (ILoadDriver?)wrk ?? httpClientDriver;
Console.WriteLine($"Load driver: {loadDriver.Name}");
var load = await ServiceLoad.MeasureAsync(loadDriver, service, workloads, options,
    beforeOneConnection: raw.Count > 0 ? () => raw.Add(RawRun.MeasureLoneFloorAgain(options, workloads)) : null);
var peakRss = service.PeakRssMb();
Report.Service(load, peakRss, service.TimeToReady);
if (raw.Count > 0)
{
    Report.Ratios(raw, load, peakRss, service.TimeToReady);
}
