using System.Net.Http.Json;

namespace EmbeddingService.Tests.Infrastructure;

/// <summary>Small typed calls to the service under test.</summary>
internal static class ServiceClient
{
    public static async Task<float[][]> EmbedAsync(this HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/embed", body, TestContext.Current.CancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"/embed answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        }

        return (await response.Content.ReadFromJsonAsync<float[][]>(TestContext.Current.CancellationToken))!;
    }

    /// <summary>The token ids <c>/tokenize</c> gives each text.</summary>
    public static async Task<int[][]> TokenIdsAsync(this HttpClient client, IReadOnlyList<string> texts, string? model = null, bool addSpecialTokens = true)
    {
        using var response = await client.PostAsJsonAsync("/tokenize", new { inputs = texts, model, add_special_tokens = addSpecialTokens }, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return json.RootElement.EnumerateArray()
            .Select(static tokens => tokens.EnumerateArray().Select(static t => t.GetProperty("id").GetInt32()).ToArray())
            .ToArray();
    }

    /// <summary>Embeds many texts in requests of <paramref name="chunk"/> inputs.</summary>
    public static async Task<float[][]> EmbedManyAsync(this HttpClient client, IReadOnlyList<string> texts, string? model = null, int chunk = 256)
    {
        var result = new List<float[]>(texts.Count);
        for (var i = 0; i < texts.Count; i += chunk)
        {
            var part = texts.Skip(i).Take(chunk).ToArray();
            result.AddRange(await client.EmbedAsync(new { inputs = part, model }));
        }

        return result.ToArray();
    }
}
