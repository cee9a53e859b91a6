using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using EmbeddingService.Inference;
using EmbeddingService.Inference.Caching;
using EmbeddingService.Inference.Models;
using EmbeddingService.Tests.Infrastructure;

namespace EmbeddingService.Tests.Caching;

/// <summary>The cache itself: exact keys, the byte bound, eviction, concurrent writers, and the settings it refuses.</summary>
public sealed class EmbeddingCacheTests
{
    private const string Model = "model-sha/Mean";
    private const int Width = 4;

    [Fact]
    public void A_vector_comes_back_for_equal_ids_only_and_for_the_same_model_only()
    {
        using var cache = Cache(maxBytes: 1 << 20);
        cache.Set(new EmbeddingCacheKey(Model, [101, 7, 8, 102]), [1, 2, 3, 4]);

        var found = new float[Width];
        Assert.True(cache.TryGet(new EmbeddingCacheKey(Model, [101, 7, 8, 102]), found)); // equal ids in another array
        Assert.Equal([1f, 2, 3, 4], found);
        Assert.False(cache.TryGet(new EmbeddingCacheKey(Model, [101, 7, 9, 102]), found));
        Assert.False(cache.TryGet(new EmbeddingCacheKey(Model, [101, 7, 8]), found));
        Assert.False(cache.TryGet(new EmbeddingCacheKey("other-sha/Mean", [101, 7, 8, 102]), found));
        Assert.Equal(1, cache.Entries);
        Assert.Equal(EmbeddingCache.EntryBytes(4, Width), cache.Bytes);
    }

    [Fact]
    public void The_model_part_of_a_key_is_its_onnx_file_folder_and_pooling_not_its_id()
    {
        var manifest = new ModelManifest("a", "/models/a", PoolingMode.Mean, 256, true, new Dictionary<string, string>(), null, ModelSha256: "aaaa");
        Assert.Equal(EmbeddingCacheKey.ModelPart(manifest), EmbeddingCacheKey.ModelPart(manifest with { Id = "b" }));
        Assert.NotEqual(EmbeddingCacheKey.ModelPart(manifest), EmbeddingCacheKey.ModelPart(manifest with { ModelSha256 = "bbbb" }));
        // The same model.onnx in another folder: its weights may be external data files beside it, and differ.
        Assert.NotEqual(EmbeddingCacheKey.ModelPart(manifest), EmbeddingCacheKey.ModelPart(manifest with { Directory = "/models/b" }));
        Assert.NotEqual(EmbeddingCacheKey.ModelPart(manifest), EmbeddingCacheKey.ModelPart(manifest with { Pooling = PoolingMode.Cls }));
    }

    [Fact]
    public void A_real_model_folder_is_keyed_by_the_hash_of_its_onnx_file()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "models", "all-MiniLM-L6-v2");
        var manifest = ModelFolderReader.Read("all-MiniLM-L6-v2", folder);
        using var file = File.OpenRead(Path.Combine(folder, "model.onnx"));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file)), manifest.ModelSha256);
        Assert.StartsWith(manifest.ModelSha256, EmbeddingCacheKey.ModelPart(manifest), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_full_cache_stays_within_its_bound_evicts_and_never_throws()
    {
        var entry = EmbeddingCache.EntryBytes(3, Width);
        using var cache = Cache(maxBytes: 20 * entry);
        for (var i = 0; i < 2000; i++)
        {
            cache.Set(new EmbeddingCacheKey(Model, [101, i, 102]), [i, 0, 0, 0]);
            Assert.True(cache.Bytes <= cache.MaxBytes, $"{cache.Bytes} bytes held after {i + 1} writes; the bound is {cache.MaxBytes}");
        }

        // What the background compaction frees is taken again: an input that misses now is cached.
        var fresh = new EmbeddingCacheKey(Model, [101, -1, 102]);
        var found = new float[Width];
        Assert.True(await Eventually.TrueAsync(() =>
        {
            cache.Set(fresh, [-1, 0, 0, 0]);
            return cache.TryGet(fresh, found);
        }, TimeSpan.FromSeconds(10)), "a new entry was never taken in after the cache filled up");
        Assert.InRange(cache.Entries, 1, 20);
    }

    [Fact]
    public async Task The_least_recently_used_entry_goes_first()
    {
        var entry = EmbeddingCache.EntryBytes(3, Width);
        using var cache = Cache(maxBytes: 10 * entry);
        for (var i = 0; i < 10; i++)
        {
            cache.Set(Key(i), [i, 0, 0, 0]);
            // Entries are ordered by when they were last used: a clock tick apart, however fast this machine is.
            await Task.Delay(2, TestContext.Current.CancellationToken);
        }

        var found = new float[Width];
        Assert.True(cache.TryGet(Key(0), found)); // the oldest entry, used again: now the most recent
        await Task.Delay(2, TestContext.Current.CancellationToken);
        cache.Set(Key(10), [10, 0, 0, 0]); // over the bound: declined, and the cache compacts to 95 % (one entry out)

        Assert.True(await Eventually.TrueAsync(() => cache.Entries < 10, TimeSpan.FromSeconds(10)), "the cache never compacted");
        Assert.True(cache.TryGet(Key(0), found), "the entry used last was evicted");
        Assert.False(cache.TryGet(Key(1), found), "the least recently used entry was kept");

        static EmbeddingCacheKey Key(int i) => new(Model, [101, i, 102]);
    }

    [Fact]
    public void Concurrent_writers_of_one_input_leave_one_entry_counted_once()
    {
        using var cache = Cache(maxBytes: 1 << 20);
        var vector = new float[] { 0.5f, -0.25f, 1, 2 };
        Parallel.For(0, 2000, i =>
        {
            cache.Set(new EmbeddingCacheKey(Model, [101, 42, 43, 102]), vector);
            var found = new float[Width];
            if (cache.TryGet(new EmbeddingCacheKey(Model, [101, 42, 43, 102]), found))
            {
                Assert.Equal(vector, found);
            }
        });

        Assert.Equal(1, cache.Entries);
        Assert.Equal(EmbeddingCache.EntryBytes(4, Width), cache.Bytes);
    }

    /// <summary>Replacements racing compactions (a refreshed entry is often an old one, the next to be evicted): what the
    /// cache counts stays what it holds, and it keeps taking new entries. Microsoft.Extensions.Caching.Memory 10.0 can
    /// count a replaced entry's size twice when a compaction removes it meanwhile (dotnet/runtime#129186); the cache
    /// removes before it writes, so it never replaces in place.</summary>
    [Fact]
    public async Task Replacements_racing_compactions_keep_the_count_exact()
    {
        var entry = EmbeddingCache.EntryBytes(3, Width);
        using var cache = Cache(maxBytes: 50 * entry);
        Parallel.For(0, 8, worker =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                // Half the writes replace one of 8 hot keys, half add a cold key that fills the cache and forces compactions.
                var id = i % 2 == 0 ? i % 16 : 1_000 + (worker * 20_000) + i;
                cache.Set(new EmbeddingCacheKey(Model, [101, id, 102]), [id, 0, 0, 0]);
            }
        });

        // Once the background compactions are done, every entry counted once: all entries have the same size.
        Assert.True(await Eventually.TrueAsync(() => cache.Bytes == cache.Entries * entry, TimeSpan.FromSeconds(10)),
            $"the cache counts {cache.Bytes} bytes for {cache.Entries} entries of {entry}");
        Assert.InRange(cache.Bytes, 0, cache.MaxBytes);
        var fresh = new EmbeddingCacheKey(Model, [101, -7, 102]);
        Assert.True(await Eventually.TrueAsync(() =>
        {
            cache.Set(fresh, [-7, 0, 0, 0]);
            return cache.TryGet(fresh, new float[Width]);
        }, TimeSpan.FromSeconds(10)), "the cache stopped taking new entries");
    }

    [Fact]
    public void A_disposed_cache_misses_and_ignores_writes()
    {
        var cache = Cache(maxBytes: 1 << 20);
        cache.Set(new EmbeddingCacheKey(Model, [1, 2]), [1, 2, 3, 4]);
        cache.Dispose();

        // A request still finishing while the host shuts down: no exception.
        cache.Set(new EmbeddingCacheKey(Model, [1, 3]), [1, 2, 3, 4]);
        Assert.False(cache.TryGet(new EmbeddingCacheKey(Model, [1, 2]), new float[Width]));
    }

    [Fact]
    public void MaxBytes_0_turns_the_cache_off()
    {
        using var cache = Cache(maxBytes: 0);
        cache.Set(new EmbeddingCacheKey(Model, [1, 2]), [1, 2, 3, 4]);
        Assert.False(cache.Enabled);
        Assert.False(cache.TryGet(new EmbeddingCacheKey(Model, [1, 2]), new float[Width]));
        Assert.Equal(0, cache.Entries);
    }

    [Theory]
    [InlineData(-1L, false)]
    [InlineData(long.MinValue, false)]
    [InlineData(0L, true)] // off
    [InlineData(64L * 1024 * 1024, true)]
    [InlineData(512L * 1024 * 1024, true)] // half of the 1 GiB the process may use
    [InlineData(512L * 1024 * 1024 + 1, false)]
    [InlineData(long.MaxValue, false)]
    public void A_negative_bound_or_one_over_half_the_memory_the_process_may_use_is_refused_naming_the_key(long maxBytes, bool accepted)
    {
        var result = new EmbeddingCacheOptionsValidator(static () => 1024L * 1024 * 1024).Validate(null, new EmbeddingCacheOptions { MaxBytes = maxBytes });
        Assert.Equal(accepted, result.Succeeded);
        if (!accepted)
        {
            Assert.StartsWith("Cache:MaxBytes ", result.FailureMessage, StringComparison.Ordinal);
        }
    }

    /// <summary>As the service registers its options (validated at start-up): the message is the one the service prints
    /// when it refuses to start (.ci/publish-smoke.sh starts the published service with <c>Cache__MaxBytes=-1</c>).</summary>
    [Theory]
    [InlineData("-1")]
    [InlineData("1000000000000000000")] // 1 EB
    [InlineData("64MB")] // not a number of bytes
    public void A_bad_bound_in_the_configuration_is_refused_naming_the_key(string maxBytes)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Cache:MaxBytes"] = maxBytes }).Build();
        using var services = new ServiceCollection().AddLogging().AddEmbeddingInference(configuration).BuildServiceProvider();

        var error = Assert.ThrowsAny<Exception>(() => services.GetRequiredService<IOptions<EmbeddingCacheOptions>>().Value);

        Assert.Contains("Cache:MaxBytes", error.Message, StringComparison.Ordinal);
    }

    private static EmbeddingCache Cache(long maxBytes) => new(Options.Create(new EmbeddingCacheOptions { MaxBytes = maxBytes }));
}
