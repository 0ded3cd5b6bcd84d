#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages NeCo Studio needs to build, test and run.
# Idempotent: packages already present are not reinstalled and apt is not touched at all
# when nothing is missing (so it works offline after a first install).
#
# NOTE: never install libvtk9-qt-dev: Debian builds its VTK Qt module against Qt 5, and Qt 5 and
# Qt 6 widgets cannot live in one process. The studio carries its own Qt 6 bridge (ui/vtk).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache
  # sanitizer and fuzzing build of the checkpoint parsers (clang + libFuzzer runtime)
  clang
  # LibTorch (CPU) and a fast BLAS for it (21x faster matmul than the reference BLAS)
  libtorch-dev libopenblas0-pthread
  # logging, CLI, configs, JSON
  libspdlog-dev libfmt-dev libcli11-dev libyaml-cpp-dev nlohmann-json3-dev libcurl4-openssl-dev
  # GUI
  qt6-base-dev libqt6opengl6-dev libgl-dev libvtk9-dev
  # image I/O and video export
  libopencv-dev
  # headless display for GUI tests and screenshots
  xvfb xauth
)

die() { echo "install-deps: $*" >&2; exit 1; }

if [[ ! -r /etc/os-release ]]; then
  die "cannot read /etc/os-release; this script supports Debian 12 and Ubuntu 22.04+ only."
fi
. /etc/os-release
case " ${ID:-} ${ID_LIKE:-} " in
  *" debian "*|*" ubuntu "*) ;;
  *) die "unsupported system '${PRETTY_NAME:-unknown}'. Install the equivalents of: ${PACKAGES[*]}
(LibTorch >= 1.13, Qt >= 6.4, VTK 9 without its Qt module, OpenCV 4, spdlog, CLI11, yaml-cpp, nlohmann-json) by hand." ;;
esac
# Debian 12 ships clang's libFuzzer/sanitizer runtime separately; Ubuntu bundles it with clang.
[[ "${ID:-}" == debian ]] && PACKAGES+=(libclang-rt-14-dev)
command -v dpkg-query >/dev/null || die "dpkg-query not found on a Debian-like system?"

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed."
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null; then
  SUDO=(sudo)
else
  die "need root (or sudo) to install: ${missing[*]}"
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q || die "apt-get update failed (offline? the packages ${missing[*]} are still missing)"
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" \
  || die "apt-get install failed for: ${missing[*]}"

# Guard the Qt 5 trap: an earlier manual install may have brought VTK's Qt 5 module in.
if dpkg-query -W -f='${Status}' libvtk9-qt-dev 2>/dev/null | grep -q "install ok installed"; then
  echo "install-deps: WARNING: libvtk9-qt-dev (VTK's Qt 5 module) is installed. The build never links it," >&2
  echo "              but it pulls Qt 5 headers in; consider 'apt-get remove libvtk9-qt-dev'." >&2
fi
echo "install-deps: done."
