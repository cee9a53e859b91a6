using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EmbeddingService.Inference.Runtime;

/// <summary>
/// Whether this CPU has int8 dot-product instructions, which is what makes an int8 model faster than its fp32 original
/// (ONNX Runtime's int8 matrix kernels use them when they are there): AVX-512 VNNI (Intel from Cascade Lake, AMD from
/// Zen 4), AVX-VNNI (Intel from Alder Lake), or Arm's dot-product extension. Without them int8 models run correctly,
/// about as fast as fp32 (measured on an AVX2-only EPYC: 1.2× at batch 1, no faster at batch 8 and up).
/// </summary>
public static class CpuFeatures
{
    /// <summary>No int8 dot-product instructions were found.</summary>
    public const string None = "none";

    private static readonly Lazy<string> Detected = new(Detect);

    /// <summary>The int8 dot-product instruction set found (<c>avx512_vnni</c>, <c>avx_vnni</c>, <c>arm_dotprod</c>), or <see cref="None"/>.</summary>
    public static string Int8DotProduct => Detected.Value;

    /// <summary>Whether int8 models can be expected to run faster than fp32 here.</summary>
    public static bool HasInt8DotProduct => Int8DotProduct != None;

    private static string Detect()
    {
        // .NET exposes AVX-VNNI and Arm's dot product as intrinsics classes; AVX-512 VNNI it does not, so on Linux the
        // kernel's flags say (the flag is only listed where the OS also enabled the AVX-512 state).
        if (CpuInfoFlags().Contains("avx512_vnni"))
        {
            return "avx512_vnni";
        }

        if (AvxVnni.IsSupported)
        {
            return "avx_vnni";
        }

        return Dp.IsSupported ? "arm_dotprod" : None;
    }

    private static HashSet<string> CpuInfoFlags()
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo"))
            {
                return [];
            }

            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("flags", StringComparison.Ordinal) && line.IndexOf(':') is var colon and > 0)
                {
                    return line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return [];
    }
}
