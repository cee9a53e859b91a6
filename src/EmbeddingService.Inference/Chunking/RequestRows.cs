using EmbeddingService.Inference.Tokenization;

namespace EmbeddingService.Inference.Chunking;

/// <summary>
/// The model inputs ("rows") one request runs, grouped by the vector each group makes: one row for an input that fits
/// or is truncated, several for an input embedded in chunks and pooled by their mean, one per chunk for
/// <c>/embed_chunks</c>. Each row carries its weight in that mean: its content tokens (no special tokens, no prompt).
/// </summary>
internal sealed class RequestRows
{
    private readonly List<TokenizedInput> _rows = [];
    private readonly List<int> _weights = [];
    private readonly List<int> _groupStarts = [];

    public int Count => _rows.Count;

    public int Groups => _groupStarts.Count;

    /// <summary>Tokens of every row, special tokens included: what the request costs.</summary>
    public int Tokens { get; private set; }

    /// <summary>Groups whose input was cut to fit.</summary>
    public int Truncated { get; private set; }

    public int Weight(int row) => _weights[row];

    /// <summary>The rows of group <paramref name="group"/>: <c>First</c> to <c>End</c> (exclusive).</summary>
    public (int First, int End) RowsOf(int group) =>
        (_groupStarts[group], group + 1 < _groupStarts.Count ? _groupStarts[group + 1] : _rows.Count);

    /// <summary>Starts the next group (the next vector of the answer).</summary>
    public void StartGroup() => _groupStarts.Add(_rows.Count);

    /// <summary>Adds a row to the group started last.</summary>
    public void Add(TokenizedInput row, int weight)
    {
        _rows.Add(row);
        _weights.Add(weight);
        Tokens += row.Length;
        Truncated += row.Truncated ? 1 : 0;
    }

    /// <exception cref="EmbeddingException">More rows or tokens than the request may run.</exception>
    public void CheckBounds(NamedLimit? maxChunks, NamedLimit? maxTokens)
    {
        if (maxChunks is not null && Count > maxChunks.Value)
        {
            throw EmbeddingException.Validation(
                $"The request makes {Count} model inputs (chunks); the limit is {maxChunks.Value} ({maxChunks.Name}).", "inputs");
        }

        if (maxTokens is not null && Tokens > maxTokens.Value)
        {
            throw EmbeddingException.Validation(
                $"The request has {Tokens} tokens, special tokens included; the limit is {maxTokens.Value} ({maxTokens.Name}).", "inputs");
        }
    }

    public TokenizedInput[] ToArray() => [.. _rows];
}
