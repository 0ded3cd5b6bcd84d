#!/usr/bin/python3
"""Golden PCA-to-RGB feature maps from numpy (Debian's python3-numpy), independent of the C++ code.

Writes tests/data/eval/pca_rgb_golden.safetensors:
  tokens_0, tokens_1   (30, 16) float32: two images' patch tokens on a 6 (rows) x 5 (columns) grid,
                       L2-normalised rows; a low-rank structure plus noise, so the leading eigenvalues
                       are well apart and the components well defined
  mean (16,), components (8, 16), variances (8,), low (8,), high (8,)   float64: the basis fitted on
                       both images together (numpy.linalg.eigh of the population covariance; each
                       component's largest-magnitude entry positive; low/high = numpy.percentile 1 / 99,
                       default "linear" method, of the projections)
  rgb_0, rgb_1         (30, 3) float64: the bytes for components (0, 1, 2) without background,
                       round(clip((proj - low) / (high - low), 0, 1) * 255) (half away from zero)
  rgb_bg_0, rgb_bg_1   (30, 3) float64: components (3, 1, 0) with background threshold 0.4 on component 0
  background_0, _1     (30,) float64: 1 where the threshold blacked the patch out
The projections use the float32-rounded basis, as the C++ stores it.

    /usr/bin/python3 tests/reference/make_pca_rgb_fixture.py
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import write_safetensors  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(REPO, "tests", "data", "eval", "pca_rgb_golden.safetensors")
GRID_H, GRID_W, DIM, KEEP = 6, 5, 16, 8
LOW_P, HIGH_P = 1.0, 99.0
THRESHOLD, BG_COMPONENT = 0.4, 0


def tokens(rng: np.random.Generator, factors: np.ndarray) -> np.ndarray:
    n = GRID_H * GRID_W
    scales = np.array([4.0, 2.5, 1.6, 1.1, 0.8, 0.6, 0.45, 0.35])
    x = (rng.standard_normal((n, len(scales))) * scales) @ factors + 0.15 * rng.standard_normal((n, DIM)) + 0.5
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def fit(x: np.ndarray):
    x = x.astype(np.float64)
    mean = x.mean(0)
    cov = (x - mean).T @ (x - mean) / x.shape[0]
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][:KEEP]
    values, comps = values[order], vectors[:, order].T
    gaps = -np.diff(values[:KEEP]) / values[0]
    assert gaps.min() > 1e-3, f"eigenvalues too close for a stable fixture: {values}"
    signs = np.sign(comps[np.arange(KEEP), np.abs(comps).argmax(1)])
    comps = comps * signs[:, None]
    mean32, comps32 = mean.astype(np.float32).astype(np.float64), comps.astype(np.float32).astype(np.float64)
    proj = (x - mean32) @ comps32.T
    low = np.percentile(proj, LOW_P, axis=0)
    high = np.percentile(proj, HIGH_P, axis=0)
    return mean, comps, values, low, high, mean32, comps32


def to_bytes(v: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(v, 0.0, 1.0) * 255.0 + 0.5)  # non-negative: half up == half away from zero


def main() -> None:
    rng = np.random.default_rng(7)
    factors = np.linalg.qr(rng.standard_normal((DIM, DIM)))[0][:8]  # 8 orthonormal directions
    images = [tokens(rng, factors), tokens(rng, factors)]
    mean, comps, variances, low, high, mean32, comps32 = fit(np.concatenate(images))
    low32, high32 = low.astype(np.float32).astype(np.float64), high.astype(np.float32).astype(np.float64)
    tensors = OrderedDict()
    for i, t in enumerate(images):
        tensors[f"tokens_{i}"] = torch.from_numpy(t.copy())
    tensors["mean"] = torch.from_numpy(mean)
    tensors["components"] = torch.from_numpy(comps.copy())
    tensors["variances"] = torch.from_numpy(variances.copy())
    tensors["low"] = torch.from_numpy(low)
    tensors["high"] = torch.from_numpy(high)
    for i, t in enumerate(images):
        norm = (((t.astype(np.float64) - mean32) @ comps32.T) - low32) / (high32 - low32)
        tensors[f"rgb_{i}"] = torch.from_numpy(to_bytes(norm[:, [0, 1, 2]]))
        background = np.clip(norm[:, BG_COMPONENT], 0.0, 1.0) < THRESHOLD
        rgb_bg = to_bytes(norm[:, [3, 1, 0]])
        rgb_bg[background] = 0
        tensors[f"rgb_bg_{i}"] = torch.from_numpy(rgb_bg)
        tensors[f"background_{i}"] = torch.from_numpy(background.astype(np.float64))
    meta = OrderedDict(grid_h=GRID_H, grid_w=GRID_W, dim=DIM, components=KEEP, low_percentile=LOW_P,
                       high_percentile=HIGH_P, threshold=THRESHOLD, background_component=BG_COMPONENT)
    write_safetensors(OUT, tensors, meta)
    print(f"wrote {OUT}; variances {np.round(variances, 5)}; background {int(tensors['background_0'].sum() + tensors['background_1'].sum())} of 60")


if __name__ == "__main__":
    main()
