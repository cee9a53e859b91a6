using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace EmbeddingService.Hosting;

/// <summary>The <c>RateLimiting</c> section: an optional token bucket per API key (or per client IP without keys).</summary>
public sealed class RateLimitingOptions
{
    public const string SectionName = "RateLimiting";

    public bool Enabled { get; set; }

    /// <summary>Requests a caller may burst.</summary>
    [Range(1, 1_000_000)]
    public int TokenLimit { get; set; } = 100;

    /// <summary>Requests added back to each bucket every <see cref="ReplenishmentPeriodSeconds"/>.</summary>
    [Range(1, 1_000_000)]
    public int TokensPerPeriod { get; set; } = 50;

    [Range(1, 3600)]
    public int ReplenishmentPeriodSeconds { get; set; } = 1;
}

[OptionsValidator]
public sealed partial class RateLimitingOptionsValidator : IValidateOptions<RateLimitingOptions>
{
}
