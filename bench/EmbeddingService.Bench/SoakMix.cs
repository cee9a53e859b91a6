using System.Net.Http.Headers;

namespace EmbeddingService.Bench;

/// <summary>
/// The soak's traffic, the issue's mix of bulk ingestion and interactive queries on one service: patient clients, clients
/// that give up, malformed requests and a one-sentence caller, side by side.
/// </summary>
internal static class SoakMix
{
    public const int PatientClients = 4;
    public const int PatientInputs = 8;
    public const int ImpatientClients = 4;
    public const int ImpatientInputs = 32;

    /// <summary>One over <c>Limits:MaxInputsPerRequest</c> (2,048 by default): a 422.</summary>
    private const int TooManyInputs = 2049;

    /// <summary>The patient clients' timeout: no request of theirs may take longer.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan s_impatience = TimeSpan.FromMilliseconds(50);

    private static readonly string s_timedOut = $"timed out ({Patience.TotalSeconds:F0} s)";

    /// <summary>Between two malformed requests: a steady stream of them beside the load, not a flood that would make the
    /// soak a measure of how fast the service rejects them.</summary>
    private static readonly TimeSpan s_malformedPause = TimeSpan.FromMilliseconds(10);

    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    public static readonly string Description =
        $"{PatientClients} patient clients ({PatientInputs} mixed-length texts per request, {Patience.TotalSeconds:F0}-s timeout), "
        + $"{ImpatientClients} clients that give up ({ImpatientInputs} mixed-length texts per request, cancelled after {s_impatience.TotalMilliseconds:F0} ms, which closes the connection), "
        + $"1 stream of malformed requests ({string.Join(", ", RequestBodies.Malformed.Select(static m => m.Kind))}, {TooManyInputs} inputs, "
        + $"a {CutOffUploadContent.DeclaredBytes:N0}-byte body cut off mid-upload; {s_malformedPause.TotalMilliseconds:F0} ms apart), "
        + "and 1 caller sending one short sentence per request; every client closed loop";

    /// <summary>The four streams: patient, impatient, malformed, one-sentence caller.</summary>
    public static SoakStream[] Create(Uri baseAddress, Workloads workloads, string model)
    {
        var malformed = MalformedKinds(workloads, model);
        long nextMalformed = -1;
        long nextShort = -1;
        return
        [
            new("patient", baseAddress, PatientClients, r => MixedRequest(r, workloads, model, PatientInputs, Patience, s_timedOut)),
            new("impatient", baseAddress, ImpatientClients, r => MixedRequest(r, workloads, model, ImpatientInputs, s_impatience, $"gave up after {s_impatience.TotalMilliseconds:F0} ms")),
            // Every kind in turn, so each is sent about as often.
            new("malformed", baseAddress, 1, r => malformed[(int)(Interlocked.Increment(ref nextMalformed) % malformed.Length)](r), s_malformedPause),
            new("one-sentence caller", baseAddress, 1, _ =>
                Json("one sentence", RequestBodies.Embed([workloads.Short(Interlocked.Increment(ref nextShort) % workloads.DistinctShortTexts)], model), Patience, s_timedOut, inputs: 1)),
        ];
    }

    /// <summary><paramref name="inputs"/> consecutive mixed-length texts from a random place (a window of its own per request).</summary>
    private static SoakRequest MixedRequest(Random random, Workloads workloads, string model, int inputs, TimeSpan giveUpAfter, string giveUpOutcome)
    {
        var start = random.Next(workloads.Mixed.Length - inputs);
        return Json($"{inputs} mixed texts", RequestBodies.Embed(workloads.Mixed.AsSpan(start, inputs).ToArray(), model), giveUpAfter, giveUpOutcome, inputs);
    }

    private static Func<Random, SoakRequest>[] MalformedKinds(Workloads workloads, string model)
    {
        var tooMany = RequestBodies.Embed(Enumerable.Repeat("too many inputs", TooManyInputs).ToArray(), model);
        return
        [
            .. RequestBodies.Malformed.Select(static m => (Func<Random, SoakRequest>)(_ => Json(m.Kind, m.Body, Patience, s_timedOut))),
            _ => Json($"{TooManyInputs} inputs", tooMany, Patience, s_timedOut),
            // Cancelled 100-300 ms into an upload that would take over a second.
            r => Typed(new SoakRequest("cut-off upload", new CutOffUploadContent(workloads.Mixed[r.Next(workloads.Mixed.Length)]),
                TimeSpan.FromMilliseconds(r.Next(100, 301)), "closed mid-upload")),
        ];
    }

    private static SoakRequest Json(string kind, byte[] body, TimeSpan giveUpAfter, string giveUpOutcome, int inputs = 0) =>
        Typed(new SoakRequest(kind, new ByteArrayContent(body), giveUpAfter, giveUpOutcome, inputs));

    private static SoakRequest Typed(SoakRequest request)
    {
        request.Content.Headers.ContentType = s_json;
        return request;
    }
}
