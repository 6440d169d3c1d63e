#!/usr/bin/env python3
"""Writes the small GGUF seed files of the fuzz corpus (tests/fuzz/corpus/gguf/).

Each seed is a valid GGUF of a few hundred bytes that reaches a different part of the reader:
every value type, nested arrays, alignments 1/32/64, version 2, block-quantized tensors, a
vocabulary-only file without padding. The fuzzer mutates them into the hostile cases.

    python3 tools/make_fuzz_seeds_gguf.py [OUT_DIR]
"""
import os
import struct
import sys

U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR_FORMAT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
                 BOOL: "<B", U64: "<Q", I64: "<q", F64: "<d"}
# ggml type id -> (block size, bytes per block)
GGML = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18), "Q8_0": (8, 32, 34),
        "Q4_K": (12, 256, 144), "Q6_K": (14, 256, 210), "I8": (24, 1, 1), "BF16": (30, 1, 2)}


def gguf_string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def payload(vtype, value):
    """Encodes a value without its type id. Arrays are (elem_type, [values])."""
    if vtype == STRING:
        return gguf_string(value)
    if vtype == ARRAY:
        elem_type, items = value
        return struct.pack("<IQ", elem_type, len(items)) + b"".join(payload(elem_type, v) for v in items)
    return struct.pack(SCALAR_FORMAT[vtype], value)


def gguf_file(kvs, tensors, alignment=32, version=3, pad=True):
    """kvs: [(key, type, value)]; tensors: [(name, ne, ggml type name)] with deterministic data."""
    data = b""
    infos = b""
    for name, ne, tname in tensors:
        type_id, block, type_size = GGML[tname]
        n = 1
        for d in ne:
            n *= d
        data += b"\0" * (-len(data) % alignment)
        infos += gguf_string(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
        infos += struct.pack("<IQ", type_id, len(data))
        data += bytes((len(data) + k) % 251 for k in range(n // block * type_size))
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, vtype, value in kvs:
        out += gguf_string(key) + struct.pack("<I", vtype) + payload(vtype, value)
    out += infos
    if pad:
        out += b"\0" * (-len(out) % alignment)
    return out + data


def seeds():
    gemma_keys = [
        ("general.architecture", STRING, "gemma3"),
        ("gemma3.block_count", U32, 2),
        ("gemma3.embedding_length", U32, 256),
        ("gemma3.attention.sliding_window", U32, 8),
        ("gemma3.attention.sliding_window_pattern", ARRAY, (BOOL, [1, 0])),
        ("gemma3.attention.layer_norm_rms_epsilon", F32, 1e-6),
        ("tokenizer.ggml.tokens", ARRAY, (STRING, ["<pad>", "<eos>", "<bos>", "\u2581a", "b"])),
        ("tokenizer.ggml.scores", ARRAY, (F32, [0.0, -1.0, -2.0, -3.0, -4.0])),
        ("tokenizer.ggml.token_type", ARRAY, (I32, [3, 3, 3, 1, 1])),
    ]
    every_type = [
        ("general.alignment", U32, 64),
        ("u8", U8, 255), ("i8", I8, -1), ("u16", U16, 65535), ("i16", I16, -2),
        ("u32", U32, 7), ("i32", I32, -7), ("f32", F32, 0.5), ("bool", BOOL, 1),
        ("str", STRING, "text"), ("u64", U64, 2**64 - 1), ("i64", I64, -(2**63)), ("f64", F64, 1e300),
        ("a.f64", ARRAY, (F64, [1.5, -2.5])), ("a.u16", ARRAY, (U16, [1, 2])),
        ("nested", ARRAY, (ARRAY, [(STRING, ["x", "yy"]), (ARRAY, [(U8, [1, 2])]), (STRING, [])])),
    ]
    return {
        "minimal.gguf": gguf_file([], []),
        "tiny_model.gguf": gguf_file(gemma_keys, [("output_norm.weight", [8], "F32"),
                                                  ("blk.0.attn_q.weight", [32, 2], "Q8_0"),
                                                  ("token_embd.weight", [256, 1], "Q4_K")]),
        "every_type_align64.gguf": gguf_file(every_type, [("w", [2, 2, 2, 2], "F16")], alignment=64),
        "align1.gguf": gguf_file([("general.alignment", U32, 1)],
                                 [("a", [3], "F16"), ("b", [5], "I8"), ("c", [32], "Q4_0")], alignment=1),
        "v2.gguf": gguf_file([("general.name", STRING, "v2")], [("t", [2, 3], "BF16")], version=2),
        "vocab_only_nopad.gguf": gguf_file(gemma_keys[:1] + gemma_keys[6:7], [], pad=False),
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "fuzz", "corpus", "gguf")
    os.makedirs(out_dir, exist_ok=True)
    for name, content in seeds().items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(content)
        print(f"{name}: {len(content)} bytes")


if __name__ == "__main__":
    main()
