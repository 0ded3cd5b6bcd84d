#!/usr/bin/env bash
# Command (b) of the README: installs what is missing, configures, builds and runs every test —
# the full build (CLI, studio, GUI tests under Xvfb) and the LibTorch-only build that the GPU machine
# uses. Idempotent; works offline once the packages are installed. `.ci/run` runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
stamp() { echo "== [$(( $(date +%s) - start )) s] $*"; }

stamp "dependencies"
bash packaging/install-deps.sh

stamp "full build (preset default)"
cmake --preset default
cmake --build --preset default
stamp "tests (preset default)"
ctest --preset default

stamp "LibTorch-only build (preset core: no Qt, VTK, OpenCV; bundled header-only deps)"
bash scripts/bundle-deps.sh
cmake --preset core
cmake --build --preset core
stamp "tests (preset core)"
ctest --preset core

stamp "checkpoint parsers under ASan + UBSan, short libFuzzer runs (preset sanitize: clang, no LibTorch)"
cmake --preset sanitize
cmake --build --preset sanitize
ctest --preset sanitize

stamp "all tests passed"
