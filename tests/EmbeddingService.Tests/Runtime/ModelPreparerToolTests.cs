using System.Diagnostics;
using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using EmbeddingService.Inference.Models;
using EmbeddingService.Tests.Deployment;

namespace EmbeddingService.Tests.Runtime;

/// <summary>
/// <c>tools/ModelPreparer</c> as the build runs it (a process, the built tool): its <c>quantize</c> command gives the
/// same file for the same model, leaves the layers it is told to in fp32, and fails cleanly on what is not a model.
/// </summary>
public sealed class ModelPreparerToolTests : IDisposable
{
    private static readonly string s_fp32Model = Path.Combine(AppContext.BaseDirectory, "models", "all-MiniLM-L6-v2", "model.onnx");
    private readonly string _scratch = Directory.CreateTempSubdirectory("embeddingservice-test-preparer-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task Quantizing_the_same_model_twice_gives_the_same_file()
    {
        var first = Path.Combine(_scratch, "first");
        var second = Path.Combine(_scratch, "second");
        Assert.Equal(0, (await RunAsync("quantize", s_fp32Model, first)).ExitCode);
        Assert.Equal(0, (await RunAsync("quantize", s_fp32Model, second)).ExitCode);

        Assert.True(File.ReadAllBytes(Path.Combine(first, "model.onnx")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(second, "model.onnx"))));
        Assert.Equal(QuantizationStamp.Read(first), QuantizationStamp.Read(second));
        Assert.Equal(36, QuantizationStamp.Read(first)!.QuantizedMatMuls);
    }

    [Fact]
    public async Task Layers_named_with_keep_float_stay_fp32_and_the_model_still_loads()
    {
        var output = Path.Combine(_scratch, "kept");
        var run = await RunAsync("quantize", s_fp32Model, output, "--keep-float", "encoder.layer.0.", "--keep-float", "encoder.layer.5.");
        Assert.True(run.ExitCode == 0, run.Output);

        var stamp = QuantizationStamp.Read(output)!;
        Assert.Equal(24, stamp.QuantizedMatMuls);
        Assert.Equal(12, stamp.FloatMatMuls);
        using var session = new InferenceSession(Path.Combine(output, "model.onnx"));
        Assert.Contains("input_ids", session.InputMetadata.Keys);
    }

    [Fact]
    public async Task A_file_that_is_not_a_model_fails_with_exit_code_1_and_leaves_nothing_behind()
    {
        var notAModel = Path.Combine(_scratch, "not-a-model.onnx");
        File.WriteAllText(notAModel, "this is not protobuf");
        var output = Path.Combine(_scratch, "out");

        var run = await RunAsync("quantize", notAModel, output);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("not-a-model.onnx", run.Output);
        Assert.Equal(["not-a-model.onnx"], Directory.EnumerateFileSystemEntries(_scratch).Select(static e => Path.GetFileName(e)!).ToArray());
    }

    [Theory]
    [InlineData("shrink", "a.onnx", "out")]
    [InlineData("quantize", "a.onnx", "out", "--keep-everything")]
    [InlineData("prepare", "a.onnx", "out", "--keep-float", "x")]
    public async Task A_wrong_command_line_prints_the_usage_with_exit_code_2(params string[] args)
    {
        var run = await RunAsync(args);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("usage:", run.Output);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var configuration = typeof(ModelPreparerToolTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var tool = DeploymentFiles.PathOf($"tools/ModelPreparer/bin/{configuration}/net10.0/ModelPreparer.dll");
        var start = new ProcessStartInfo("dotnet", [tool, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await output + await error);
    }
}
