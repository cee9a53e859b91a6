namespace EmbeddingService.Hosting;

/// <summary>CORS from the <c>Cors</c> section: off unless origins are listed (the default policy then allows none).</summary>
internal static class CorsSetup
{
    public static IServiceCollection AddEmbeddingCors(this IServiceCollection services, IConfiguration configuration)
    {
        var origins = configuration.GetSection(CorsOptions.SectionName).Get<CorsOptions>()?.AllowedOrigins ?? [];
        services.AddCors(cors => cors.AddDefaultPolicy(policy =>
        {
            if (origins.Contains("*"))
            {
                policy.AllowAnyOrigin().AllowAnyHeader().AllowAnyMethod();
            }
            else if (origins.Count > 0)
            {
                policy.WithOrigins([.. origins]).AllowAnyHeader().AllowAnyMethod();
            }
        }));
        return services;
    }
}
