#!/usr/bin/python3
"""Writes the malformed torch-checkpoint corpus under malformed/torch/ (RELIABILITY.md, promise 3).

Run with Debian's python3-torch 1.13: /usr/bin/python3 make_torch_corpus.py (from any directory).
Each file is a small real torch.save archive with one defect; tests/formats/MalformedCorpusTest.cpp
(NECO_TEST(MalformedCorpus, pickleAndZip)) lists the typed error each must give. The two malicious
pickles would run `touch /tmp/neco-pwned-by-pickle` if anything executed them; the test checks that
the marker never appears.
"""
import io
import os
import struct
import zipfile

import torch

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch")
MARKER = "/tmp/neco-pwned-by-pickle"


class CallsOsSystem:
    def __reduce__(self):
        return (os.system, ("touch " + MARKER,))


class CallsEval:
    def __reduce__(self):
        return (eval, ("__import__('os').system('touch %s')" % MARKER,))


def saved(obj, name="archive", **kwargs):
    """torch.save(obj) into memory, with the archive folder named `name`."""
    buffer = io.BytesIO()
    buffer.name = name  # torch names the zip's root folder after the file
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


def members(data):
    z = zipfile.ZipFile(io.BytesIO(data))
    return [[i.filename, z.read(i.filename), zipfile.ZIP_STORED] for i in z.infolist()]


def rezip(items):
    """Writes (name, data, method) members with Python's zipfile: stored unless asked otherwise."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data, method in items:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, data, compresslevel=9 if method == zipfile.ZIP_DEFLATED else None)
    return out.getvalue()


def with_pickle(program):
    """A torch archive whose data.pkl is `program` (no storages)."""
    return rezip([["archive/data.pkl", program, zipfile.ZIP_STORED], ["archive/version", b"3\n", zipfile.ZIP_STORED]])


def data_offset(archive, name):
    z = zipfile.ZipFile(io.BytesIO(archive))
    info = z.getinfo(name)
    name_length, extra_length = struct.unpack("<HH", archive[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + name_length + extra_length


def small_state_dict():
    return {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.tensor([1.0, 2.0])}


def main():
    os.makedirs(HERE, exist_ok=True)
    files = {}
    files["os-system.pth"] = saved({"w": torch.ones(2), "payload": CallsOsSystem()})
    files["builtins-eval.pth"] = saved({"w": torch.ones(2), "payload": CallsEval()})
    files["getattr-gadget.pth"] = saved({"method": getattr})  # a global that is a call gadget

    # A zip bomb: a 50 MB storage of zeros deflated to a few kilobytes.
    bomb = members(saved({"w": torch.zeros(12_500_000)}))
    for item in bomb:
        if "/data/" in item[0]:
            item[2] = zipfile.ZIP_DEFLATED
    files["zip-bomb-deflated.pth"] = rezip(bomb)

    short = members(saved(small_state_dict()))
    for item in short:
        if item[0].endswith("/data/0"):
            item[1] = item[1][:-4]
    files["storage-size-mismatch.pth"] = rezip(short)

    missing = [m for m in members(saved(small_state_dict())) if not m[0].endswith("/data/1")]
    files["storage-record-missing.pth"] = rezip(missing)

    view = members(saved(small_state_dict()))
    for item in view:
        if item[0].endswith("data.pkl"):
            assert item[1].count(b"K\x02K\x03\x86") == 1
            item[1] = item[1].replace(b"K\x02K\x03\x86", b"K\x04K\x03\x86")  # size (2, 3) -> (4, 3)
    files["view-exceeds-storage.pth"] = rezip(view)

    files["dotdot-entry-name.pth"] = rezip(members(saved(small_state_dict())) + [["../evil.sh", b"#!/bin/sh\n", 0]])
    files["absolute-entry-name.pth"] = rezip(members(saved(small_state_dict())) + [["/etc/cron.d/evil", b"x", 0]])
    good = members(saved(small_state_dict()))
    files["duplicate-entry-name.pth"] = rezip(good + [good[1]])

    whole = saved(small_state_dict())
    files["truncated-half.pth"] = whole[: len(whole) // 2]
    legacy = saved(small_state_dict(), _use_new_zipfile_serialization=False)
    files["legacy-truncated.pth"] = legacy[:-10]

    corrupt = bytearray(rezip(members(saved(small_state_dict()))))
    corrupt[data_offset(bytes(corrupt), "archive/data.pkl") + 40] ^= 0x01
    files["bad-crc-pickle.pth"] = bytes(corrupt)

    files["unknown-opcode.pth"] = with_pickle(b"\x80\x02}\xff.")
    files["ext1-opcode.pth"] = with_pickle(b"\x80\x02\x82\x01.")
    files["deep-nesting.pth"] = with_pickle(b"\x80\x02" + b"]" * 100000 + b"a" * 99999 + b".")
    files["huge-binunicode-length.pth"] = with_pickle(b"\x80\x02X" + struct.pack("<I", 0xFFFFFFF0) + b"abc.")
    files["memo-self-reference.pth"] = with_pickle(b"\x80\x02]q\x00h\x00a.")
    files["pickle-without-stop.pth"] = with_pickle(b"\x80\x02}q\x00(X\x01\x00\x00\x00a")
    files["not-a-checkpoint.pth"] = b"this is not a checkpoint\n" * 4

    script = io.BytesIO()
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), script)
    files["torchscript.pt"] = script.getvalue()

    for name, data in files.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        print("%-32s %7d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
