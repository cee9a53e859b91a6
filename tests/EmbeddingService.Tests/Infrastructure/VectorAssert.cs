namespace EmbeddingService.Tests.Infrastructure;

internal static class VectorMath
{
    public static double Cosine(IReadOnlyList<float> a, IReadOnlyList<double> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Count; i++)
        {
            dot += a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }

    public static double Cosine(IReadOnlyList<float> a, IReadOnlyList<float> b) => Cosine(a, b.Select(static x => (double)x).ToArray());

    public static double Norm(IReadOnlyList<float> a) => Math.Sqrt(a.Sum(static x => (double)x * x));

    /// <summary>Spearman rank correlation with average ranks for ties (as scipy and MTEB compute it).</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var rx = Ranks(x);
        var ry = Ranks(y);
        var mx = rx.Average();
        var my = ry.Average();
        double num = 0, dx = 0, dy = 0;
        for (var i = 0; i < rx.Length; i++)
        {
            num += (rx[i] - mx) * (ry[i] - my);
            dx += (rx[i] - mx) * (rx[i] - mx);
            dy += (ry[i] - my) * (ry[i] - my);
        }

        return num / Math.Sqrt(dx * dy);
    }

    private static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        var i = 0;
        while (i < order.Length)
        {
            var j = i;
            while (j + 1 < order.Length && values[order[j + 1]] == values[order[i]])
            {
                j++;
            }

            var average = (i + j) / 2.0 + 1;
            for (var k = i; k <= j; k++)
            {
                ranks[order[k]] = average;
            }

            i = j + 1;
        }

        return ranks;
    }
}
