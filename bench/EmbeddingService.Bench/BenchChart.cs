using System.Globalization;
using ScottPlot;
using SkiaSharp;

namespace EmbeddingService.Bench;

/// <summary>One load level's figures for one series; NaN where the series has no such figure.</summary>
internal sealed record ChartPoint(double SentencesPerSecond, double P50Ms, double P99Ms)
{
    public static ChartPoint None { get; } = new(double.NaN, double.NaN, double.NaN);
}

/// <summary>A line of the chart: the service, the plain loop, or a variant, with one point per load level.</summary>
internal sealed record ChartSeries(string Name, IReadOnlyList<ChartPoint> Points);

/// <summary>
/// The run as one SVG (ScottPlot): sentences per second per load level on the left, p50 and p99 latency on the right on
/// a log scale (a single sentence takes milliseconds, a 32-text request a second), each series in its own colour. The
/// README shows the committed copy (<c>docs/benchmark.svg</c>).
/// </summary>
internal static class BenchChart
{
    private const int Width = 1100;
    private const int Height = 420;

    public static void Write(string path, string title, IReadOnlyList<string> levels, IReadOnlyList<ChartSeries> series)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var throughput = multiplot.GetPlot(0);
        var latency = multiplot.GetPlot(1);
        var palette = new ScottPlot.Palettes.Category10();

        var width = 0.8 / series.Count;
        for (var s = 0; s < series.Count; s++)
        {
            var colour = palette.GetColor(s);
            var bars = new List<Bar>();
            for (var level = 0; level < levels.Count; level++)
            {
                var value = series[s].Points[level].SentencesPerSecond;
                if (double.IsFinite(value))
                {
                    bars.Add(new Bar
                    {
                        Position = level - 0.4 + width * (s + 0.5),
                        Value = value,
                        Size = width * 0.9,
                        FillColor = colour,
                        Label = value.ToString("F0", CultureInfo.InvariantCulture),
                    });
                }
            }

            var barPlot = throughput.Add.Bars(bars);
            barPlot.LegendText = series[s].Name;
            barPlot.ValueLabelStyle.FontSize = 11;

            // Latency: p50 as filled markers joined by a line, p99 as hollow markers, on log10 of milliseconds.
            AddLatency(latency, series[s].Points.Select(static p => p.P50Ms).ToArray(), colour, MarkerShape.FilledCircle, $"{series[s].Name} p50", LinePattern.Solid);
            AddLatency(latency, series[s].Points.Select(static p => p.P99Ms).ToArray(), colour, MarkerShape.OpenCircle, $"{series[s].Name} p99", LinePattern.Dashed);
        }

        var ticks = levels.Select(static (name, i) => new Tick(i, name)).ToArray();
        foreach (var plot in new[] { throughput, latency })
        {
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
            plot.Axes.Bottom.MajorTickStyle.Length = 0;
            plot.ShowLegend(Alignment.UpperLeft);
        }

        throughput.Title("Sentences per second (higher is better)");
        throughput.Axes.Left.Label.Text = "sentences/s";
        throughput.Axes.Margins(bottom: 0, top: 0.15);

        latency.Title("Latency per request, log scale (lower is better)");
        latency.Axes.Left.Label.Text = "ms";
        latency.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = static y => Math.Pow(10, y).ToString("#,0.##", CultureInfo.InvariantCulture),
        };
        latency.Axes.Margins(top: 0.25);
        foreach (var plot in new[] { throughput, latency })
        {
            // After the margins, which would scale x to the data again.
            plot.Axes.SetLimitsX(-0.6, levels.Count - 0.4);
        }

        using var stream = File.Create(path);
        using (var canvas = SKSvgCanvas.Create(new SKRect(0, 0, Width, Height + 30), stream))
        {
            canvas.Clear(SKColors.White);
            canvas.Save();
            canvas.Translate(0, 30);
            multiplot.Render(canvas, new PixelRect(0, Width, Height, 0));
            canvas.Restore();
            // After the plots, which paint their whole canvas.
            using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            using var font = new SKFont(SKTypeface.FromFamilyName(Fonts.Default), 14);
            canvas.DrawText(title, 12, 20, font, paint);
        }
    }

    /// <summary>The load levels the targets use, for the service (<paramref name="serviceName"/>) and the plain loop
    /// windows beside it: batch 1 at one connection, its best short configuration at 64, its best sorted mixed one.</summary>
    /// <param name="int8">The int8 level, if the run had one: its service figures at 1 and 64 connections.</param>
    public static (string[] Levels, ChartSeries[] Series) ForRun(IReadOnlyList<LevelResult> levels, string serviceName, Int8Result? int8 = null)
    {
        string[] names = ["1 connection", "8 connections", "64 connections", $"mixed, {ServiceLoad.MixedConnections} × {ServiceLoad.MixedPerRequest}"];
        LevelResult?[] picked =
        [
            levels.SingleOrDefault(static l => l.Service.Name == "short" && l.Service.Connections == 1),
            levels.SingleOrDefault(static l => l.Service.Name == "short" && l.Service.Connections == 8),
            levels.SingleOrDefault(static l => l.Service.Name == "short" && l.Service.Connections == 64),
            levels.SingleOrDefault(static l => l.Service.Name == "mixed"),
        ];
        var service = picked.Select(static l => l is null ? ChartPoint.None : new ChartPoint(l.Service.SentencesPerSecond, l.Service.P50Ms, l.Service.P99Ms)).ToArray();
        // A plain batch is not a request: only its batch-1 loop has a latency to set beside the service's.
        var plain = picked.Select((l, i) => l?.Raw is not { } raw ? ChartPoint.None
            : i == 0 ? new ChartPoint(raw.SentencesPerSecond, raw.P50Ms, raw.Latency.PercentileMs(99))
            : new ChartPoint(raw.SentencesPerSecond, double.NaN, double.NaN)).ToArray();
        List<ChartSeries> series = [new ChartSeries(serviceName, service), new ChartSeries("plain ONNX Runtime loop (batch 1 / best)", plain)];
        if (int8 is not null)
        {
            static ChartPoint Point(LoadResult r) => new(r.SentencesPerSecond, r.P50Ms, r.P99Ms);
            series.Add(new ChartSeries($"EmbeddingService, {int8.Model}", [Point(int8.Int8At1), ChartPoint.None, Point(int8.ServiceInt8), ChartPoint.None]));
            series.Add(new ChartSeries("plain ONNX Runtime loop, int8 (best)", [ChartPoint.None, ChartPoint.None,
                new ChartPoint(int8.PlainInt8.SentencesPerSecond, double.NaN, double.NaN), ChartPoint.None]));
        }

        return (names, series.ToArray());
    }

    private static void AddLatency(Plot plot, double[] milliseconds, ScottPlot.Color colour, MarkerShape shape, string name, LinePattern pattern)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        for (var level = 0; level < milliseconds.Length; level++)
        {
            if (double.IsFinite(milliseconds[level]) && milliseconds[level] > 0)
            {
                xs.Add(level);
                ys.Add(Math.Log10(milliseconds[level]));
            }
        }

        if (xs.Count == 0)
        {
            return;
        }

        var scatter = plot.Add.Scatter(xs.ToArray(), ys.ToArray(), colour);
        scatter.MarkerShape = shape;
        scatter.MarkerSize = 9;
        scatter.LinePattern = pattern;
        scatter.LegendText = name;
    }
}
