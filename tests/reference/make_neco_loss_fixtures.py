#!/usr/bin/env python3
"""Golden values for NeCo's loss (METHOD.md §2.4) on fixed tensors, float64, written independently of
core/: torchvision's roi_align, the dense diffsort formulation of make_sort_fixtures.py, the reference
code's reshapes and averaging, differentiated by Debian's torch autograd.

    apt-get install python3-torchvision && /usr/bin/python3 tests/reference/make_neco_loss_fixtures.py

Writes tests/data/train/neco_loss_golden.safetensors with, per case, the student maps `<case>.student<v>`
(B, C, h, w), teacher maps `<case>.teacher<c>`, boxes `<case>.in_global` (B, G, V, 4) and
`<case>.in_crop` (B, V, G, 4) in crop pixels, the references `<case>.refs` (G, V, B, K*K, C), the loss
`<case>.loss` (1,) and its gradients `<case>.grad_student<v>`. Metadata `cases` lists
`name:similarity:student_steepness:teacher_steepness`.

The only departure from the reference code is the log floor 1e-12 that core documents
(docs/SORTING.md); at these inputs no probability comes near it.
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict

import torch
from torchvision.ops import roi_align

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import write_safetensors  # noqa: E402
from make_sort_fixtures import soft_sort  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "train", "neco_loss_golden.safetensors")

B, C, PATCH, K = 2, 8, 14, 7
GLOBAL, LOCAL = 126, 42  # crop output sides: 9 x 9 and 3 x 3 tokens
IMAGE_W, IMAGE_H = 200, 160
# crops (left, top, width, height) in image pixels per image: 2 global, then 2 local; all overlap the globals
CROPS = [
    [(10, 5, 150, 140), (40, 20, 155, 130), (60, 40, 50, 45), (100, 70, 40, 52)],
    [(0, 0, 200, 160), (30, 10, 120, 120), (20, 30, 60, 60), (90, 50, 55, 45)],
]
CASES = [("cosine", "cosine", 100.0, 100.0), ("euclidean", "euclidean", 10.0, 1000.0)]


def relative(box, crop, size):
    """box (x1, y1, x2, y2) in image pixels -> crop's output pixels: x' = S (x - x1_c) / w_c."""
    left, top, w, h = crop
    return [size * (box[0] - left) / w, size * (box[1] - top) / h, size * (box[2] - left) / w, size * (box[3] - top) / h]


def boxes():
    G, V = 2, 4
    in_global = torch.zeros(B, G, V, 4, dtype=torch.float64)
    in_crop = torch.zeros(B, V, G, 4, dtype=torch.float64)
    for b in range(B):
        for g in range(G):
            for v in range(V):
                cg, cv = CROPS[b][g], CROPS[b][v]
                x1, y1 = max(cg[0], cv[0]), max(cg[1], cv[1])
                x2, y2 = min(cg[0] + cg[2], cv[0] + cv[2]), min(cg[1] + cg[3], cv[1] + cv[3])
                assert x2 > x1 and y2 > y1
                inter = (x1, y1, x2, y2)
                in_global[b, g, v] = torch.tensor(relative(inter, cg, GLOBAL), dtype=torch.float64)
                in_crop[b, v, g] = torch.tensor(relative(inter, cv, GLOBAL if v < 2 else LOCAL), dtype=torch.float64)
    return in_global, in_crop


def similarities(src, ref, kind):
    """src (B, M, C), ref (B, N, C) -> (B*M, N)."""
    if kind == "cosine":
        src = torch.nn.functional.normalize(src, dim=-1)
        ref = torch.nn.functional.normalize(ref, dim=-1)
        s = torch.einsum("bmc,bnc->bmn", src, ref)
    else:
        s = torch.cdist(src, ref)
    return s.reshape(-1, ref.shape[1])


def loss_of(student, teacher, in_global, in_crop, refs, kind, s_steep, t_steep):
    G, V = len(teacher), len(student)
    total = 0
    for c in range(G):
        # the reference aligns the teacher map of c with all V boxes at once: rows b * V + v
        t_boxes = [in_global[b, c] / PATCH for b in range(B)]
        t_aligned_all = roi_align(teacher[c], t_boxes, output_size=K, spatial_scale=1.0, sampling_ratio=-1, aligned=True)
        loss_c = 0
        for v in range(V):
            if v == c:
                continue
            s_boxes = [in_crop[b, v, c].unsqueeze(0) / PATCH for b in range(B)]
            p_s = roi_align(student[v], s_boxes, output_size=K, spatial_scale=1.0, sampling_ratio=-1, aligned=True)
            p_t = t_aligned_all[torch.arange(B) * V + v]
            src_s = p_s.flatten(2).transpose(1, 2)  # (B, 49, C), rows (y, x)
            src_t = p_t.flatten(2).transpose(1, 2)
            ref = refs[c, v]
            with torch.no_grad():
                _, q = soft_sort(similarities(src_t, ref, kind), "bitonic", "cauchy", t_steep)
            _, p = soft_sort(similarities(src_s, ref, kind), "bitonic", "cauchy", s_steep)
            # X[row, e, r]; the reference permutes to (B, r, e, y, x) and takes -mean_(b,e,y,x) sum_r q log p
            q5 = q.reshape(B, K, K, K * K, K * K).permute(0, 4, 3, 1, 2)
            p5 = p.reshape(B, K, K, K * K, K * K).permute(0, 4, 3, 1, 2)
            loss_c = loss_c + (-(q5 * torch.log(p5.clamp_min(1e-12))).sum(dim=1)).mean()
        total = total + loss_c / (V - 1)
    return total / G


def main() -> None:
    gen = torch.Generator().manual_seed(20261130)
    tensors: "OrderedDict[str, torch.Tensor]" = OrderedDict()
    names = []
    in_global, in_crop = boxes()
    for name, kind, s_steep, t_steep in CASES:
        sides = [GLOBAL // PATCH] * 2 + [LOCAL // PATCH] * 2
        student = [torch.randn(B, C, s, s, generator=gen, dtype=torch.float64).requires_grad_(True) for s in sides]
        teacher = [torch.randn(B, C, sides[0], sides[0], generator=gen, dtype=torch.float64) for _ in range(2)]
        refs = torch.randn(2, 4, B, K * K, C, generator=gen, dtype=torch.float64)
        loss = loss_of(student, teacher, in_global, in_crop, refs, kind, s_steep, t_steep)
        loss.backward()
        for v, t in enumerate(student):
            tensors[f"{name}.student{v}"] = t.detach()
        for c, t in enumerate(teacher):
            tensors[f"{name}.teacher{c}"] = t
        tensors[f"{name}.in_global"] = in_global
        tensors[f"{name}.in_crop"] = in_crop
        tensors[f"{name}.refs"] = refs
        tensors[f"{name}.loss"] = loss.detach().reshape(1)
        for v, t in enumerate(student):
            tensors[f"{name}.grad_student{v}"] = t.grad
        names.append(f"{name}:{kind}:{s_steep:g}:{t_steep:g}")
        print(f"{name}: loss {loss.item():.10f}")
    write_safetensors(OUT, tensors, {"cases": ",".join(names), "generator": "tests/reference/make_neco_loss_fixtures.py",
                                     "torch": torch.__version__})
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
