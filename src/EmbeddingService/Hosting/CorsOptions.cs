namespace EmbeddingService.Hosting;

/// <summary>The <c>Cors</c> section. CORS is off unless origins are listed.</summary>
public sealed class CorsOptions
{
    public const string SectionName = "Cors";

    /// <summary>Origins allowed to call the API from a browser, e.g. <c>https://app.example.com</c>; <c>*</c> allows any.</summary>
    public List<string> AllowedOrigins { get; set; } = [];
}
