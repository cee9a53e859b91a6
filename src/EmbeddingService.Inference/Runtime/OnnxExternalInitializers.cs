using System.Text;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EmbeddingService.Inference.Runtime;

/// <summary>One initializer whose bytes live in an external data file beside the ONNX graph.</summary>
/// <param name="Name">The initializer's name in the graph.</param>
/// <param name="ElementType">ONNX's <c>TensorProto.DataType</c>, which ONNX Runtime's element types mirror.</param>
/// <param name="Shape">The tensor's dimensions.</param>
/// <param name="Location">The data file, relative to the graph file's folder.</param>
/// <param name="Offset">Where the bytes start in the data file.</param>
/// <param name="Length">How many bytes the tensor has.</param>
internal sealed record ExternalInitializer(string Name, TensorElementType ElementType, long[] Shape, string Location, long Offset, long Length);

/// <summary>
/// Lists the initializers an ONNX graph file keeps in external data files, by reading the few protobuf fields that say
/// where they are: <c>ModelProto.graph</c> (7) → <c>GraphProto.initializer</c> (5) → <c>TensorProto</c> <c>dims</c> (1),
/// <c>data_type</c> (2), <c>name</c> (8), <c>external_data</c> (13, <c>location</c>/<c>offset</c>/<c>length</c>) and
/// <c>data_location</c> (14). Everything else is skipped by wire type, so the rest of the schema is not needed (and no
/// ONNX protobuf package is). Only graphs written by ONNX Runtime's optimizer are read here (a few tens of KB: the weights
/// are in the data file).
/// </summary>
internal static class OnnxExternalInitializers
{
    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;
    private const int DataLocationExternal = 1;

    /// <exception cref="InvalidDataException">The file is not a well-formed ONNX model.</exception>
    public static IReadOnlyList<ExternalInitializer> Read(string graphPath)
    {
        var model = File.ReadAllBytes(graphPath);
        var result = new List<ExternalInitializer>();
        try
        {
            var reader = new WireReader(model);
            while (reader.Next(out var field, out var wire))
            {
                if (field == 7 && wire == WireLengthDelimited)
                {
                    ReadGraph(new WireReader(reader.ReadBytes()), result);
                }
                else
                {
                    reader.Skip(wire);
                }
            }
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException or FormatException)
        {
            throw new InvalidDataException($"'{graphPath}' is not a well-formed ONNX model.", ex);
        }

        return result;
    }

    private static void ReadGraph(WireReader graph, List<ExternalInitializer> result)
    {
        while (graph.Next(out var field, out var wire))
        {
            if (field == 5 && wire == WireLengthDelimited)
            {
                if (ReadTensor(new WireReader(graph.ReadBytes())) is { } initializer)
                {
                    result.Add(initializer);
                }
            }
            else
            {
                graph.Skip(wire);
            }
        }
    }

    private static ExternalInitializer? ReadTensor(WireReader tensor)
    {
        var shape = new List<long>();
        var elementType = 0;
        var name = "";
        var dataLocation = 0;
        string? location = null;
        long offset = 0;
        long length = -1;
        while (tensor.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, WireVarint):
                    shape.Add((long)tensor.ReadVarint());
                    break;
                case (1, WireLengthDelimited):
                    var packed = new WireReader(tensor.ReadBytes());
                    while (!packed.AtEnd)
                    {
                        shape.Add((long)packed.ReadVarint());
                    }

                    break;
                case (2, WireVarint):
                    elementType = (int)tensor.ReadVarint();
                    break;
                case (8, WireLengthDelimited):
                    name = Encoding.UTF8.GetString(tensor.ReadBytes());
                    break;
                case (13, WireLengthDelimited):
                    var (key, value) = ReadStringPair(new WireReader(tensor.ReadBytes()));
                    switch (key)
                    {
                        case "location": location = value; break;
                        case "offset": offset = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                        case "length": length = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                    }

                    break;
                case (14, WireVarint):
                    dataLocation = (int)tensor.ReadVarint();
                    break;
                default:
                    tensor.Skip(wire);
                    break;
            }
        }

        if (dataLocation != DataLocationExternal || location is null)
        {
            return null;
        }

        // Only what ONNX Runtime itself writes is accepted: a plain file name beside the graph, and an extent that
        // holds exactly the tensor.
        var type = (TensorElementType)elementType;
        var elements = shape.Aggregate(1L, static (product, dimension) => dimension < 0 ? -1 : checked(product * dimension));
        if (location != Path.GetFileName(location) || location is "" or "." or ".." || offset < 0 || elements < 0
            || ElementSize(type) is not { } size || length != checked(elements * size))
        {
            throw new InvalidDataException($"Initializer '{name}' has an external extent ONNX Runtime would not write: {location} at {offset}, {length} bytes for {type} {string.Join('x', shape)}.");
        }

        return new ExternalInitializer(name, type, shape.ToArray(), location, offset, length);
    }

    /// <summary>Bytes per element of the fixed-size tensor types; null for strings and sub-byte types.</summary>
    private static int? ElementSize(TensorElementType type) => type switch
    {
        TensorElementType.Float or TensorElementType.Int32 or TensorElementType.UInt32 => 4,
        TensorElementType.Int64 or TensorElementType.UInt64 or TensorElementType.Double => 8,
        TensorElementType.Float16 or TensorElementType.BFloat16 or TensorElementType.Int16 or TensorElementType.UInt16 => 2,
        TensorElementType.Int8 or TensorElementType.UInt8 or TensorElementType.Bool => 1,
        _ => null,
    };

    /// <summary>A <c>StringStringEntryProto</c>: key (1), value (2).</summary>
    private static (string Key, string Value) ReadStringPair(WireReader entry)
    {
        string key = "", value = "";
        while (entry.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, WireLengthDelimited): key = Encoding.UTF8.GetString(entry.ReadBytes()); break;
                case (2, WireLengthDelimited): value = Encoding.UTF8.GetString(entry.ReadBytes()); break;
                default: entry.Skip(wire); break;
            }
        }

        return (key, value);
    }

    /// <summary>Protocol Buffers wire format over a byte array: tags, varints and length-delimited fields.</summary>
    private ref struct WireReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool AtEnd => _position >= _data.Length;

        public bool Next(out int field, out int wire)
        {
            if (AtEnd)
            {
                field = wire = 0;
                return false;
            }

            var tag = ReadVarint();
            field = checked((int)(tag >> 3));
            wire = (int)(tag & 7);
            return true;
        }

        public ulong ReadVarint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = _data[_position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw new FormatException("A varint is longer than 10 bytes.");
        }

        public ReadOnlySpan<byte> ReadBytes()
        {
            var length = checked((int)ReadVarint());
            var bytes = _data.Slice(_position, length);
            _position += length;
            return bytes;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case WireVarint: ReadVarint(); break;
                case WireFixed64: _position = checked(_position + 8); break;
                case WireLengthDelimited: ReadBytes(); break;
                case WireFixed32: _position = checked(_position + 4); break;
                default: throw new FormatException($"Unsupported protobuf wire type {wire}.");
            }

            if (_position > _data.Length)
            {
                throw new FormatException("A field runs past the end of its message.");
            }
        }
    }
}
