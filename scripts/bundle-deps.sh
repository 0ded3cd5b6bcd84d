#!/usr/bin/env bash
# Copies the header-only dependencies of core/gpu/CLI (spdlog, fmt, CLI11, nlohmann-json) from this
# machine's packages into .deps/bundled/include, for machines without a package registry (the GPU
# machine: LibTorch, CUDA, cmake and ninja only). The folder is git-ignored and travels with the
# working tree (`carry: [".deps"]`). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.deps/bundled/include
mkdir -p "$dest"
for dir in spdlog fmt CLI nlohmann; do
  src=/usr/include/$dir
  [[ -d $src ]] || { echo "bundle-deps: $src missing (run packaging/install-deps.sh first)" >&2; exit 1; }
  rm -rf "${dest:?}/$dir"
  cp -a "$src" "$dest/$dir"
done
echo "bundle-deps: $(du -sh .deps/bundled | cut -f1) of headers in .deps/bundled"
