using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using EmbeddingService.Inference;

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

    /// <summary>What to do with an input longer than the model's limit when the request does not say (<c>long_input</c>,
    /// or TEI's <c>truncate</c>): <c>truncate</c>, <c>error</c> or <c>mean</c>. Not set: <see cref="AutoTruncate"/> decides.</summary>
    public LongInputPolicy? LongInput { get; set; }

    /// <summary>Before <see cref="LongInput"/>: TEI's <c>--auto-truncate</c>. <c>false</c> means <c>LongInput=error</c>; still
    /// read, so existing deployments keep their behaviour. Setting both is refused at start-up.</summary>
    public bool? AutoTruncate { get; set; }

    /// <summary>The policy for requests that do not choose one.</summary>
    public LongInputPolicy DefaultLongInput => LongInput ?? (AutoTruncate == false ? LongInputPolicy.Error : LongInputPolicy.Truncate);

    /// <summary>Model inputs one request may make: chunks of <c>/embed_chunks</c> documents and of long inputs under
    /// <c>long_input: mean</c>, one per other input. They must run within <see cref="RequestTimeoutSeconds"/>.</summary>
    [Range(1, 1_000_000)]
    public int MaxChunksPerRequest { get; set; } = 512;

    /// <summary>Tokens (special tokens included) of one <c>/embed_all</c> request: its answer holds a vector per token,
    /// about 4 KB of JSON each for a 384-wide model.</summary>
    [Range(1, 10_000_000)]
    public int MaxEmbedAllTokens { get; set; } = 4096;

    /// <summary>Time a request may take, queue included, before it is dropped and answered 503.</summary>
    [Range(1, 3600)]
    public int RequestTimeoutSeconds { get; set; } = 30;
}

[OptionsValidator]
public sealed partial class LimitsOptionsValidator : IValidateOptions<LimitsOptions>
{
}

/// <summary>The rules across keys that attributes cannot state.</summary>
public sealed class LimitsOptionsConsistency : IValidateOptions<LimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, LimitsOptions options) =>
        options.LongInput is not null && options.AutoTruncate is not null
            ? ValidateOptionsResult.Fail("Set Limits:LongInput only: Limits:AutoTruncate is its older form (false = error, true = truncate).")
            : ValidateOptionsResult.Success;
}
