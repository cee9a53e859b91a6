using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using EmbeddingService.Inference.Chunking;
using EmbeddingService.Inference.Models;
using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Bench;

/// <summary>The documents level's result: the raw loop's configurations, and the windows of the chosen one and of the
/// service, in turn.</summary>
internal sealed record DocumentResult(int Documents, int Chunks, long ChunkTokens, IReadOnlyList<RawResult> RawPhase,
    IReadOnlyList<RawResult> RawWindows, IReadOnlyList<(double Seconds, long Chunks, long Failed, LatencyStats Latency)> ServiceWindows)
{
    public RawResult RawBest => RawResult.Combine(RawWindows);

    /// <summary>Chunk tokens (no special tokens) per second, each side summed over its windows.</summary>
    public double RawTokensPerSecond => RawBest.SentencesPerSecond * ChunkTokens / Chunks;

    public double ServiceTokensPerSecond => ServiceWindows.Sum(static w => w.Chunks) * (double)ChunkTokens / Chunks / ServiceWindows.Sum(static w => w.Seconds);

    public double Ratio => ServiceTokensPerSecond / RawTokensPerSecond;

    public IEnumerable<double> RoundRatios => ServiceWindows.Zip(RawWindows, static (s, r) => s.Chunks / s.Seconds / r.SentencesPerSecond);

    public long Failed => ServiceWindows.Sum(static w => w.Failed);
}

/// <summary>
/// Whole documents (issue 15): <c>POST /embed_chunks</c> on <see cref="DocumentCount"/> documents of about
/// <see cref="DocumentWords"/> words, one per request, at <see cref="Connections"/> connections, against the raw loop
/// (the library's runner, no HTTP, no batcher) running the very same chunks (the library's tokenizer and
/// <see cref="ChunkPlanner"/> at the default budget) in length-sorted batches. The raw phase tries a few layouts and batch
/// sizes once; the best is then measured in windows taken in turn with the service's (raw, service, service, raw, …),
/// each window the whole set of documents once. The raw side's time excludes tokenizing and chunking; the service's
/// includes them and HTTP.
/// </summary>
internal static class DocumentChunks
{
    public const int DocumentCount = 20;
    public const int DocumentWords = 5000;
    public const int Connections = 2;

    /// <summary>Layouts and batch sizes for chunks of up to the model's limit: passes of one chunk on one thread each (the
    /// service's layout when both runners are busy), pairs, and one chunk on two threads.</summary>
    private static readonly (RawLayout Layout, int Batch)[] s_candidates =
    [
        (new RawLayout(2, 1, Spin: false, OneSession: true), 1),
        (new RawLayout(2, 1, Spin: false), 1),
        (new RawLayout(2, 1, Spin: false), 2),
        (new RawLayout(2, 1, Spin: false), 4),
        (new RawLayout(1, 2, Spin: true), 1),
    ];

    public static async Task<DocumentResult> MeasureAsync(ServiceProcess service, Workloads workloads, BenchOptions options)
    {
        var documents = workloads.Documents(DocumentCount, DocumentWords);
        var modelDir = Path.Combine(Path.GetDirectoryName(options.ServiceDll)!, "models", options.Model);
        var manifest = ModelFolderReader.Read(options.Model, modelDir);
        var tokenizer = ModelTokenizer.Create(manifest);
        var rows = new List<int[]>();
        long chunkTokens = 0;
        foreach (var document in documents)
        {
            var tokens = tokenizer.TokenizeDocument(document);
            foreach (var chunk in ChunkPlanner.Plan(tokens, tokenizer.ContentRoom, overlap: 0))
            {
                rows.Add(tokenizer.Frame([], tokens.Ids.AsSpan(chunk.From, chunk.Count)).Ids);
                chunkTokens += chunk.Count;
            }
        }

        // Longest first, so the passes that finish last are short ones.
        var sorted = rows.OrderByDescending(static r => r.Length).ToArray();
        Console.Error.WriteLine($"  documents: {documents.Length} of ~{DocumentWords} words, {sorted.Length} chunks, {chunkTokens} chunk tokens");

        var rounds = options.Quick ? 1 : 3;
        using var progress = BenchProgress.Begin("whole documents: /embed_chunks beside the library runner", s_candidates.Length + rounds);
        var raw = new RawBaseline(manifest, tokenizer, workloads, options.RawSeconds);
        var phase = new List<RawResult>();
        foreach (var (layout, batch) in s_candidates)
        {
            phase.Add(Log(raw.Rows("chunks", layout, batch, sorted)));
            progress.Advance();
        }

        var best = phase.MaxBy(static r => r.SentencesPerSecond)!;

        using var client = LoadDriver.CreateClient(service.BaseAddress, TimeSpan.FromMinutes(5));
        // Every round embeds the same documents again: past the embedding cache, so that each round runs its chunks.
        client.DefaultRequestHeaders.TryAddWithoutValidation("Cache-Control", ILoadDriver.NoStore);
        await CheckSameChunksAsync(client, documents[0], options.Model, tokenizer);
        // A warm-up pass of the service over a few documents (its arena grows to these shapes once).
        await ServiceWindowAsync(client, documents.Take(4).ToArray(), options.Model);

        var rawWindows = new List<RawResult>();
        var serviceWindows = new List<(double, long, long, LatencyStats)>();
        for (var round = 0; round < rounds; round++)
        {
            progress.Advance();
            // raw, service, then service, raw: a steady drift weighs on both sides alike.
            if (round % 2 == 0)
            {
                rawWindows.Add(Log(raw.Rows("chunks", best.Layout, best.BatchSize, sorted)));
                serviceWindows.Add(LogService(await ServiceWindowAsync(client, documents, options.Model)));
            }
            else
            {
                serviceWindows.Add(LogService(await ServiceWindowAsync(client, documents, options.Model)));
                rawWindows.Add(Log(raw.Rows("chunks", best.Layout, best.BatchSize, sorted)));
            }
        }

        return new DocumentResult(documents.Length, sorted.Length, chunkTokens, phase, rawWindows, serviceWindows);
    }

    /// <summary>Every document once over <see cref="Connections"/> connections, each sending the next document when its
    /// answer is in: the time from the first request to the last answer, the chunks answered, non-200 answers.</summary>
    private static async Task<(double Seconds, long Chunks, long Failed, LatencyStats Latency)> ServiceWindowAsync(HttpClient client, string[] documents, string model)
    {
        var next = -1;
        long chunks = 0, failed = 0;
        var latency = new LatencyStats();
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < documents.Length)
            {
                var began = Stopwatch.GetTimestamp();
                using var response = await client.PostAsJsonAsync("embed_chunks", new Dictionary<string, object> { ["inputs"] = documents[index], ["model"] = model });
                var body = await response.Content.ReadAsStreamAsync();
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failed);
                    continue;
                }

                using var json = await JsonDocument.ParseAsync(body);
                Interlocked.Add(ref chunks, json.RootElement[0].GetArrayLength());
                lock (latency)
                {
                    latency.Add(Stopwatch.GetTimestamp() - began);
                }
            }
        })));
        return (Stopwatch.GetElapsedTime(started).TotalSeconds, chunks, failed, latency);
    }

    /// <summary>The service must cut the documents as the raw side does, or the two would not run the same work.</summary>
    private static async Task CheckSameChunksAsync(HttpClient client, string document, string model, ModelTokenizer tokenizer)
    {
        using var response = await client.PostAsJsonAsync("embed_chunks", new Dictionary<string, object> { ["inputs"] = document, ["model"] = model });
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /embed_chunks answered {(int)response.StatusCode}: {text}");
        }

        using var json = JsonDocument.Parse(text);
        var served = json.RootElement[0].EnumerateArray().Select(static c => c.GetProperty("tokens").GetInt32()).ToArray();
        var tokens = tokenizer.TokenizeDocument(document);
        var planned = ChunkPlanner.Plan(tokens, tokenizer.ContentRoom, overlap: 0).Select(static c => c.Count).ToArray();
        if (!served.SequenceEqual(planned))
        {
            throw new InvalidOperationException($"The service cut a document into chunks of [{string.Join(',', served)}] tokens, the bench into [{string.Join(',', planned)}].");
        }
    }

    private static RawResult Log(RawResult result)
    {
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  raw chunks {result.Layout} batch {result.BatchSize}: {result.SentencesPerSecond:F1} chunks/s, p50 batch {result.P50Ms:F1} ms"));
        return result;
    }

    private static (double, long, long, LatencyStats) LogService((double Seconds, long Chunks, long Failed, LatencyStats Latency) window)
    {
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  http embed_chunks x{Connections} window: {window.Chunks / window.Seconds:F1} chunks/s, p50 request {window.Latency.PercentileMs(50):F0} ms, non-200 {window.Failed}"));
        return window;
    }
}
