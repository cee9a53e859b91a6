using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace EmbeddingService.Inference.Models;

/// <summary>The <c>Models</c> section: which model folders to load and which one answers requests that name none.</summary>
public sealed class ModelsOptions
{
    public const string SectionName = "Models";

    /// <summary>The id of the model used when a request names none. Must be one of <see cref="Items"/>.</summary>
    [Required]
    public string Default { get; set; } = string.Empty;

    /// <summary>The models to load, each a model folder.</summary>
    [Required]
    [MinLength(1)]
    [ValidateEnumeratedItems]
    public List<ModelRegistration> Items { get; set; } = [];
}

/// <summary>One model to load.</summary>
public sealed class ModelRegistration
{
    /// <summary>The id callers use (<c>model</c> in requests).</summary>
    [Required]
    [RegularExpression(@"^[A-Za-z0-9][A-Za-z0-9._/:-]{0,127}$", ErrorMessage = "Model ids are 1-128 characters: letters, digits, '.', '_', '/', ':' and '-'.")]
    public string Id { get; set; } = string.Empty;

    /// <summary>The model folder; a relative path is resolved against the application's base directory.</summary>
    [Required]
    public string Path { get; set; } = string.Empty;

    /// <summary>Overrides the folder's <c>max_seq_length</c>.</summary>
    [Range(3, 8192)]
    public int? MaxSequenceLength { get; set; }
}

[OptionsValidator]
public sealed partial class ModelsOptionsValidator : IValidateOptions<ModelsOptions>
{
}

/// <summary>Cross-field rules the attributes cannot express.</summary>
public sealed class ModelsOptionsConsistencyValidator : IValidateOptions<ModelsOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelsOptions options)
    {
        var failures = new List<string>();
        var duplicates = options.Items.GroupBy(static m => m.Id, StringComparer.Ordinal).Where(static g => g.Count() > 1).Select(static g => g.Key).ToList();
        if (duplicates.Count > 0)
        {
            failures.Add($"Models:Items: ids must be unique; repeated: {string.Join(", ", duplicates)}.");
        }

        if (!string.IsNullOrEmpty(options.Default) && options.Items.All(m => m.Id != options.Default))
        {
            failures.Add($"Models:Default '{options.Default}' is not one of Models:Items ({string.Join(", ", options.Items.Select(static m => m.Id))}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
