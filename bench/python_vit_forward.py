#!/usr/bin/env python3
"""Python side of the feature-extraction benchmark: reference ViT-S/14 forward with plain torch.

usage: python_vit_forward.py --threads N --sizes 224,518 --batches 1,8 --repeats R --warmup W

Builds the reference ViT-S/14 (D 384, 6 heads, depth 12, 0 registers, pos grid 37, random weights) from
tests/reference/vit_reference.py and prints one JSON object per line per (size, batch):
{"impl": "python-torch", "torch": ..., "threads": N, "size": S, "batch": B, "seconds_median": s,
 "images_per_second": B/s}
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import vit_reference as vr  # noqa: E402


def int_list(s: str):
    return [int(v) for v in s.split(",") if v.strip()]


def main() -> int:
    ap = argparse.ArgumentParser(description="Reference ViT-S/14 forward benchmark (python + torch)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sizes", type=int_list, default=[224, 518])
    ap.add_argument("--batches", type=int_list, default=[1, 8])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--mode", default="offset", choices=vr.INTERP_MODES,
                    help="pos-embed interpolation mode for sizes != 518 (default: offset, as NeCo)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = vr.ViTConfig(family="vits14_bench", patch_size=14, embed_dim=384, num_heads=6, depth=12,
                       num_registers=0, layer_scale=True, mlp="gelu", pos_grid=37)
    model = vr.ReferenceViT(cfg, vr.random_canonical_weights(cfg))

    for size in args.sizes:
        for batch in args.batches:
            x = torch.randn(batch, 3, size, size)
            times = []
            with torch.inference_mode():
                for _ in range(args.warmup):
                    model.forward(x, mode=args.mode)
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    out = model.forward(x, mode=args.mode)
                    times.append(time.perf_counter() - t0)
            assert out.patch.shape == (batch, (size // 14) ** 2, 384)
            med = statistics.median(times)
            print(json.dumps({"impl": "python-torch", "torch": torch.__version__, "threads": args.threads,
                              "size": size, "batch": batch, "seconds_median": med,
                              "images_per_second": batch / med}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
