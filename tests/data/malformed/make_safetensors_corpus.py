#!/usr/bin/python3
"""Writes the safetensors part of the malformed-input corpus (RELIABILITY.md, promise 3).

Each file under safetensors/ is named for its one defect; tests/formats/MalformedCorpusTest.cpp
expects a typed error for each. The same files plus a few valid ones seed the fuzzer
(tests/formats/fuzz/corpus/safetensors). Standard library only, deterministic output:

    /usr/bin/python3 tests/data/malformed/make_safetensors_corpus.py
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MALFORMED_DIR = os.path.join(HERE, "safetensors")
SEED_DIR = os.path.join(HERE, "..", "..", "formats", "fuzz", "corpus", "safetensors")


def header_bytes(header):
    """JSON as the reference writer emits it: compact, padded with spaces to a multiple of 8."""
    text = header if isinstance(header, str) else json.dumps(header, separators=(",", ":"))
    raw = text.encode("utf-8")
    return raw + b" " * ((8 - len(raw) % 8) % 8)


def container(header, data=b"", length=None):
    raw = header_bytes(header)
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


def tensor(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def valid_small():
    data = struct.pack("<6f", 0, 1, 2, 3, 4, 5)
    return container({"weight": tensor("F32", [2, 3], 0, 24)}, data)


MALFORMED = {
    "zero-byte-file": b"",
    "7-byte-file": b"\x08\x00\x00\x00\x00\x00\x00",
    "truncated-header": valid_small()[:20],
    "header-claims-1e12-bytes": struct.pack("<Q", 10**12) + b'{"a":{}}',
    "header-length-past-eof": container({"__metadata__": {}}, length=1000),
    "not-json": container("{this is not json}"),
    "json-array": container('[{"dtype":"F32","shape":[1],"data_offsets":[0,4]}]', b"\0" * 4),
    "invalid-utf8-header": struct.pack("<Q", 8) + b'{"\xff\xfe":1}',
    "overflowing-shape-product": container({"t": tensor("F32", [2**32, 2**32, 2**32], 0, 0)}),
    "negative-shape": container('{"t":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,16]}}', b"\0" * 16),
    "overlapping-offsets": container({"a": tensor("F32", [2], 0, 8), "b": tensor("F32", [2], 4, 12)}, b"\0" * 12),
    "non-contiguous-hole": container({"a": tensor("F32", [1], 0, 4), "b": tensor("F32", [1], 8, 12)}, b"\0" * 12),
    "trailing-bytes": valid_small() + b"\0" * 16,
    # json.dumps cannot repeat a key, so this header is written by hand.
    "duplicate-keys": container('{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                                '"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\1"),
    "unknown-dtype": container({"t": tensor("F17", [2], 0, 8)}, b"\0" * 8),
    "unsupported-dtype-f8": container({"t": tensor("F8_E4M3", [4], 0, 4)}, b"\0" * 4),
    "end-before-begin": container({"a": tensor("F32", [2], 0, 8), "b": tensor("F32", [1], 8, 4)}, b"\0" * 12),
    "size-mismatch": container({"blocks.0.attn.qkv.weight": tensor("F32", [4, 8], 0, 96)}, b"\0" * 96),
    "metadata-not-strings": container({"__metadata__": {"epoch": 3}, "t": tensor("U8", [1], 0, 1)}, b"\0"),
}

VALID_SEEDS = {
    "valid-empty": container({}),
    "valid-small": valid_small(),
    "valid-metadata-and-dtypes": container(
        {"__metadata__": {"format": "pt", "note": "z\u00fcrich"},
         "a.bool": tensor("BOOL", [3], 0, 3), "b.i64": tensor("I64", [1], 3, 11),
         "c.bf16": tensor("BF16", [2, 1], 11, 15), "d.f64": tensor("F64", [], 15, 23)},
        bytes(range(23))),
    "valid-empty-tensors": container({"z": tensor("F16", [0, 4], 0, 0), "y": tensor("I8", [2], 0, 2)}, b"\7\7"),
}


def write_all(directory, files, suffix=".safetensors"):
    os.makedirs(directory, exist_ok=True)
    for name, data in sorted(files.items()):
        with open(os.path.join(directory, name + suffix), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write_all(MALFORMED_DIR, MALFORMED)
    write_all(SEED_DIR, dict(MALFORMED, **VALID_SEEDS), suffix="")
    print(f"{len(MALFORMED)} malformed files in {MALFORMED_DIR}, "
          f"{len(MALFORMED) + len(VALID_SEEDS)} fuzz seeds in {os.path.normpath(SEED_DIR)}")
