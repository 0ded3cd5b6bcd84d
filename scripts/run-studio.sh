#!/usr/bin/env bash
# Command (a) of the README: installs what is missing, configures, builds and launches the studio
# on the embedded demo (generated on first run, no network). Extra arguments go to neco-studio,
# e.g. `scripts/run-studio.sh --image photo.jpg`. Idempotent; works offline once installed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
cmake --preset default
cmake --build --preset default --target neco-studio neco
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  echo "run-studio: no display. Run it on a desktop, or headless: xvfb-run -a build/default/app/neco-studio --screenshot shot.png" >&2
  exit 1
fi
exec build/default/app/neco-studio "$@"
