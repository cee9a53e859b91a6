using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace EmbeddingService.Hosting;

/// <summary>The <c>Limits</c> section: what one request may ask for.</summary>
public sealed class LimitsOptions
{
    public const string SectionName = "Limits";

    /// <summary>Inputs per request (TEI's max client batch size).</summary>
    [Range(1, 100_000)]
    public int MaxInputsPerRequest { get; set; } = 2048;

    /// <summary>Characters (UTF-16 code units) per input, checked before tokenization.</summary>
    [Range(1, 10_000_000)]
    public int MaxInputChars { get; set; } = 200_000;

    /// <summary>Request body size, enforced by Kestrel before the body is parsed (413 beyond it).</summary>
    [Range(1024, 1_073_741_824)]
    public long MaxRequestBodyBytes { get; set; } = 2_000_000;

    /// <summary>Truncate over-long inputs when the request does not say (TEI's <c>--auto-truncate</c>).</summary>
    public bool AutoTruncate { get; set; } = true;

    /// <summary>Time a request may take, queue included, before it is dropped and answered 503.</summary>
    [Range(1, 3600)]
    public int RequestTimeoutSeconds { get; set; } = 30;
}

[OptionsValidator]
public sealed partial class LimitsOptionsValidator : IValidateOptions<LimitsOptions>
{
}
