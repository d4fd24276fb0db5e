#!/usr/bin/env bash
# Installs Mesa's software Vulkan driver (lavapipe) so that Dawn's WebGPU (the `webgpu` npm
# package) finds an adapter on a machine without a GPU.
#
# Why backports: Dawn refuses the Mesa 22 that Debian bookworm ships; bookworm-backports carries a
# recent Mesa that it accepts. Newer Debian/Ubuntu releases ship a recent enough Mesa already.
#
# Idempotent: does nothing when a lavapipe ICD is already installed. Needs root (or sudo) and apt.
# Set RPSAM2_SKIP_LAVAPIPE=1 to skip (for machines with a real GPU driver).
set -euo pipefail

say() { printf '[install-lavapipe] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

if [[ "${RPSAM2_SKIP_LAVAPIPE:-}" == "1" ]]; then
  say "RPSAM2_SKIP_LAVAPIPE=1: skipping."
  exit 0
fi

has_lavapipe() {
  compgen -G '/usr/share/vulkan/icd.d/lvp_icd*.json' >/dev/null &&
    # ldconfig lives in /sbin, which a non-root PATH may lack. Not `grep -q`: it stops reading at
    # the first match, ldconfig then dies of SIGPIPE, and pipefail turns the match into a failure.
    "$(command -v ldconfig || echo /sbin/ldconfig)" -p 2>/dev/null | grep 'libvulkan.so.1' >/dev/null
}

mesa_major() {
  dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | sed -E 's/^([0-9]+:)?([0-9]+).*/\2/'
}

if has_lavapipe && [[ "$(mesa_major)" =~ ^[0-9]+$ ]] && (( $(mesa_major) >= 23 )); then
  say "lavapipe already installed (mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)); nothing to do."
  exit 0
fi

[[ "$(uname -s)" == "Linux" ]] || die "this script is for Linux. On macOS/Windows Dawn uses Metal/D3D12 directly; nothing to install."
command -v apt-get >/dev/null || die "apt-get not found. Install Mesa >= 23 with its Vulkan drivers (lavapipe) and the Vulkan loader (libvulkan1) with your package manager."

SUDO=""
if [[ "$(id -u)" != "0" ]]; then
  command -v sudo >/dev/null || die "needs root to install packages (run as root or install sudo)."
  SUDO="sudo"
fi

. /etc/os-release
export DEBIAN_FRONTEND=noninteractive
if [[ "${ID:-}" == "debian" && "${VERSION_CODENAME:-}" == "bookworm" ]]; then
  list=/etc/apt/sources.list.d/bookworm-backports.list
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    say "adding bookworm-backports to apt sources ($list)"
    echo 'deb http://deb.debian.org/debian bookworm-backports main' | $SUDO tee "$list" >/dev/null
  fi
  say "apt-get update"
  $SUDO apt-get update -qq
  say "installing mesa-vulkan-drivers + libvulkan1 from bookworm-backports"
  $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1
else
  say "apt-get update"
  $SUDO apt-get update -qq
  say "installing mesa-vulkan-drivers + libvulkan1 from ${PRETTY_NAME:-this distribution}"
  $SUDO apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers libvulkan1
fi

has_lavapipe || die "installed packages but no lavapipe ICD found under /usr/share/vulkan/icd.d."
v="$(mesa_major)"
if [[ "$v" =~ ^[0-9]+$ ]] && (( v < 23 )); then
  die "Mesa $v installed, but Dawn needs Mesa >= 23. Use a newer distribution or its backports."
fi
say "done: lavapipe from mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
