using EmbeddingService.Bench;

// One run: the raw in-process baseline, then the real service over HTTP on the same sentences (ending with an interactive
// caller under bulk load), then the ratios, then whole documents in chunks against the raw loop on the same chunks, then the int8 variant on a service of its own, then the embedding cache on two services of its own (with and without it). `--soak --minutes N` runs the soak instead. See bench/README.md.
var options = BenchOptions.Parse(args);
// The soak prints its own running table as it goes; every other run shows its phases live.
await BenchProgress.RunAsync(options.Progress && !options.Soak, RunAsync);

async Task RunAsync()
{
    var workloads = Workloads.Load(options.EvalDir);
    Report.Header(options, workloads);

    List<RawResult> raw = [];
    var rawRun = options.Soak || options.ServiceOnly || options.OneLevel ? null : new RawRun(options, workloads);
    if (rawRun is not null)
    {
        raw = rawRun.Measure();
        Report.Raw(raw);
        if (options.RawOnly)
        {
            return;
        }
    }

    if (options.Int8Only)
    {
        await RunInt8OnlyAsync(workloads);
        return;
    }

    if (options.CacheOnly)
    {
        Report.Cache(await CacheLevel.MeasureAsync(workloads, options));
        Report.Targets();
        return;
    }

    await using var service = await ServiceProcess.StartAsync(options);
    using var httpClientDriver = new LoadDriver(service.BaseAddress);
    Console.WriteLine($"Service ready in {service.TimeToReady.TotalSeconds:F2} s (pid {service.Id}, RSS {service.RssMb():F0} MB).");
    await ServiceLoad.EnsureEmbedsAsync(httpClientDriver.Client, options.Model);

    if (options.Soak)
    {
        await new SoakRunner(service, workloads, options.Model).RunAsync(options.SoakMinutes);
        return;
    }

    if (options.DocumentsOnly)
    {
        Report.Documents(await DocumentChunks.MeasureAsync(service, workloads, options));
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
    // Each target's raw configuration from the raw phase is measured again in windows taken in turn with the service's.
    var partners = rawRun is null ? null : new RawPartners(RawRun.LoneFloor(raw), RawRun.BestShort(raw), RawRun.BestMixed(raw), rawRun.Again);
    var bodies = new LoadBodies(workloads, options.Model);
    await ServiceLoad.WarmUpAsync(loadDriver, service, bodies, options);
    var levels = options.InteractiveOnly ? [] : await ServiceLoad.MeasureAsync(loadDriver, service, bodies, options, partners);
    var interactive = await InteractiveUnderBulk.MeasureAsync(loadDriver, service, bodies, options);
    // After every level: the peak covers the whole run.
    var peakRss = service.PeakRssMb();
    Report.Service(levels, peakRss, service.TimeToReady);
    if (partners is not null)
    {
        Report.Ratios(raw, levels, peakRss, service.TimeToReady);
    }

    Report.Interactive(interactive, loadDriver.Name);
    if (!options.InteractiveOnly && !options.ServiceOnly)
    {
        // Last on this service: its long chunks grow the service's arena, which the peak RSS above should not count.
        Report.Documents(await DocumentChunks.MeasureAsync(service, workloads, options));
    }

    // The int8 variant (issue 18), on a service of its own with the variant added, against the same plain fp32 ruler
    // and a plain int8 loop; the service above idles meanwhile.
    var int8 = rawRun is null || partners is null ? null : await Int8Level.MeasureAsync(workloads, options, rawRun, partners.BestShort);
    if (int8 is not null)
    {
        Report.Int8(int8);
    }

    // The embedding cache (issue 19), on two services of its own (with and without it); the services above idle meanwhile.
    if (partners is not null)
    {
        Report.Cache(await CacheLevel.MeasureAsync(workloads, options));
    }

    if (options.ChartOutput is { } chart && levels.Count > 0)
    {
        var (names, series) = BenchChart.ForRun(levels, $"EmbeddingService, {options.Model}", int8);
        BenchChart.Write(chart, $"EmbeddingService.Bench {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Report.CpuModel()} ({Environment.ProcessorCount} vCPUs), {options.Model}, wrk over loopback", names, series);
        Console.WriteLine($"Chart: {chart}");
        Console.WriteLine();
    }

    // The run ends with every target it measured, in one table.
    Report.Targets();
}

// --only int8: the ruler is the plain fp32 loop's best of the configurations the int8 level tries on its own model (a full
// run searches more), then the level itself; no fp32 service runs beside it.
async Task RunInt8OnlyAsync(Workloads workloads)
{
    var rawRun = new RawRun(options, workloads);
    var fp32Dir = Path.Combine(Path.GetDirectoryName(options.ServiceDll)!, "models", options.Model);
    var plainFp32 = RawRun.PlainShortConfigurations.Select(c => rawRun.PlainShort(fp32Dir, c.Layout, c.Batch, options.RawSeconds)).ToList();
    Report.Raw(plainFp32);
    var int8 = await Int8Level.MeasureAsync(workloads, options, rawRun, RawRun.BestShort(plainFp32));
    if (int8 is not null)
    {
        Report.Int8(int8);
    }

    Report.Targets();
}
