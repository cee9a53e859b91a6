using EmbeddingService.ClientGenerator;

// dotnet run --project tools/ClientGenerator [-- --check]   (from the repository root)
var root = Directory.GetCurrentDirectory();
while (!File.Exists(Path.Combine(root, "EmbeddingService.sln")))
{
    root = Path.GetDirectoryName(root) ?? throw new DirectoryNotFoundException("Run from inside the repository (EmbeddingService.sln not found).");
}

var code = await ClientCodeGenerator.GenerateAsync(Path.Combine(root, ClientCodeGenerator.DocumentPath));
var output = Path.Combine(root, ClientCodeGenerator.OutputPath);
if (args.Contains("--check"))
{
    var current = File.Exists(output) ? File.ReadAllText(output) : string.Empty;
    Console.WriteLine(current == code ? $"{ClientCodeGenerator.OutputPath} is up to date." : $"{ClientCodeGenerator.OutputPath} is stale: run dotnet run --project tools/ClientGenerator");
    return current == code ? 0 : 1;
}

Directory.CreateDirectory(Path.GetDirectoryName(output)!);
File.WriteAllText(output, code);
Console.WriteLine($"Wrote {ClientCodeGenerator.OutputPath} from {ClientCodeGenerator.DocumentPath}.");
return 0;
