namespace EmbeddingService.Bench;

/// <summary>
/// The texts every part of the run uses, built from the STS benchmark sentences (read from <c>../shared/eval</c>, never
/// copied into the repository). The raw baseline and the HTTP load read the same sequences from the same start, but not
/// equally far: so that any stretch of the short sequence is alike, it takes the sentences in a fixed random order.
/// </summary>
internal sealed class Workloads
{
    private const int MixedCount = 4096;

    private readonly string[] _pool;

    private Workloads(string[] pool, string[] mixed)
    {
        _pool = pool;
        Mixed = mixed;
    }

    /// <summary>Distinct STS sentences.</summary>
    public int PoolSize => _pool.Length;

    /// <summary>Mixed-length texts: half one sentence, a quarter 2-4, 15 % 5-10 and 10 % 12-22 sentences joined
    /// (mean about 50 tokens, the longest truncated by the model). Fixed seed: the same list every run.</summary>
    public string[] Mixed { get; }

    public static Workloads Load(string evalDir)
    {
        var files = new[] { "stsb-dev.tsv", "stsb-test.tsv" }.Select(f => Path.Combine(evalDir, f)).ToArray();
        var missing = files.FirstOrDefault(f => !File.Exists(f));
        if (missing is not null)
        {
            throw new FileNotFoundException($"The STS benchmark file {missing} is missing (use --eval-dir).");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pool = new List<string>();
        foreach (var line in files.SelectMany(File.ReadLines))
        {
            var columns = line.Split('\t');
            foreach (var sentence in columns.Skip(1))
            {
                var text = sentence.Trim();
                if (text.Length > 0 && seen.Add(text))
                {
                    pool.Add(text);
                }
            }
        }

        var random = new Random(42);
        var mixed = new string[MixedCount];
        for (var i = 0; i < mixed.Length; i++)
        {
            var roll = random.NextDouble();
            var sentences = roll switch
            {
                < 0.50 => 1,
                < 0.75 => random.Next(2, 5),
                < 0.90 => random.Next(5, 11),
                _ => random.Next(12, 23),
            };
            mixed[i] = string.Join(' ', Enumerable.Range(0, sentences).Select(_ => pool[random.Next(pool.Count)]));
        }

        // The files are grouped by source: the first 1,000 sentences (video captions) average 11.6 tokens, the rest (news,
        // forums) about 16. In file order the raw batch-1 loop (about a thousand sentences) and the service at one
        // connection (thousands more, after a warm-up) were timed on different lengths.
        var shortOrder = pool.ToArray();
        new Random(7).Shuffle(shortOrder);
        return new Workloads(shortOrder, mixed);
    }

    /// <summary>The <paramref name="index"/>-th short text of an endless sequence of distinct ones: the STS sentences in
    /// a fixed shuffled order with a round number appended (" 0" the first time through, " 1" the next), so no two
    /// requests carry the same text and every text has one token more than its sentence, however far a run reads.</summary>
    public string Short(long index)
    {
        var sentence = _pool[(int)(index % _pool.Length)];
        var round = index / _pool.Length;
        if (round > LastOneTokenRound)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Short text {index} would carry round number {round}, more than one token.");
        }

        return $"{sentence} {round}";
    }

    /// <summary><paramref name="count"/> documents of at least <paramref name="words"/> words each: STS sentences in the
    /// short sequence's order, five to a paragraph, paragraphs apart by a blank line. Each document reads its own stretch
    /// of the sequence (wrapping around the pool when the documents need more sentences than it has).</summary>
    public string[] Documents(int count, int words)
    {
        var documents = new string[count];
        var next = 0;
        for (var d = 0; d < count; d++)
        {
            var text = new System.Text.StringBuilder();
            var written = 0;
            for (var s = 0; written < words; s++)
            {
                var sentence = _pool[next++ % _pool.Length];
                text.Append(s == 0 ? "" : s % 5 == 0 ? "\n\n" : " ").Append(sentence);
                written += sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            }

            documents[d] = text.ToString();
        }

        return documents;
    }

    /// <summary>How many distinct texts <see cref="Short"/> has: indices from 0 to one less.</summary>
    public long DistinctShortTexts => (LastOneTokenRound + 1L) * _pool.Length;

    /// <summary>The numbers 0-341 are single tokens in the BERT uncased vocabulary of both bundled models (342 is not).</summary>
    private const int LastOneTokenRound = 341;

    /// <summary>Indices of <see cref="Short"/> that each load run of the service gets to itself: more than any run sends
    /// (wrk writes up to 3,000 bodies per second of its run, and no run is longer than 15 s).</summary>
    public const long ShortBlockSize = 60_000;
}
