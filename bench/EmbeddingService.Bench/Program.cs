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
using var driver = new LoadDriver(service.BaseAddress);
Console.WriteLine($"Service ready in {service.TimeToReady.TotalSeconds:F2} s (pid {service.Id}, RSS {service.RssMb():F0} MB).");
await ServiceLoad.EnsureEmbedsAsync(driver.Client, options.Model);

if (options.Soak)
{
    await new SoakRunner(service, driver, workloads, options.Model).RunAsync(options.SoakMinutes);
    return;
}

var load = await ServiceLoad.MeasureAsync(driver, service, workloads, options,
    beforeOneConnection: raw.Count > 0 ? () => raw.Add(RawRun.MeasureLoneFloorAgain(options, workloads)) : null);
var peakRss = service.PeakRssMb();
Report.Service(load, peakRss, service.TimeToReady);
if (raw.Count > 0)
{
    Report.Ratios(raw, load, peakRss, service.TimeToReady);
}
