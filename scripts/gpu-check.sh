#!/usr/bin/env bash
# One prepared GPU check for the lent H100/H200 machine (LibTorch inside Python's torch 2.x, CUDA,
# cmake, ninja; no Qt/VTK/OpenCV/spdlog, no registry). Builds core + gpu + CLI + their tests with
# NECO_CUDA=ON against that LibTorch, runs the tests (the gpu label must PASS, not skip) and writes
# results under $OUT (or ./gpu-check-out). Run here first: it works against Debian's LibTorch too,
# where the gpu suites skip for lack of a device.
#
#   run(command="bash scripts/gpu-check.sh", carry=[".deps"], timeout_s=480)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-$PWD/gpu-check-out}
mkdir -p "$out"
jobs=$(nproc)
log() { echo "== [gpu-check $(date +%T)] $*"; }

[[ -f .deps/bundled/include/spdlog/spdlog.h ]] || { echo "gpu-check: .deps/bundled missing: run scripts/bundle-deps.sh here and carry .deps" >&2; exit 1; }

prefix=""
if python3 -c 'import torch' 2>/dev/null; then
  prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  log "LibTorch from Python torch $(python3 -c 'import torch; print(torch.__version__)') at $prefix"
else
  log "no Python torch: using the system LibTorch"
fi
arch=${CUDA_ARCH:-90}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.csv" 2>/dev/null || echo "no nvidia-smi" > "$out/gpu.csv"

log "configure (NECO_CUDA=ON, sm_$arch)"
cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
  ${prefix:+-DCMAKE_PREFIX_PATH="$prefix"} \
  -DNECO_BUILD_GUI=OFF -DNECO_OPENCV=OFF -DNECO_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$arch" \
  -DNECO_BUNDLED_DEPS="$PWD/.deps/bundled" -DNECO_USE_CCACHE="${NECO_USE_CCACHE:-OFF}" 2>&1 | tee "$out/configure.log" | tail -3
log "build"
/usr/bin/time -v cmake --build build/gpu -j "$jobs" > "$out/build.log" 2> "$out/build-time.txt" || { tail -40 "$out/build.log"; exit 1; }
grep -E "Elapsed|Maximum resident" "$out/build-time.txt" || true

log "neco info"
build/gpu/app/neco --no-log-file info --json | tee "$out/info.json"

log "tests"
set +e
ctest --test-dir build/gpu --output-on-failure --output-junit "$out/ctest.xml" 2>&1 | tee "$out/ctest.log" | tail -25
rc=${PIPESTATUS[0]}
set -e
# On a GPU machine a skipped gpu test is a failure of this check.
if grep -q '"cuda_available": true' "$out/info.json"; then
  if grep -E "gpu\..*Skipped|gpu\..*Not Run" "$out/ctest.log"; then echo "gpu-check: GPU tests skipped on a GPU machine" >&2; rc=1; fi
fi
# The fused sort against the dense formulation on the device (and the CPU twin for reference):
# speed-up, memory ratio and achieved bandwidth vs the card's peak (device_peak_gbps) in the JSON.
if grep -q '"cuda_available": true' "$out/info.json"; then
  log "bench sort on the GPU"
  timeout 240 build/gpu/app/neco --no-log-file bench sort --device cuda --sweep --json > "$out/bench-sort-cuda.json" \
    2> "$out/bench-sort-cuda.log" || { echo "gpu-check: bench sort --device cuda failed" >&2; tail -5 "$out/bench-sort-cuda.log"; rc=1; }
  head -c 600 "$out/bench-sort-cuda.json"; echo
  # RoI-Align at NeCo's shapes (batch 64, C 384, 37 x 37 global and 7 x 7 local maps): the CPU twin and
  # the CUDA kernel in the same run; the last line is the per-step total per device and the speed-up.
  log "bench roi align (CPU twin vs CUDA)"
  timeout 120 build/gpu/bench/neco_bench_roi_align --repeats 5 > "$out/bench-roi-align.json" \
    2> "$out/bench-roi-align.log" || { echo "gpu-check: neco_bench_roi_align failed" >&2; tail -5 "$out/bench-roi-align.log"; rc=1; }
  tail -1 "$out/bench-roi-align.json"
  # A NeCo step of ViT-S/14 at the reference's 224 config (random init, demo images) on the GPU:
  # fp32 as the reference, then bf16 backbones; images/s and device memory in the summary line.
  for mp in 0 1; do
    log "bench train step ViT-S/14 224 (mixed precision $mp)"
    timeout 150 build/gpu/bench/neco_bench_train_step --config tests/data/configs/reference/neco_224x224.yml \
      --device cuda --mixed-precision $mp --batch 64 --rounds 3 --steps 3 --warmup 2 \
      > "$out/bench-train-step-cuda-mp$mp.json" 2> "$out/bench-train-step-cuda-mp$mp.log" \
      || { echo "gpu-check: train-step bench (mp $mp) failed" >&2; tail -5 "$out/bench-train-step-cuda-mp$mp.log"; rc=1; }
    tail -1 "$out/bench-train-step-cuda-mp$mp.json"
  done
  # The whole trainer on the device: 30 demo steps, a checkpoint, a resume to 40.
  log "neco train --demo on the GPU"
  rm -rf "$out/demo-run"
  timeout 120 build/gpu/app/neco --no-log-file train --demo --set neco.device=cuda --steps 30 --no-progress \
    --out "$out/demo-run" > "$out/train-demo-cuda.log" 2>&1 \
    && timeout 60 build/gpu/app/neco --no-log-file train --resume "$out/demo-run" --steps 40 --no-progress \
    >> "$out/train-demo-cuda.log" 2>&1 \
    || { echo "gpu-check: neco train on the GPU failed" >&2; rc=1; }
  tail -3 "$out/train-demo-cuda.log"
  rm -rf "$out/demo-run/checkpoints"  # keep the metrics, not the weights
fi
log "done (ctest exit $rc); results in $out"
exit "$rc"
