#!/usr/bin/env python3
"""Golden values for the fg/bg loss masks' first stages (METHOD.md §2.8), float64: the head-averaged
CLS attention blurred by torchvision's GaussianBlur(7, sigma=0.6), and the patches holding the top
60 % of the attention mass (sort, normalise, cumulative sum > 0.4, scattered back) -- before the
small-component removal, which the C++ test checks by properties.

    /usr/bin/python3 tests/reference/make_loss_mask_fixtures.py

Writes tests/data/train/loss_mask_golden.safetensors: `attention` (B, heads, h*w), `blurred`
(B, 1, h, w), `kept` (B, 1, h, w); metadata `grid_h`, `grid_w`.
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict

import torch
from torchvision.transforms import GaussianBlur

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import write_safetensors  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "train", "loss_mask_golden.safetensors")
B, HEADS, GH, GW = 3, 4, 6, 7


def main() -> None:
    g = torch.Generator().manual_seed(21)
    logits = torch.randn(B, HEADS, GH * GW, generator=g, dtype=torch.float64) * 2.0
    attention = torch.softmax(logits, dim=-1)
    smooth = attention.mean(1).reshape(B, 1, GH, GW)
    blurred = GaussianBlur(7, sigma=0.6)(smooth)
    flat = blurred.reshape(B, -1)
    val, idx = torch.sort(flat, dim=-1)
    val = val / val.sum(-1, keepdim=True)
    th = (torch.cumsum(val, dim=-1) > (1 - 0.6)).double()
    kept = torch.gather(th, 1, torch.argsort(idx, dim=-1)).reshape(B, 1, GH, GW)
    tensors = OrderedDict(attention=attention, blurred=blurred, kept=kept)
    write_safetensors(OUT, tensors, {"grid_h": GH, "grid_w": GW})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
