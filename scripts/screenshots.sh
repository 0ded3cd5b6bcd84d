#!/usr/bin/env bash
# Regenerates the screenshots in docs/images from the real app (neco-studio --screenshot) under Xvfb.
# Needs a built tree (scripts/run-tests.sh or cmake --build --preset default).
# usage: scripts/screenshots.sh [NAME...]   (default: all; e.g. `scripts/screenshots.sh studio-permutation`)
set -euo pipefail
cd "$(dirname "$0")/.."
studio=build/default/app/neco-studio
[[ -x $studio ]] || { echo "screenshots: build first ($studio missing)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_DATA_HOME=$work/data XDG_STATE_HOME=$work/state XDG_CONFIG_HOME=$work/config QT_QPA_PLATFORM=xcb
wanted=("$@")
shot() {  # name, then studio arguments
  local name=$1; shift
  if ((${#wanted[@]})) && [[ " ${wanted[*]} " != *" $name "* ]]; then return 0; fi
  xvfb-run -a -s "-screen 0 1920x1200x24" "$studio" --demo-dir "$work/demo" --window-size 1100x760 \
    --screenshot "docs/images/$name.png" "$@"
  echo "docs/images/$name.png"
}
shot studio-similarity --patch 6,8 --window-size 1400x900
# The Near / far strip ranking the query's patches across the demo's patch bank.
shot studio-near-far --patch 6,8 --patch-bank --show near-far --window-size 1600x1000
# The query in the next images of the dataset, best matches boxed (a dot: mutual nearest neighbours).
shot studio-cross-image --patch 6,8 --show cross-image --window-size 1600x1000
# Before / after: the same query under the demo model (base) and two checkpoints, with the wipe.
shot studio-compare --patch 6,8 --compare tests/data/vit/dinov2.safetensors \
  --compare tests/data/vit/dinov2_swiglu.safetensors --window-size 1600x1000
# The patches as a VTK point cloud on their first three principal components, PCA-RGB coloured.
shot studio-embedding --patch 6,8 --show embedding --window-size 1600x1000
# The student (soft) and teacher (sharper) permutation matrices of the query as VTK surfaces.
shot studio-permutation-3d --patch 6,8 --steepness 10,300 --show permutation-3d --window-size 1600x1000
# PCA-RGB of the patch features beside the similarity view, the dataset browser on the left.
shot studio-feature-maps --patch 6,8 --show feature-maps --window-size 1600x1000
# Zoomed in: image pixels as sharp squares, the grid on the exact patch boundaries.
shot studio-zoom --patch 6,8 --zoom 5 --window-size 1400x900
# The ? sheet: every shortcut, read from the menus.
shot studio-shortcuts --patch 6,8 --show shortcuts --window-size 1400x900
shot studio-similarity-turbo --patch 11,4 --colormap turbo --opacity 0.75
shot studio-checkpoint --patch 6,8 --checkpoint tests/data/checkpoints/dinov2_reg4_hf
shot studio-open-error --patch 6,8 --checkpoint tests/data/malformed/torch/os-system.pth
# The permutation and sorting network views: student steepness 30 against teacher 300, so they differ.
shot studio-permutation --patch 6,8 --window-size 1700x1100 --steepness 30,300
# The Training dock after a short demo run trained in the studio; the views show its final student.
shot studio-training --patch 6,8 --window-size 1700x1100 --train-steps 60 --show training
