#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/fuzz_safetensors.cpp (a few small, valid files).

Usage: tools/make_fuzz_seeds_safetensors.py [out_dir]   (default tests/fuzz/corpus/safetensors)
"""
import json
import os
import struct
import sys


def safetensors(entries, metadata=None, pad=True, data_order=None):
    """entries: list of (name, dtype, shape, payload bytes). Returns the file bytes."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    order = data_order or list(range(len(entries)))
    offsets, data = {}, b""
    for i in order:  # data may be laid out in a different order than the header lists it
        offsets[i] = (len(data), len(data) + len(entries[i][3]))
        data += entries[i][3]
    for i, (name, dtype, shape, _) in enumerate(entries):
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": list(offsets[i])}
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "tests", "fuzz", "corpus", "safetensors")
    os.makedirs(out, exist_ok=True)
    f32 = lambda *v: struct.pack("<%df" % len(v), *v)
    bf16 = lambda *v: b"".join(struct.pack("<f", x)[2:] for x in v)
    seeds = {
        "tiny.safetensors": safetensors([("w", "F32", [2, 2], f32(1, 2, 3, 4))]),
        "metadata.safetensors": safetensors(
            [("model.norm.weight", "BF16", [4], bf16(0.5, -1, 2, 0)),
             ("scalar", "F64", [], struct.pack("<d", 3.25)),
             ("empty", "I32", [0, 3], b"")],
            metadata={"format": "pt", "note": "seed"}),
        # MLX-like: unpadded header, data in a different order than the header, 4-bit U32 words
        # with BF16 scales and biases (one group of 64 per row).
        "mlx_u32.safetensors": safetensors(
            [("layer.biases", "BF16", [2, 1], bf16(-0.5, 0.25)),
             ("layer.scales", "BF16", [2, 1], bf16(0.01, -0.02)),
             ("layer.weight", "U32", [2, 8], struct.pack("<16I", *range(0x01234567, 0x01234567 + 16))),
             ("norm.weight", "BF16", [3], bf16(1, 1, 1))],
            metadata={"format": "mlx"}, pad=False, data_order=[2, 0, 3, 1]),
        "dtypes.safetensors": safetensors(
            [(d, d, [2], bytes(range(2 * s))) for d, s in
             [("BOOL", 1), ("U8", 1), ("I8", 1), ("U16", 2), ("I16", 2), ("U32", 4), ("I32", 4),
              ("U64", 8), ("I64", 8), ("F16", 2), ("BF16", 2), ("F32", 4), ("F64", 8),
              ("F8_E4M3", 1), ("F8_E5M2", 1)]]),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
