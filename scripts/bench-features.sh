#!/usr/bin/env bash
# Feature-extraction benchmark (issue 3): the C++ ViT-S/14 forward against the Python reference forward
# (tests/reference/vit_reference.py on Debian's python3-torch — the same LibTorch build) in one session,
# alternating C++ / Python twice so both see the same machine state. Prints a table and writes
# $OUT (default build/bench/feature-extraction.json) with every measurement and the ratios
# (C++ images/s divided by Python images/s; > 1 means C++ is faster).
#
# usage: scripts/bench-features.sh [--threads N] [--repeats R] [--build-dir build/default]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=$(nproc)
repeats=5
build=build/default
while (($#)); do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    *) echo "usage: $0 [--threads N] [--repeats R] [--build-dir DIR]" >&2; exit 2 ;;
  esac
done
out=${OUT:-$build/bench/feature-extraction.json}
python=/usr/bin/python3
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "bench-features: $python has no torch; install python3-torch (development-time baseline only)" >&2
  exit 3
fi
cmake --build "$build" --target neco_bench_features >/dev/null
bench="$build/bench/neco_bench_features"
common=(--threads "$threads" --sizes 224,518 --batches 1,8 --repeats "$repeats" --warmup 1)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for round in 1 2; do
  echo "== round $round: C++" >&2
  "$bench" "${common[@]}" | sed "s/^{/{\"round\": $round, /" | tee -a "$tmp" >&2
  echo "== round $round: Python" >&2
  "$python" bench/python_vit_forward.py "${common[@]}" | sed "s/^{/{\"round\": $round, /" | tee -a "$tmp" >&2
done
mkdir -p "$(dirname "$out")"
"$python" - "$tmp" "$out" <<'PY'
import json, sys, statistics, platform, os
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
best = {}
for r in rows:  # best round per implementation and configuration
    key = (r["impl"], r["size"], r["batch"])
    best[key] = max(best.get(key, 0.0), r["images_per_second"])
configs = sorted({(r["size"], r["batch"]) for r in rows})
ratios = []
print(f"{'size':>5} {'batch':>5} {'C++ img/s':>10} {'Python img/s':>13} {'ratio':>6}")
for size, batch in configs:
    c = best[("cpp-libtorch", size, batch)]
    p = best[("python-torch", size, batch)]
    ratios.append({"size": size, "batch": batch, "cpp_images_per_second": c, "python_images_per_second": p,
                   "ratio": c / p})
    print(f"{size:>5} {batch:>5} {c:>10.2f} {p:>13.2f} {c / p:>6.2f}")
json.dump({"benchmark": "feature-extraction ViT-S/14", "machine": platform.machine(), "cpus": os.cpu_count(),
           "threads": rows[0]["threads"], "measurements": rows, "ratios": ratios}, open(sys.argv[2], "w"), indent=2)
print(f"wrote {sys.argv[2]}")
PY
