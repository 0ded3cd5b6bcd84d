#!/usr/bin/env python3
"""Golden values for two full NeCo optimisation steps (METHOD.md §2.4-2.6) on fixed tensors, float64,
from the independent Python step of neco_step_reference.py.

    /usr/bin/python3 tests/reference/make_neco_step_fixtures.py

Writes tests/data/train/neco_step_golden.safetensors, read by tests/core/train/NecoStepParityTest.cpp.

Configuration (metadata keys of the same names): a DINOv2-style ViT with the tiny demo model's layout
(patch 14, LayerScale, mask token, 16 x 16 position grid interpolated with the +0.1 offset, GELU MLP)
but embed_dim 16, 2 heads, depth 2 -- ViTConfig::tiny() itself (D 192, 4 blocks, 1.94 M parameters)
would make every stored copy of the weights 7.8 MB; head 16 -> 64 -> 64 -> 32; batch 2; two global
crops of 56 px (4 x 4 tokens) and two local crops of 28 px (2 x 2); in-batch references (no queue);
student drop-path 0; steepness 100 / 100, bitonic, Cauchy; a 4-step schedule with lr 5e-3 / 2e-2,
weight decay 0.04 -> 0.5 and EMA momentum 0.9 -> 1 so that the schedule, the weight decay and the
EMA lag each move the weights far above the tolerance.

Contents (F32 values are exact inputs; the step runs in float64):
  crop<v>              (B, 3, S, S) F32, the normalised crops, globals first
  in_global, in_crop   (B, G, V, 4) / (B, V, G, 4) F64, intersection boxes in crop pixels
  student.init.<name>, teacher.init.<name>   F32 initial weights (C++ parameter names); the teacher's
                       backbone is the student's plus a small perturbation (the reference starts both
                       from the same backbone; a different one makes the first EMA update visible)
  student.step<k>.<name>, teacher.step<k>.<name>   F32 (weights after step k) - (initial weights),
                       k = 1, 2; the changes are below 0.25 (the teacher head moves most), so float32
                       keeps them to ~1.5e-8
  loss, grad_norm      (2,) F64 per step
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import OrderedDict

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_reference as vr  # noqa: E402
from fixture_io import write_safetensors  # noqa: E402
from make_neco_loss_fixtures import relative  # noqa: E402
from neco_step_reference import NecoStepReference, StepSettings, head_shapes, hyper_parameters  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "train", "neco_step_golden.safetensors")

B, GLOBAL, LOCAL, IMAGE_W, IMAGE_H = 2, 56, 28, 200, 160
SIZES = [GLOBAL, GLOBAL, LOCAL, LOCAL]
# crops (left, top, width, height) in image pixels per image: 2 global, then 2 local; all overlap the globals
CROPS = [
    [(10, 5, 150, 140), (40, 20, 155, 130), (60, 40, 50, 45), (100, 70, 40, 52)],
    [(0, 0, 200, 160), (30, 10, 120, 120), (20, 30, 60, 60), (90, 50, 55, 45)],
]
CFG = vr.ViTConfig(family="dinov2", patch_size=14, embed_dim=16, depth=2, num_heads=2, num_registers=0,
                   layer_scale=True, mlp="gelu", pos_grid=16, has_mask_token=True)
SETTINGS = StepSettings(head_hidden=64, head_out=32, roi=7, student_steepness=100.0, teacher_steepness=100.0,
                        network="bitonic", log_floor=1e-12, student_drop_path=0.0, use_queue=False,
                        total_steps=4, lr_backbone=5e-3, lr_head=2e-2, final_lr=0.0, wd_start=0.04, wd_end=0.5,
                        momentum_start=0.9, seed=400)
STEPS = 2


def batch(gen: torch.Generator):
    """Smooth random images, each crop resized bilinearly to its side; boxes as METHOD.md §2.2 step 8."""
    G, V = 2, len(SIZES)
    crops = [[] for _ in range(V)]
    in_global = torch.zeros(B, G, V, 4, dtype=torch.float64)
    in_crop = torch.zeros(B, V, G, 4, dtype=torch.float64)
    for b in range(B):
        image = F.interpolate(torch.randn(1, 3, 12, 15, generator=gen, dtype=torch.float64), size=(IMAGE_H, IMAGE_W),
                              mode="bilinear", align_corners=False)
        for v in range(V):
            left, top, w, h = CROPS[b][v]
            region = image[:, :, top:top + h, left:left + w]
            crops[v].append(F.interpolate(region, size=(SIZES[v], SIZES[v]), mode="bilinear", align_corners=False))
            for g in range(G):
                cg, cv = CROPS[b][g], CROPS[b][v]
                x1, y1 = max(cg[0], cv[0]), max(cg[1], cv[1])
                x2, y2 = min(cg[0] + cg[2], cv[0] + cv[2]), min(cg[1] + cg[3], cv[1] + cv[3])
                assert x2 > x1 and y2 > y1
                in_global[b, g, v] = torch.tensor(relative((x1, y1, x2, y2), cg, SIZES[g]), dtype=torch.float64)
                in_crop[b, v, g] = torch.tensor(relative((x1, y1, x2, y2), cv, SIZES[v]), dtype=torch.float64)
    return [torch.cat(c).float() for c in crops], in_global, in_crop


def head_weights(gen: torch.Generator) -> "OrderedDict[str, torch.Tensor]":
    out = OrderedDict()
    for name, shape in head_shapes(CFG.embed_dim, SETTINGS).items():
        if name.endswith("bias"):
            out[name] = 0.1 * torch.randn(shape, generator=gen)
        else:
            out[name] = torch.randn(shape, generator=gen) / shape[1] ** 0.5
    return out


def initial_weights(gen: torch.Generator):
    torch.manual_seed(20261201)  # vit_reference.random_canonical_weights draws from the global RNG
    backbone = vr.random_canonical_weights(CFG)
    student = OrderedDict(("backbone." + k, v) for k, v in backbone.items())
    teacher = OrderedDict(("backbone." + k, (v + 0.02 * torch.randn(v.shape, generator=gen)).float())
                          for k, v in backbone.items())
    student.update(head_weights(gen))
    teacher.update(head_weights(gen))  # independent heads, as the reference
    return student, teacher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=OUT)
    parser.add_argument("--float64-changes", action="store_true",
                        help="store the post-step changes in float64 (2x the size; measures the agreement below "
                             "float32's resolution)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(20261201)
    crops, in_global, in_crop = batch(gen)
    student0, teacher0 = initial_weights(gen)
    ref = NecoStepReference(CFG, SETTINGS, student0, teacher0, dtype=torch.float64)
    tensors: "OrderedDict[str, torch.Tensor]" = OrderedDict()
    for v, c in enumerate(crops):
        tensors[f"crop{v}"] = c
    tensors["in_global"] = in_global
    tensors["in_crop"] = in_crop
    for k, t in student0.items():
        tensors["student.init." + k] = t
    for k, t in teacher0.items():
        tensors["teacher.init." + k] = t
    losses, norms = [], []
    crops64 = [c.double() for c in crops]
    for k in range(1, STEPS + 1):
        r = ref.step(crops64, in_global, in_crop)
        assert not r["skipped"]
        losses.append(r["loss"])
        norms.append(r["grad_norm"])
        print(f"step {k}: loss {r['loss']:.12f}, grad norm {r['grad_norm']:.10f}, hyper {r['hyper']}")
        for prefix, now, init in (("student", ref.student, student0), ("teacher", ref.teacher, teacher0)):
            delta_max = 0.0
            for name, p in now.items():
                d = p.detach() - init[name].double()
                delta_max = max(delta_max, float(d.abs().max()))
                tensors[f"{prefix}.step{k}.{name}"] = d if args.float64_changes else d.float()
            print(f"  {prefix}: largest change {delta_max:.3e}")
    tensors["loss"] = torch.tensor(losses, dtype=torch.float64)
    tensors["grad_norm"] = torch.tensor(norms, dtype=torch.float64)
    s = SETTINGS
    meta = {"generator": "tests/reference/make_neco_step_fixtures.py", "torch": torch.__version__,
            "embed_dim": CFG.embed_dim, "depth": CFG.depth, "num_heads": CFG.num_heads, "pos_grid": CFG.pos_grid,
            "patch_size": CFG.patch_size, "head_hidden": s.head_hidden, "head_out": s.head_out, "batch": B,
            "global_size": GLOBAL, "local_size": LOCAL, "steps": STEPS, "total_steps": s.total_steps,
            "lr_backbone": repr(s.lr_backbone), "lr_head": repr(s.lr_head), "wd_start": repr(s.wd_start),
            "wd_end": repr(s.wd_end), "momentum_start": repr(s.momentum_start), "seed": s.seed,
            "steepness": repr(s.student_steepness), "hyper": repr([hyper_parameters(s, t) for t in range(STEPS)])}
    write_safetensors(args.out, tensors, meta)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
