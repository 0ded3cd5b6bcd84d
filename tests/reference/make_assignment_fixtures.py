#!/usr/bin/python3
"""Golden minimum-cost assignments from scipy.optimize.linear_sum_assignment (Debian's python3-scipy).

Writes tests/data/eval/assignment_golden.safetensors: for case i, `cost_i` (rows, cols) float64 and
`rows_i` / `cols_i` (scipy's row and column indices, as float64), plus metadata `cases` and
`optimum_i` (the minimal total cost, repr). Random uniform matrices of square and rectangular shapes,
an integer matrix full of ties (only its optimum is unique) and a 1 - IoU style matrix.

    /usr/bin/python3 tests/reference/make_assignment_fixtures.py
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import write_safetensors  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(REPO, "tests", "data", "eval", "assignment_golden.safetensors")


def main() -> None:
    rng = np.random.default_rng(2024)
    matrices = [rng.random((r, c)) for r, c in [(1, 1), (2, 3), (3, 2), (5, 5), (7, 12), (12, 7), (21, 21),
                                                (40, 40), (60, 25), (25, 60)]]
    matrices.append(rng.integers(0, 4, size=(10, 10)).astype(np.float64))  # ties
    overlap = rng.integers(0, 50, size=(21, 21)).astype(np.float64)        # 1 - IoU of a confusion matrix
    union = overlap.sum(0, keepdims=True) + overlap.sum(1, keepdims=True) - overlap
    matrices.append(1.0 - overlap / np.maximum(union, 1e-8))
    tensors, meta = OrderedDict(), OrderedDict()
    for i, m in enumerate(matrices):
        rows, cols = linear_sum_assignment(m)
        tensors[f"cost_{i}"] = torch.from_numpy(m.copy())
        tensors[f"rows_{i}"] = torch.from_numpy(rows.astype(np.float64))
        tensors[f"cols_{i}"] = torch.from_numpy(cols.astype(np.float64))
        meta[f"optimum_{i}"] = repr(float(m[rows, cols].sum()))
    meta["cases"] = str(len(matrices))
    write_safetensors(OUT, tensors, meta)
    print(f"wrote {OUT}: {len(matrices)} cases")


if __name__ == "__main__":
    main()
