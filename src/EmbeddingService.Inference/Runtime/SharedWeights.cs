using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace EmbeddingService.Inference.Runtime;

/// <summary>
/// One copy of a model's weights for all of its ONNX Runtime sessions: the external initializers of an optimized graph
/// (<see cref="OptimizedModelExport"/>), read once into native memory and handed to every session with
/// <c>SessionOptions.AddInitializer</c>, plus one <see cref="PrePackedWeightsContainer"/> so the matrix-multiply weights
/// ONNX Runtime re-lays out at session creation (prepacking) are also kept once. Measured on both built-in models: a second
/// session adds ~1 MB when created instead of ~90 MB (what it then allocates for its passes comes on top).
/// <para>Two ways to hold them. <see cref="Load"/> copies them into native memory (for a graph optimized at start-up into
/// a temporary folder that is deleted afterwards). <see cref="Map"/> maps the weights file of a graph prepared at build
/// time read-only, and <see cref="DropResidentPages"/> lets go of every page once the sessions exist: ONNX Runtime has
/// then copied the matrix-multiply weights into its prepacked layout and never reads them again, so those pages stay
/// out of memory, and the rest come back from the file as they are read (the rows of the token embeddings that
/// requests use, the norms, the biases). Measured: ~150 MB less resident memory with both built-in models.</para>
/// <para>Reference-counted: each session using the weights holds a lease, and the memory is freed when the creator and
/// the last session have let go (ONNX Runtime requires shared initializers to outlive every session using them).</para>
/// </summary>
internal sealed unsafe class SharedWeights
{
    private const nuint Alignment = 64;

    // Each initializer's tensor and the native block it is a view of (owned, unless the weights are mapped).
    private readonly List<(string Name, OrtValue Value, nint Block)> _initializers = [];
    private int _references = 1;
    private MemoryMappedFile? _file;
    private MemoryMappedViewAccessor? _view;
    private byte* _mapped;

    private SharedWeights()
    {
    }

    /// <summary>The container the sessions share their prepacked weights through.</summary>
    public PrePackedWeightsContainer PrePacked { get; } = new();

    public int Count => _initializers.Count;

    public long Bytes { get; private set; }

    /// <summary>Holders still using the weights (the memory is freed at 0).</summary>
    internal int References => Volatile.Read(ref _references);

    /// <summary>Reads the external initializers of <paramref name="graphPath"/>. The caller holds the first lease.</summary>
    public static SharedWeights Load(string graphPath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(graphPath))!;
        var weights = new SharedWeights();
        try
        {
            foreach (var group in OnnxExternalInitializers.Read(graphPath).GroupBy(static i => i.Location, StringComparer.Ordinal))
            {
                using var file = File.OpenHandle(Path.Combine(folder, group.Key));
                foreach (var initializer in group)
                {
                    weights.Add(file, initializer);
                }
            }

            return weights;
        }
        catch
        {
            weights.Release();
            throw;
        }
    }

    /// <summary>Maps the weights file of <paramref name="graphPath"/> read-only (it must stay in place while the process
    /// runs: a prepared graph in the model folder). The caller holds the first lease.</summary>
    public static SharedWeights Map(string graphPath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(graphPath))!;
        var initializers = OnnxExternalInitializers.Read(graphPath);
        var locations = initializers.Select(static i => i.Location).Distinct(StringComparer.Ordinal).ToArray();
        if (locations.Length != 1)
        {
            throw new InvalidDataException($"'{graphPath}' keeps its weights in {locations.Length} files; one is expected.");
        }

        var weights = new SharedWeights();
        try
        {
            var path = Path.Combine(folder, locations[0]);
            var length = new FileInfo(path).Length;
            weights._file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, 0, MemoryMappedFileAccess.Read);
            weights._view = weights._file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* start = null;
            weights._view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            weights._mapped = start + weights._view.PointerOffset;
            foreach (var initializer in initializers)
            {
                if (initializer.Offset + initializer.Length > length)
                {
                    throw new InvalidDataException($"Initializer '{initializer.Name}' ends after the weights file does.");
                }

                var data = (nint)(weights._mapped + initializer.Offset);
                var value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, initializer.ElementType, initializer.Shape, data, initializer.Length);
                weights._initializers.Add((initializer.Name, value, data));
                weights.Bytes += initializer.Length;
            }

            return weights;
        }
        catch
        {
            weights.Release();
            throw;
        }
    }

    /// <summary>Whether the weights are a read-only mapping of their file (<see cref="Map"/>).</summary>
    public bool IsMapped => _view is not null;

    /// <summary>
    /// Lets the system take back the mapped pages now (Linux <c>madvise(MADV_DONTNEED)</c>): call once the sessions exist.
    /// Safe whenever it is called: a page read afterwards is read from the file again. Does nothing for copied weights or
    /// off Linux.
    /// </summary>
    public void DropResidentPages()
    {
        if (_view is null || !OperatingSystem.IsLinux())
        {
            return;
        }

        // madvise wants a page-aligned start: the mapping's own start, before the view's offset into it.
        var pageStart = (nint)(_mapped - _view.PointerOffset);
        var length = (nuint)(_view.Capacity + _view.PointerOffset);
        _ = madvise(pageStart, length, MadviseDontNeed);
    }

    private const int MadviseDontNeed = 4;

    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static extern int madvise(nint address, nuint length, int advice);

    /// <summary>Makes the sessions created with <paramref name="options"/> use these weights instead of loading their own.</summary>
    public void AddTo(SessionOptions options)
    {
        foreach (var (name, value, _) in _initializers)
        {
            options.AddInitializer(name, value);
        }
    }

    /// <summary>One more holder; pair with <see cref="Release"/>.</summary>
    public void Lease()
    {
        if (Interlocked.Increment(ref _references) <= 1)
        {
            throw new ObjectDisposedException(nameof(SharedWeights));
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0)
        {
            return;
        }

        // The tensors are views of the blocks: dispose them first.
        foreach (var (_, value, _) in _initializers)
        {
            value.Dispose();
        }

        PrePacked.Dispose();
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file?.Dispose();
            return;
        }

        foreach (var (_, _, block) in _initializers)
        {
            NativeMemory.AlignedFree((void*)block);
        }
    }

    private void Add(Microsoft.Win32.SafeHandles.SafeFileHandle file, ExternalInitializer initializer)
    {
        // Aligned native memory: outside the GC heap (never moved, freed when the last session goes) and aligned like
        // ONNX Runtime's own allocations.
        var size = (nuint)Math.Max(initializer.Length, 1);
        var block = NativeMemory.AlignedAlloc(size, Alignment);
        try
        {
            var read = 0L;
            while (read < initializer.Length)
            {
                var chunk = (int)Math.Min(initializer.Length - read, int.MaxValue);
                var n = RandomAccess.Read(file, new Span<byte>((byte*)block + read, chunk), initializer.Offset + read);
                if (n == 0)
                {
                    throw new InvalidDataException($"The weights file ends before initializer '{initializer.Name}' does.");
                }

                read += n;
            }

            var value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, initializer.ElementType, initializer.Shape, (nint)block, initializer.Length);
            _initializers.Add((initializer.Name, value, (nint)block));
        }
        catch
        {
            NativeMemory.AlignedFree(block);
            throw;
        }

        Bytes += initializer.Length;
    }
}
