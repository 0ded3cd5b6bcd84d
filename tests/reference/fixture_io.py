"""Writes safetensors files for the golden fixtures (float32 / float64 tensors plus string metadata)."""

from __future__ import annotations

import json
import os
import struct
from collections import OrderedDict

import torch

_DTYPES = {torch.float32: "F32", torch.float64: "F64"}


def write_safetensors(path: str, tensors, metadata) -> None:
    header = OrderedDict()
    header["__metadata__"] = OrderedDict((str(k), str(v)) for k, v in metadata.items())
    blobs, off = [], 0
    for name, t in tensors.items():
        assert t.dtype in _DTYPES, (name, t.dtype)
        b = t.detach().contiguous().numpy().tobytes()
        header[name] = OrderedDict([("dtype", _DTYPES[t.dtype]), ("shape", [int(s) for s in t.shape]),
                                    ("data_offsets", [off, off + len(b)])])
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
