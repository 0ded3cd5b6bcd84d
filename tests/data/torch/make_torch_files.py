#!/usr/bin/python3
"""Writes the torch.save files that tests/formats/TorchArchiveTest.cpp reads, and expected.json.

Run with Debian's python3-torch 1.13 (/usr/bin/python3 make_torch_files.py) from any directory; the
files land next to this script. Development-time oracle only: the tests read the committed outputs.
expected.json lists, per file, the state dicts that findStateDicts must report (path, then per tensor
name, dtype, shape, strides, storage offset, numel, sum and the first values in row-major order) and
the Opaque types the unpickler must meet (sorted).
"""
import argparse
import collections
import json
import os
import pathlib
import pickle
import sys
import types

import numpy
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
          torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
          torch.bool: "BOOL"}


def fake_lightning_attribute_dict():
    """A stand-in for pytorch_lightning.utilities.parsing.AttributeDict (not installed here): a dict
    subclass under the same module path, so the pickle is the one Lightning writes."""
    names = ["pytorch_lightning", "pytorch_lightning.utilities", "pytorch_lightning.utilities.parsing"]
    for name in names:
        sys.modules.setdefault(name, types.ModuleType(name))
    module = sys.modules[names[-1]]

    class AttributeDict(dict):
        def __getattr__(self, key):
            return self[key]

    AttributeDict.__module__ = names[-1]
    AttributeDict.__qualname__ = "AttributeDict"
    module.AttributeDict = AttributeDict
    return AttributeDict


def state_dict_file():
    torch.manual_seed(0)
    module = torch.nn.Linear(3, 2)
    with torch.no_grad():
        module.weight.copy_(torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        module.bias.copy_(torch.tensor([0.5, -0.5]))
    sd = module.state_dict()  # an OrderedDict with a `_metadata` attribute (BUILD in the pickle)
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    shared = torch.arange(10, dtype=torch.float32) * 0.25
    sd["f16"] = torch.tensor([1.5, -2.0, 0.25, 65504.0], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.0, -3.5, 256.0], dtype=torch.bfloat16)
    sd["f64"] = torch.tensor([[0.1, 0.2], [0.3, 0.4]], dtype=torch.float64)
    sd["i64"] = torch.tensor([-(2 ** 40), -1, 0, 7, 2 ** 40], dtype=torch.int64)
    sd["i32"] = torch.tensor([-5, 5], dtype=torch.int32)
    sd["u8"] = torch.tensor([0, 255, 128], dtype=torch.uint8)
    sd["flags"] = torch.tensor([True, False, True, True])
    sd["transposed"] = base.t()                  # strides (1, 4): non-contiguous
    sd["column"] = base[:, 1]                    # offset 1, stride 4
    sd["shared_lo"] = shared[:4]                 # two views of one storage
    sd["shared_hi"] = shared[4:].view(3, 2)
    sd["scalar"] = torch.tensor(42.5)            # 0-d
    sd["empty"] = torch.zeros(0, 3)
    sd["param"] = torch.nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))  # _rebuild_parameter
    return sd


def lightning_file():
    AttributeDict = fake_lightning_attribute_dict()
    torch.manual_seed(1)
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.ones(1, 2)).sum().backward()
    opt.step()
    state = collections.OrderedDict()
    for k, v in model.state_dict().items():
        state["teacher.backbone." + k] = v.clone()
        state["model.backbone." + k] = v
    return {
        "epoch": 3,
        "global_step": 30,
        "pytorch-lightning_version": "1.9.0",
        "state_dict": state,
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 4, "completed": 3}}}},
        "callbacks": {"ModelCheckpoint{'monitor': None}": {"best_model_score": None, "best_model_path": "/tmp/x.ckpt",
                                                           "dirpath": "/tmp", "kth_value": torch.tensor(float("inf"))}},
        "optimizer_states": [opt.state_dict()],
        "lr_schedulers": [{"last_epoch": 3, "_step_count": 4, "base_lrs": [1e-3], "_last_lr": [9e-4]}],
        "hparams_name": "kwargs",
        "hyper_parameters": AttributeDict(arch="vit_small", patch_size=14, lr=1e-3, betas=(0.9, 0.999),
                                          crops={"global": 2, "local": 0}, use_fp16=True, seed=None,
                                          # inert objects that real hyper-parameters hold
                                          threshold=numpy.float64(0.25), grid=numpy.arange(3),
                                          device=torch.device("cpu"), out_dir=pathlib.PosixPath("/tmp/out"),
                                          precision=torch.float16),
    }


def dino_file():
    torch.manual_seed(2)
    student = collections.OrderedDict()
    teacher = collections.OrderedDict()
    for name, shape in [("cls_token", (1, 1, 4)), ("pos_embed", (1, 5, 4)), ("patch_embed.proj.weight", (4, 3, 2, 2)),
                        ("norm.weight", (4,))]:
        t = torch.arange(torch.Size(shape).numel(), dtype=torch.float32).reshape(shape) / 8
        student["module.backbone." + name] = t
        teacher["backbone." + name] = t + 1
    student["module.head.last_layer.weight_g"] = torch.ones(8, 1)
    args = argparse.Namespace(arch="vit_small", patch_size=16, out_dim=65536, norm_last_layer=True,
                              momentum_teacher=0.996, use_fp16=False, lr=0.0005, epochs=100, data_path="/data/in1k",
                              output_dir=".", seed=0, local_crops_scale=(0.05, 0.4), dist_url="env://")
    return {"student": student, "teacher": teacher, "optimizer": {"state": {}, "param_groups": []}, "epoch": 1,
            "args": args, "dino_loss": {"center": torch.full((1, 8), 0.125)}}


def plain_dict_file():
    return {"w": torch.tensor([[1.0, -1.0]]), "b": torch.tensor([3.0])}


# ---- expected values (the same walk as findStateDicts) ---------------------------------------------

def entries_of(value):
    if type(value) in (dict, collections.OrderedDict):
        return list(value.items()), True
    if isinstance(value, argparse.Namespace):
        return list(vars(value).items()), False
    if isinstance(value, dict):  # dict subclasses are Opaque for the reader
        return list(value.items()), False
    return None, False


def describe(name, t):
    flat = t.detach().reshape(-1).to(torch.float64)
    return {"name": name, "dtype": DTYPES[t.dtype], "shape": list(t.shape), "strides": list(t.stride()),
            "offset": t.storage_offset(), "numel": t.numel(), "sum": float(flat.sum()) if t.numel() else 0.0,
            "first": [float(x) for x in flat[:6]]}


def state_dicts(root):
    found, seen, todo = [], set(), [(root, "", 0)]
    while todo:
        value, path, depth = todo.pop()
        entries, is_dict = entries_of(value)
        if entries is None or id(value) in seen:
            continue
        seen.add(id(value))
        if is_dict and entries and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in entries):
            found.append({"path": path, "tensors": [describe(k, v) for k, v in entries]})
            continue
        if depth >= 4:
            continue
        for k, v in reversed(entries):
            if isinstance(k, str):
                todo.append((v, k if not path else path + "." + k, depth + 1))
    return found


def main():
    files = {
        "state_dict.pth": (state_dict_file(), {}, ["torch zip (archive 'state_dict')"], []),
        "plain_dict.pth": (plain_dict_file(), {}, ["torch zip (archive 'plain_dict')"], []),
        "lightning.ckpt": (lightning_file(), {}, ["torch zip (archive 'lightning')"],
                           ["numpy.core.multiarray.scalar", "numpy.dtype", "numpy.ndarray", "pathlib.PosixPath",
                            "pytorch_lightning.utilities.parsing.AttributeDict", "torch.device"]),
        "dino_v1.pth": (dino_file(), {}, ["torch zip (archive 'dino_v1')"], ["argparse.Namespace"]),
        "protocol4.pth": (state_dict_file(), {"pickle_protocol": 4}, ["torch zip (archive 'protocol4')"], []),
        "legacy.pth": (state_dict_file(), {"_use_new_zipfile_serialization": False}, ["torch legacy"], []),
        "legacy_dino.pth": (dino_file(), {"_use_new_zipfile_serialization": False}, ["torch legacy"],
                            ["argparse.Namespace"]),
    }
    expected = {}
    for name, (obj, kwargs, (fmt,), opaque) in files.items():
        path = os.path.join(HERE, name)
        torch.save(obj, path, **kwargs)
        reloaded = torch.load(path)  # the oracle: what torch itself reads back
        expected[name] = {"format": fmt, "opaque": opaque, "state_dicts": state_dicts(reloaded)}
        assert os.path.getsize(path) < 100_000, name
    # Plain pickles of every protocol for PickleTest (no tensors).
    plain = {"none": None, "true": True, "false": False, "int": -123456789, "big": 2 ** 70, "neg_big": -(2 ** 64),
             "int64_max": 2 ** 63 - 1, "int64_min": -(2 ** 63), "float": -1.25e-3, "text": "h\u00e9llo \u20ac\n\\",
             "bytes": b"\x00\xffab", "empty_bytes": b"", "list": [1, [2, 3], (4,)], "tuple": (1, 2, 3, 4),
             "set": {7}, "frozenset": frozenset({8}), "nested": {"a": {"b": {"c": [None]}}}, 1: "int key",
             "shared": None}
    shared = [5, 6]
    plain["shared"] = (shared, shared)
    for protocol in range(6):
        with open(os.path.join(HERE, "plain_p%d.pkl" % protocol), "wb") as f:
            pickle.dump(plain, f, protocol=protocol)
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
