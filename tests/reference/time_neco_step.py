#!/usr/bin/env python3
"""Times the Python reference NeCo step (neco_step_reference.py: the reference's order of operations,
the published dense diffsort formulation for the sort, torchvision's roi_align, torch.optim.AdamW) in
the demo run's configuration, so that `neco_bench_train_step --python` can read core's step against it
on the same machine. The defaults are configs/demo.yml's: tiny ViT (D 192, 4 blocks, 3 heads, patch 14,
16 x 16 position grid), head 192 -> 256 -> 256 -> 64, crops 112 / 56 px, 2 global + 4 local, batch 8,
queue 2048, bitonic Cauchy sorts at steepness 100, student drop-path 0.1, float32.

    /usr/bin/python3 tests/reference/time_neco_step.py [--steps 5] [--warmup 1] [--threads 2]
    /usr/bin/python3 tests/reference/time_neco_step.py --serve ...   (driven by the C++ benchmark)

The batch is random normalised crops (N(0, 1)) with valid intersection boxes (random crop rectangles
that all overlap both global crops); the step's time does not depend on the pixel values. Prints JSON:
one object per timed step ({"impl": "python", "step_ms", "forward_ms", "loss_ms", "sort_ms",
"backward_ms", "ema_ms", "optimizer_ms"}) and a summary with the medians. With --serve it prints
{"ready": ...} after the warm-up, then answers each stdin line "run N" with N step lines, and stops on
"quit" or end of input. Development-time only; the product never runs Python.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_reference as vr  # noqa: E402
from make_neco_loss_fixtures import relative  # noqa: E402
from neco_step_reference import NecoStepReference, StepSettings, head_shapes  # noqa: E402

PHASES = ("forward_ms", "loss_ms", "sort_ms", "backward_ms", "ema_ms", "optimizer_ms")
IMAGE_W, IMAGE_H = 640, 480


def random_batch(B: int, sizes, G: int, gen: torch.Generator):
    """Crops N(0, 1); crop rectangles around the image centre so that every crop meets both globals."""
    V = len(sizes)
    crops = [torch.randn(B, 3, s, s, generator=gen) for s in sizes]
    in_global = torch.zeros(B, G, V, 4, dtype=torch.float64)
    in_crop = torch.zeros(B, V, G, 4, dtype=torch.float64)

    def rect(lo: float, hi: float):
        w = int(IMAGE_W * (lo + (hi - lo) * float(torch.rand(1, generator=gen))))
        h = int(IMAGE_H * (lo + (hi - lo) * float(torch.rand(1, generator=gen))))
        cx = IMAGE_W // 2 + int((float(torch.rand(1, generator=gen)) - 0.5) * w * 0.5)
        cy = IMAGE_H // 2 + int((float(torch.rand(1, generator=gen)) - 0.5) * h * 0.5)
        return (max(0, cx - w // 2), max(0, cy - h // 2), w, h)

    for b in range(B):
        r = [rect(0.5, 1.0) if v < G else rect(0.2, 0.45) for v in range(V)]
        for g in range(G):
            for v in range(V):
                cg, cv = r[g], r[v]
                x1, y1 = max(cg[0], cv[0]), max(cg[1], cv[1])
                x2, y2 = min(cg[0] + cg[2], cv[0] + cv[2]), min(cg[1] + cg[3], cv[1] + cv[3])
                assert x2 > x1 and y2 > y1
                in_global[b, g, v] = torch.tensor(relative((x1, y1, x2, y2), cg, sizes[g]), dtype=torch.float64)
                in_crop[b, v, g] = torch.tensor(relative((x1, y1, x2, y2), cv, sizes[v]), dtype=torch.float64)
    return crops, in_global, in_crop


def build(args):
    cfg = vr.ViTConfig(family="dinov2", patch_size=args.patch, embed_dim=args.embed_dim, depth=args.depth,
                       num_heads=args.heads, pos_grid=args.pos_grid, layer_scale=True, mlp="gelu")
    s = StepSettings(head_hidden=args.head_hidden, head_out=args.head_out, student_steepness=args.steepness,
                     teacher_steepness=args.steepness, network="bitonic", student_drop_path=args.drop_path,
                     use_queue=args.queue > 0, queue_length=max(args.queue, 1), total_steps=args.total_steps,
                     lr_backbone=1e-4, lr_head=1e-3, seed=args.seed)
    torch.manual_seed(args.seed)
    backbone = vr.random_canonical_weights(cfg)
    nets = []
    for _ in range(2):  # teacher and student: the same backbone, independent heads
        w = {"backbone." + k: v for k, v in backbone.items()}
        for name, shape in head_shapes(cfg.embed_dim, s).items():
            w[name] = torch.zeros(shape) if name.endswith("bias") else 0.02 * torch.randn(shape)
        nets.append(w)
    ref = NecoStepReference(cfg, s, nets[1], nets[0], dtype=torch.float32)
    sizes = [args.global_size] * args.globals + [args.local_size] * args.locals
    batch = random_batch(args.batch, sizes, args.globals, torch.Generator().manual_seed(args.seed + 1))
    return ref, batch


def timed_step(ref: NecoStepReference, batch) -> dict:
    t0 = time.perf_counter()
    r = ref.step(*batch)
    out = {"impl": "python", "step": r["step"], "step_ms": (time.perf_counter() - t0) * 1e3, "loss": r["loss"]}
    out.update({k: r.get(k, 0.0) for k in PHASES})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--serve", action="store_true")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--global-size", type=int, default=112)
    p.add_argument("--local-size", type=int, default=56)
    p.add_argument("--globals", type=int, default=2)
    p.add_argument("--locals", type=int, default=4)
    p.add_argument("--queue", type=int, default=2048, help="queue length; 0: in-batch references")
    p.add_argument("--head-hidden", type=int, default=256)
    p.add_argument("--head-out", type=int, default=64)
    p.add_argument("--embed-dim", type=int, default=192)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--heads", type=int, default=3)
    p.add_argument("--pos-grid", type=int, default=16)
    p.add_argument("--patch", type=int, default=14)
    p.add_argument("--steepness", type=float, default=100.0)
    p.add_argument("--drop-path", type=float, default=0.1)
    p.add_argument("--total-steps", type=int, default=300)
    p.add_argument("--seed", type=int, default=400)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    ref, batch = build(args)
    for _ in range(args.warmup):
        ref.step(*batch)
    info = {"impl": "python", "torch": torch.__version__, "threads": torch.get_num_threads(),
            "implementation": "tests/reference/neco_step_reference.py (dense diffsort, torchvision roi_align, "
                              "torch.optim.AdamW)"}
    if args.serve:
        print(json.dumps(dict(info, ready=True)), flush=True)
        for line in sys.stdin:
            words = line.split()
            if not words or words[0] == "quit":
                break
            if words[0] == "run":
                for _ in range(int(words[1])):
                    print(json.dumps(timed_step(ref, batch)), flush=True)
        return
    steps = [timed_step(ref, batch) for _ in range(args.steps)]
    for s in steps:
        print(json.dumps(s))
    summary = dict(info, summary=True, steps=len(steps),
                   median_step_ms=statistics.median(s["step_ms"] for s in steps),
                   median={k: statistics.median(s[k] for s in steps) for k in PHASES})
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
