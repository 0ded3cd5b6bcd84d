#!/usr/bin/env python3
"""Times the published dense formulation in Python (Debian's torch, the independent implementation of
make_sort_fixtures.py) at NeCo's shape, forward and forward + backward, so that `neco bench sort` can be
read against the original environment as well as against core's C++ dense baseline.

    /usr/bin/python3 tests/reference/time_dense_sort.py [--rows 3136] [--n 49] [--repeats 5] [--threads 2]

Prints one JSON object: the minimum over the timed runs (after one warm-up), in milliseconds.
Development-time only; the product never runs Python.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_sort_fixtures import soft_sort  # noqa: E402  (same directory)


def best_ms(repeats: int, body) -> float:
    body()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        body()
        best = min(best, (time.perf_counter() - t0) * 1e3)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3136)
    parser.add_argument("--n", type=int, default=49)
    parser.add_argument("--steepness", type=float, default=100.0)
    parser.add_argument("--network", default="bitonic", choices=["bitonic", "odd_even"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.rand(args.rows, args.n) * 2 - 1
    g_sorted, g_x = torch.randn(args.rows, args.n), torch.randn(args.rows, args.n, args.n)

    def forward():
        with torch.no_grad():
            soft_sort(x, args.network, "cauchy", args.steepness)

    def forward_backward():
        xg = x.detach().requires_grad_(True)
        s, X = soft_sort(xg, args.network, "cauchy", args.steepness)
        torch.autograd.backward([s, X], [g_sorted, g_x])

    print(json.dumps({
        "implementation": "python dense (tests/reference/make_sort_fixtures.py)",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "rows": args.rows, "n": args.n, "network": args.network, "steepness": args.steepness,
        "forward_ms": best_ms(args.repeats, forward),
        "forward_backward_ms": best_ms(args.repeats, forward_backward),
    }))


if __name__ == "__main__":
    main()
