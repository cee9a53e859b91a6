using Microsoft.Extensions.Options;

namespace EmbeddingService.Inference.Caching;

/// <summary>The embedding cache (<c>Cache</c> section): how many bytes of pooled vectors and their keys it may hold.</summary>
public sealed class EmbeddingCacheOptions
{
    public const string SectionName = "Cache";

    /// <summary>64 MiB: about 30,000 cached sentences of a 384-wide model.</summary>
    public const long DefaultMaxBytes = 64L * 1024 * 1024;

    /// <summary>The most bytes the cache holds, counted as <see cref="EmbeddingCache.EntryBytes"/> estimates them; 0 turns it off.</summary>
    public long MaxBytes { get; set; } = DefaultMaxBytes;
}

/// <summary>
/// Refuses a negative bound, and one the process could never hold: more than half of what the GC may use
/// (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>: the machine's memory, or by default 75 % of a container's limit),
/// since the models, the runtime and the requests in flight need the rest. A
/// typo of a few digits would otherwise only show as an out-of-memory kill hours later. Messages name the key.
/// </summary>
public sealed class EmbeddingCacheOptionsValidator : IValidateOptions<EmbeddingCacheOptions>
{
    private readonly Func<long> _availableMemory;

    public EmbeddingCacheOptionsValidator()
        : this(static () => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)
    {
    }

    /// <param name="availableMemory">The bytes the process may use (tests give their own).</param>
    internal EmbeddingCacheOptionsValidator(Func<long> availableMemory)
    {
        _availableMemory = availableMemory;
    }

    public ValidateOptionsResult Validate(string? name, EmbeddingCacheOptions options)
    {
        if (options.MaxBytes < 0)
        {
            return ValidateOptionsResult.Fail($"Cache:MaxBytes must be 0 (off) or a positive number of bytes. Given: {options.MaxBytes}.");
        }

        var available = _availableMemory();
        var ceiling = available / 2;
        return options.MaxBytes <= ceiling
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Cache:MaxBytes is {options.MaxBytes} bytes ({Mib(options.MaxBytes)}); it may be at most half of what this process's GC may use, {ceiling} bytes ({Mib(ceiling)} of {Mib(available)}). Set it lower, or 0 to turn the cache off.");
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):0.#} MiB";
}
