#!/usr/bin/env python3
"""Golden values for RoI-Align from torchvision.ops.roi_align (Debian's python3-torchvision), float64.

    apt-get install python3-torchvision && /usr/bin/python3 tests/reference/make_roi_align_fixtures.py

Writes tests/data/ops/roi_align_golden.safetensors: per case `<name>.input` (N, C, H, W), `.boxes`
(R, 5) [image, x1, y1, x2, y2], `.out` (R, C, K, K), `.g_out` (a fixed upstream gradient) and
`.grad_input` = d<out, g_out>/d input; the metadata `cases` lists `name:K:spatial_scale:sampling:aligned`.
The boxes cover what NeCo produces (RoIs inside a 37 x 37 token map and a 7 x 7 one, in token units)
and the edges of the semantics: boxes beyond the border, zero extent, negative coordinates, a fixed
sampling ratio and aligned=False.
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict

import torch
from torchvision.ops import roi_align

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import write_safetensors  # noqa: E402  (same directory)

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "ops", "roi_align_golden.safetensors")


def neco_boxes(gen, images: int, per_image: int, side: float) -> torch.Tensor:
    """Random boxes in token units inside a side x side map, like NeCo's gc / 14 intersections."""
    rows = []
    for b in range(images):
        for _ in range(per_image):
            x1, y1 = (torch.rand(2, generator=gen, dtype=torch.float64) * side * 0.7).tolist()
            w, h = (torch.rand(2, generator=gen, dtype=torch.float64) * (side - max(x1, y1)) * 0.95 + 0.3).tolist()
            rows.append([b, x1, y1, min(side, x1 + w), min(side, y1 + h)])
    return torch.tensor(rows, dtype=torch.float64)


EDGE_BOXES = [  # image, x1, y1, x2, y2 on a 9 x 11 (H x W) map
    [0, 0.0, 0.0, 11.0, 9.0],      # the whole map
    [1, 2.3, 1.7, 6.9, 8.2],       # inside
    [0, -3.0, -2.5, 4.0, 3.0],     # starts outside
    [1, 8.0, 6.0, 15.0, 13.5],     # ends outside
    [0, 4.0, 4.0, 4.0, 4.0],       # zero extent
    [1, 5.5, 2.0, 5.5, 7.0],       # zero width
    [0, -20.0, -20.0, -12.0, -11.0],  # entirely outside
    [1, 0.2, 0.3, 30.0, 25.0],     # much larger than the map
]

CASES = [  # name, (N, C, H, W), boxes, K, spatial_scale, sampling_ratio, aligned
    ("neco_global", (2, 2, 37, 37), "neco37", 7, 1.0, -1, True),
    ("neco_local", (3, 4, 7, 7), "neco7", 7, 1.0, -1, True),
    ("edges", (2, 3, 9, 11), "edges", 7, 1.0, -1, True),
    ("edges_k3_ratio2", (2, 3, 9, 11), "edges", 3, 1.0, 2, True),
    ("edges_unaligned", (2, 3, 9, 11), "edges", 5, 1.0, -1, False),
    ("scaled", (2, 3, 9, 11), "edges", 4, 0.5, -1, True),
]


def main() -> None:
    gen = torch.Generator().manual_seed(20261130)
    tensors: "OrderedDict[str, torch.Tensor]" = OrderedDict()
    names = []
    for name, shape, box_kind, k, scale, ratio, aligned in CASES:
        x = torch.randn(*shape, generator=gen, dtype=torch.float64)
        if box_kind == "neco37":
            boxes = neco_boxes(gen, shape[0], 6, 37.0)
        elif box_kind == "neco7":
            boxes = neco_boxes(gen, shape[0], 2, 7.0)
        else:
            boxes = torch.tensor(EDGE_BOXES, dtype=torch.float64)
        xv = x.clone().requires_grad_(True)
        out = roi_align(xv, boxes, output_size=k, spatial_scale=scale, sampling_ratio=ratio, aligned=aligned)
        g_out = torch.randn(out.shape, generator=gen, dtype=torch.float64)
        (out * g_out).sum().backward()
        for key, t in (("input", x), ("boxes", boxes), ("out", out), ("g_out", g_out), ("grad_input", xv.grad)):
            tensors[f"{name}.{key}"] = t.detach().contiguous()
        names.append(f"{name}:{k}:{scale:g}:{ratio}:{int(aligned)}")
    import torchvision

    write_safetensors(OUT, tensors, {"cases": ",".join(names), "generator": "tests/reference/make_roi_align_fixtures.py",
                                     "torch": torch.__version__, "torchvision": torchvision.__version__})
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(CASES)} cases)")


if __name__ == "__main__":
    main()
