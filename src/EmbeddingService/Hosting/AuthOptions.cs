namespace EmbeddingService.Hosting;

/// <summary>The <c>Auth</c> section: optional API keys.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>Accepted keys (<c>Authorization: Bearer &lt;key&gt;</c>). Empty: no authentication.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>Require a key for <c>/metrics</c> too (health routes always stay public for probes).</summary>
    public bool ProtectMetrics { get; set; }
}
