using System.Numerics.Tensors;
using EmbeddingService.Inference.Models;

namespace EmbeddingService.Inference.Runtime;

/// <summary>Pools a row of token vectors (<c>last_hidden_state</c>) into one sentence vector.</summary>
public static class Pooling
{
    /// <param name="tokens">The row's token vectors, <c>paddedLength × dimensions</c>, padding last.</param>
    /// <param name="length">How many of them are real tokens (the attention mask's ones).</param>
    /// <param name="destination">Receives <c>dimensions</c> floats.</param>
    public static void Pool(PoolingMode mode, ReadOnlySpan<float> tokens, int length, Span<float> destination)
    {
        var dimensions = destination.Length;
        switch (mode)
        {
            case PoolingMode.Cls:
                tokens[..dimensions].CopyTo(destination);
                break;
            case PoolingMode.Mean:
                tokens[..dimensions].CopyTo(destination);
                for (var t = 1; t < length; t++)
                {
                    TensorPrimitives.Add(destination, tokens.Slice(t * dimensions, dimensions), destination);
                }

                TensorPrimitives.Multiply(destination, 1f / Math.Max(length, 1), destination);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, null);
        }
    }

    /// <summary>L2-normalizes in place, as sentence-transformers' Normalize module does (a zero vector stays zero).</summary>
    public static void Normalize(Span<float> vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        TensorPrimitives.Divide(vector, Math.Max(norm, 1e-12f), vector);
    }
}
