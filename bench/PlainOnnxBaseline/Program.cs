// Plain ONNX Runtime embedding loop: the ruler the service is measured against (bench/plain-vs-service.sh).
// It shares no code with the service; it only uses Microsoft.ML.OnnxRuntime and Microsoft.ML.Tokenizers directly.
// Prints ONE result line on stdout (diagnostics go to stderr), so scripts can parse it.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using PlainOnnxBaseline;

Options opt;
try
{
    opt = Options.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

if (opt.Check)
{
    return RunCheck(opt);
}

string[] texts = LoadTexts(opt);
if (opt.DumpTexts is not null)
{
    File.WriteAllLines(opt.DumpTexts, texts, new UTF8Encoding(false));
    Console.Error.WriteLine($"wrote {texts.Length} texts to {opt.DumpTexts}");
    return 0;
}
return RunLoop(opt, texts);

static int RunCheck(Options opt)
{
    // Fixed sentences: mixed case, punctuation, accents (exercise lower-casing and accent stripping) and unequal
    // lengths, embedded as ONE batch so padding and the mask are exercised too.
    string[] sentences =
    [
        "A man is playing a guitar.",
        "The quick brown fox jumps over the lazy dog!",
        "Café au lait, s'il vous plaît: a NAÏVE résumé.",
    ];
    using var embedder = new PlainEmbedder(opt.ModelDir, opt.Threads, opt.MaxTokens);
    Console.Error.WriteLine(embedder.Describe());
    float[][] vectors = embedder.Embed(sentences.Select(embedder.Tokenize).ToList());
    for (int i = 0; i < sentences.Length; i++)
    {
        string head = string.Join(", ", vectors[i].Take(5).Select(x => x.ToString("R", CultureInfo.InvariantCulture)));
        Console.WriteLine($"check {i} dim={vectors[i].Length} [{head}] {JsonSerializer.Serialize(sentences[i], Readable)}");
    }
    if (opt.CheckJson is not null)
    {
        File.WriteAllText(opt.CheckJson, JsonSerializer.Serialize(new { inputs = sentences, vectors }));
    }
    return 0;
}

static string[] LoadTexts(Options opt)
{
    if (opt.TextsFile is not null)
    {
        return File.ReadAllLines(opt.TextsFile).Where(l => l.Length > 0).ToArray();
    }
    // STS-B files: score<TAB>sentence1<TAB>sentence2, no header. Every distinct sentence of both files, in first-seen
    // order, then shuffled with a fixed seed: the files are grouped by source (captions first), a shuffle spreads the
    // lengths evenly over any stretch a run reads.
    string evalDir = Path.GetFullPath(Path.Combine(opt.RepoRoot, "..", "shared", "eval"));
    var seen = new HashSet<string>(StringComparer.Ordinal);
    var list = new List<string>();
    foreach (string file in new[] { "stsb-dev.tsv", "stsb-test.tsv" })
    {
        foreach (string line in File.ReadLines(Path.Combine(evalDir, file)))
        {
            string[] cols = line.Split('\t');
            for (int c = 1; c < cols.Length; c++)
            {
                string s = cols[c].Trim();
                if (s.Length > 0 && seen.Add(s))
                {
                    list.Add(s);
                }
            }
        }
    }
    string[] texts = list.ToArray();
    var rng = new Random(42); // fixed seed: the same order every run, in every process
    for (int i = texts.Length - 1; i > 0; i--)
    {
        int j = rng.Next(i + 1);
        (texts[i], texts[j]) = (texts[j], texts[i]);
    }
    return texts;
}

static int RunLoop(Options opt, string[] texts)
{
    int n = texts.Length;
    long next = 0; // shared cursor over the (cycled) text list; each thread claims a window at a time
    long measureStart = 0, measureEnd = 0;
    bool fixedWork = opt.Passes > 0;
    long total = (long)n * opt.Passes;
    var results = new ThreadResult[opt.Sessions];
    string? describe = null;

    // Sessions are created inside their threads (each loads model.onnx itself); the clock starts when all are ready.
    using var ready = new Barrier(opt.Sessions, _ =>
    {
        long now = Stopwatch.GetTimestamp();
        measureStart = fixedWork ? now : now + (long)(opt.Warmup * Stopwatch.Frequency);
        measureEnd = fixedWork ? long.MaxValue : measureStart + (long)(opt.Seconds * Stopwatch.Frequency);
    });

    var threads = new Thread[opt.Sessions];
    for (int k = 0; k < opt.Sessions; k++)
    {
        int me = k;
        threads[k] = new Thread(() =>
        {
            var r = results[me] = new ThreadResult();
            using var embedder = new PlainEmbedder(opt.ModelDir, opt.Threads, opt.MaxTokens);
            if (me == 0)
            {
                describe = embedder.Describe();
            }
            if (fixedWork)
            {
                // Fixed work counts every batch from the start: warm the session up before the clock starts.
                var warm = texts.Take(Math.Min(opt.Batch, n)).Select(embedder.Tokenize).ToList();
                embedder.Embed(warm);
                embedder.Embed(warm);
            }
            ready.SignalAndWait();

            var window = new (int[] Ids, long TokTicks)[opt.SortWindow];
            var batch = new List<int[]>(opt.Batch);
            while (true)
            {
                // Tokenize inside the timed loop, a window at a time, as the service tokenizes per request.
                long first = Interlocked.Add(ref next, opt.SortWindow) - opt.SortWindow;
                if (fixedWork && first >= total)
                {
                    return;
                }
                int count = fixedWork ? (int)Math.Min(opt.SortWindow, total - first) : opt.SortWindow;
                for (int w = 0; w < count; w++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    int[] ids = embedder.Tokenize(texts[(int)((first + w) % n)]);
                    window[w] = (ids, Stopwatch.GetTimestamp() - t0);
                }
                // Sort by token count so each batch pads little (stable, so equal lengths keep their order).
                var sorted = window.Take(count).OrderBy(x => x.Ids.Length).ToArray();

                for (int s = 0; s < sorted.Length; s += opt.Batch)
                {
                    batch.Clear();
                    long tokTicks = 0;
                    int tokens = 0;
                    for (int j = s; j < Math.Min(s + opt.Batch, sorted.Length); j++)
                    {
                        batch.Add(sorted[j].Ids);
                        tokTicks += sorted[j].TokTicks;
                        tokens += sorted[j].Ids.Length;
                    }
                    long b0 = Stopwatch.GetTimestamp();
                    embedder.Embed(batch);
                    long b1 = Stopwatch.GetTimestamp();
                    if (b1 > measureEnd)
                    {
                        return; // a batch finishing after the window is not counted
                    }
                    if (b1 >= measureStart)
                    {
                        // A batch's latency: its own texts' tokenization plus tensors, Run, pooling, normalization.
                        r.Sentences += batch.Count;
                        r.Tokens += tokens;
                        r.LastEnd = b1;
                        r.LatenciesMs.Add((b1 - b0 + tokTicks) * 1000.0 / Stopwatch.Frequency);
                    }
                }
            }
        })
        { IsBackground = true, Name = $"plain-{me}" };
        threads[k].Start();
    }
    foreach (Thread t in threads)
    {
        t.Join();
    }
    Console.Error.WriteLine($"{n} texts; {describe}");

    var lat = results.SelectMany(r => r.LatenciesMs).Order().ToArray();
    if (opt.LatenciesFile is not null)
    {
        File.WriteAllLines(opt.LatenciesFile, lat.Select(static ms => ((long)Math.Round(ms * 1000)).ToString(CultureInfo.InvariantCulture)));
    }

    long sentences = results.Sum(r => r.Sentences);
    long totalTokens = results.Sum(r => r.Tokens);
    double seconds = fixedWork ? (results.Max(r => r.LastEnd) - measureStart) / (double)Stopwatch.Frequency : opt.Seconds;
    double perSecond = sentences / seconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"plain sessions={opt.Sessions} threads={opt.Threads} batch={opt.Batch} window={opt.SortWindow}: " +
        $"{perSecond:F1} sentences/s, p50 batch {Percentile(lat, 0.50):F2} ms, p99 batch {Percentile(lat, 0.99):F2} ms, " +
        $"mean tokens {(sentences == 0 ? 0 : (double)totalTokens / sentences):F1}, batches {lat.Length}, seconds {seconds:F3}"));
    return 0;
}

// Nearest-rank percentile of sorted values.
static double Percentile(double[] sorted, double p) =>
    sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

internal sealed class ThreadResult
{
    public long Sentences;
    public long Tokens;
    public long LastEnd;
    public readonly List<double> LatenciesMs = new(4096);
}

// Check output prints the sentences as written (no \uXXXX escapes); it is only read by people and scripts, never by a browser.
internal partial class Program
{
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
