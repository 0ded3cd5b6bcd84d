#!/usr/bin/env python3
"""Golden values for the differentiable sorting networks, from an independent Python implementation
of diffsort 0.2.0's published formulation (METHOD.md §3: network construction, the six relaxations,
dense split / combine layers), differentiated by Debian's torch autograd in float64.

    /usr/bin/python3 tests/reference/make_sort_fixtures.py

Writes tests/data/sort/diffsort_golden.safetensors: for every case `<name>.x` (rows, n), `.sorted`,
`.X` (rows, n, n; X[r, e, k] = weight of element e at ascending rank k), `.g_sorted`, `.g_X` (fixed
upstream gradients) and `.grad_x` = d(<g_sorted, sorted> + <g_X, X>)/dx, all F64; the metadata
`cases` lists `name:network:n:relaxation:steepness` entries. Nothing here shares code with core/.
"""

from __future__ import annotations

import math
import os
import sys
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import write_safetensors  # noqa: E402  (same directory)

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "sort", "diffsort_golden.safetensors")

ART_LAMBDA = 0.25


def bitonic_layers(n: int):
    """diffsort's padded bitonic network: list of layers of (a, b, min_to, max_to, weight) rows."""
    log_n = max(1, math.ceil(math.log2(n)))
    big = 2 ** log_n
    discarded = big - n
    layers = []
    for bi in range(log_n):
        for li in range(bi + 1):
            m = 2 ** (bi - li)
            rows = []
            for i in range(0, big, 2 * m):
                for j in range(m):
                    ix = i + j
                    a_real, b_real = ix >= discarded, ix + m >= discarded
                    if not a_real and not b_real:
                        continue
                    if a_real != b_real:  # identity row on the real wire: 0.5 min + 0.5 max
                        w = (ix if a_real else ix + m) - discarded
                        rows.append((w, w, w, w, 0.5))
                        continue
                    a, b = ix - discarded, ix + m - discarded
                    if (ix // 2 ** (bi + 1)) % 2 == 1:
                        rows.append((a, b, b, a, 1.0))
                    else:
                        rows.append((a, b, a, b, 1.0))
            layers.append(rows)
    return layers


def odd_even_layers(n: int):
    layers = []
    for t in range(n):
        shifted = t % 2
        rows = []
        if shifted:
            rows.append((0, 0, 0, 0, 0.5))
        for i in range(shifted, n - 1, 2):
            rows.append((i, i + 1, i, i + 1, 1.0))
        if (n % 2 == 0 and shifted) or (n % 2 == 1 and not shifted):
            rows.append((n - 1, n - 1, n - 1, n - 1, 0.5))
        layers.append(rows)
    return layers


def dense_matrices(layers, n: int):
    out = []
    for rows in layers:
        k = len(rows)
        split_a = torch.zeros(k, n, dtype=torch.float64)
        split_b = torch.zeros(k, n, dtype=torch.float64)
        comb_min = torch.zeros(n, k, dtype=torch.float64)
        comb_max = torch.zeros(n, k, dtype=torch.float64)
        for c, (a, b, lo, hi, w) in enumerate(rows):
            split_a[c, a] = 1
            split_b[c, b] = 1
            comb_min[lo, c] = w
            comb_max[hi, c] = w
        out.append((split_a, split_b, comb_min, comb_max))
    return out


class NormalCdf(torch.autograd.Function):
    """diffsort's Gaussian relaxation: Phi(x / sigma) with the Gaussian pdf as backward."""

    @staticmethod
    def forward(ctx, x, sigma):
        ctx.save_for_backward(x)
        ctx.sigma = sigma
        return 0.5 + 0.5 * torch.erf(x / (sigma * math.sqrt(2)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = ctx.sigma
        return g / (s * math.sqrt(2 * math.pi)) * torch.exp(-0.5 * (x / s) ** 2), None


def relaxed_alpha(a, b, relaxation: str, steepness: float):
    d = b - a
    v = steepness * d
    if relaxation == "cauchy":
        return torch.atan(v) / math.pi + 0.5
    if relaxation == "logistic":
        return torch.sigmoid(v)
    if relaxation == "logistic_phi":
        return torch.sigmoid(v / (torch.abs(d) + 1e-10) ** ART_LAMBDA)
    if relaxation == "gaussian":
        return NormalCdf.apply(d, 1.0 / steepness)
    if relaxation == "reciprocal":
        return 0.5 * (v / (2 + torch.abs(v)) + 1)
    if relaxation == "optimal":
        tail = (v > 0.25).to(v.dtype) - (v < -0.25).to(v.dtype)
        return torch.clamp(v, -0.25, 0.25) + 0.5 + tail * (0.25 - 1 / (16 * (torch.abs(v) + 1e-10)))
    raise ValueError(relaxation)


def soft_sort(x, network: str, relaxation: str, steepness: float):
    n = x.shape[1]
    layers = bitonic_layers(n) if network == "bitonic" else odd_even_layers(n)
    X = torch.eye(n, dtype=x.dtype).expand(x.shape[0], n, n)
    for matrices in dense_matrices(layers, n):
        split_a, split_b, comb_min, comb_max = (m.to(x.dtype) for m in matrices)
        a, b = x @ split_a.t(), x @ split_b.t()
        alpha = relaxed_alpha(a, b, relaxation, steepness)
        x = (alpha * a + (1 - alpha) * b) @ comb_min.t() + ((1 - alpha) * a + alpha * b) @ comb_max.t()
        aX, bX = X @ split_a.t(), X @ split_b.t()
        al = alpha.unsqueeze(1)
        X = ((1 - al) * aX + al * bX) @ comb_max.t() + (al * aX + (1 - al) * bX) @ comb_min.t()
    return x, X


CASES = [  # name, network, n, relaxation, steepness
    ("neco", "bitonic", 49, "cauchy", 100.0),
    ("neco_sharp", "bitonic", 49, "cauchy", 1000.0),
    ("bitonic7_logistic", "bitonic", 7, "logistic", 10.0),
    ("bitonic16_phi", "bitonic", 16, "logistic_phi", 10.0),
    ("bitonic22_gauss", "bitonic", 22, "gaussian", 10.0),  # an invalid padded size: still the function
    ("oddeven7_recip", "odd_even", 7, "reciprocal", 100.0),
    ("oddeven16_optimal", "odd_even", 16, "optimal", 10.0),
    ("oddeven49_cauchy", "odd_even", 49, "cauchy", 100.0),
    ("bitonic3_cauchy", "bitonic", 3, "cauchy", 1.0),
    ("oddeven2_logistic", "odd_even", 2, "logistic", 1000.0),
]
ROWS = 3


def main() -> None:
    gen = torch.Generator().manual_seed(20261129)
    tensors: "OrderedDict[str, torch.Tensor]" = OrderedDict()
    names = []
    for name, network, n, relaxation, steepness in CASES:
        x = (torch.rand(ROWS, n, generator=gen, dtype=torch.float64) * 2 - 1)
        g_sorted = torch.randn(ROWS, n, generator=gen, dtype=torch.float64)
        g_X = torch.randn(ROWS, n, n, generator=gen, dtype=torch.float64)
        xv = x.clone().requires_grad_(True)
        sorted_, X = soft_sort(xv, network, relaxation, steepness)
        ((sorted_ * g_sorted).sum() + (X * g_X).sum()).backward()
        for key, t in (("x", x), ("sorted", sorted_), ("X", X), ("g_sorted", g_sorted), ("g_X", g_X),
                       ("grad_x", xv.grad)):
            tensors[f"{name}.{key}"] = t.detach().contiguous()
        names.append(f"{name}:{network}:{n}:{relaxation}:{steepness:g}")
    write_safetensors(OUT, tensors, {"cases": ",".join(names), "generator": "tests/reference/make_sort_fixtures.py",
                         "torch": torch.__version__})
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(CASES)} cases)")


if __name__ == "__main__":
    main()
