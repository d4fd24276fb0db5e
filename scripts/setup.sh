#!/usr/bin/env bash
# One-time (and idempotent) set-up of a Debian/Ubuntu machine for RP-SAM2:
#
#   1. checks Node.js >= 20 and npm (refuses with a message naming what is missing);
#   2. installs Mesa's software Vulkan driver (lavapipe) so that WebGPU works without a GPU
#      (scripts/install-lavapipe.sh; harmless next to a real GPU driver);
#   3. installs the DejaVu fonts (figure labels) and Debian's chromium for the browser test (never a
#      downloaded browser), and Debian's redis-server (the job queue of `bench embed --queue`; its
#      test starts a private one);
#   4. installs pnpm at the version pinned in package.json's "packageManager";
#   5. installs the node dependencies exactly as locked (pnpm install --frozen-lockfile);
#   6. builds every package (pnpm build);
#   7. checks that Node gets a WebGPU adapter.
#
# Run it again at any time: each step skips what is already done.
# Environment:
#   RPSAM2_SKIP_LAVAPIPE=1  do not install lavapipe (you have a GPU driver, or no root)
#   RPSAM2_SKIP_BROWSER=1   do not install chromium; `pnpm test` then skips the browser test
#   CHROMIUM_PATH=/path     use this Chromium instead of /usr/bin/chromium
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\n[setup] %s\n' "$*"; }
note() { printf '[setup]   %s\n' "$*"; }
die() { printf '\n[setup] ERROR: %s\n' "$*" >&2; exit 1; }

STEP_T0=0
step() { STEP_T0=$SECONDS; say "$*"; }
done_step() { note "done in $((SECONDS - STEP_T0)) s"; }

# Root runs apt directly; anyone else needs sudo. Only the apt steps need it.
SUDO=""
if [[ "$(id -u)" != "0" ]] && command -v sudo >/dev/null; then SUDO="sudo"; fi
can_apt() { command -v apt-get >/dev/null && { [[ "$(id -u)" == "0" ]] || [[ -n "$SUDO" ]]; }; }
APT_UPDATED=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if (( ! APT_UPDATED )); then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# ---------------------------------------------------------------------------------------------
step "1/7 Node.js >= 20 and npm"
if ! command -v node >/dev/null || (( $(node_major) < 20 )); then
  # Only a distribution that packages Node >= 20 (Debian trixie, Ubuntu 24.10+) can be helped
  # here; bookworm's own nodejs is 18.
  cand="$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ {print $2}' | sed -E 's/^([0-9]+:)?([0-9]+).*/\2/' || true)"
  if can_apt && [[ "$cand" =~ ^[0-9]+$ ]] && (( cand >= 20 )); then
    note "installing nodejs $cand and npm from apt"
    apt_install nodejs npm
  else
    have="$(command -v node >/dev/null && node -v || echo 'none')"
    die "Node.js >= 20 is required (found: $have). Install Node.js 20 or newer with npm
  (e.g. from https://nodejs.org or NodeSource's apt repository: nodejs 20.x), then rerun: bash scripts/setup.sh"
  fi
fi
command -v npm >/dev/null || die "npm is missing (it comes with Node.js; on Debian: apt-get install npm). It is needed to install pnpm."
note "node $(node -v), npm $(npm -v)"
done_step

# ---------------------------------------------------------------------------------------------
step "2/7 WebGPU driver for machines without a GPU: Mesa lavapipe (software Vulkan)"
if [[ "$(uname -s)" != "Linux" ]]; then
  note "not Linux: Dawn uses Metal/D3D12 directly; nothing to install."
elif [[ "${RPSAM2_SKIP_LAVAPIPE:-}" == "1" ]]; then
  note "RPSAM2_SKIP_LAVAPIPE=1: skipped (your GPU's Vulkan driver must then be installed)."
else
  # The script checks first and only touches apt when lavapipe (Mesa >= 23) is missing; it fails
  # with its own message when there is no apt or no root.
  bash scripts/install-lavapipe.sh || die "could not install lavapipe (see above). With a GPU and its Vulkan driver, rerun with RPSAM2_SKIP_LAVAPIPE=1."
fi
done_step

# ---------------------------------------------------------------------------------------------
step "3/7 fonts for the benchmark figures, Chromium for the browser test, redis-server for the job queue"
# The figures (resvg) draw their labels with DejaVu Sans from the system's font folders.
if [[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]]; then
  note "found DejaVu Sans"
elif can_apt; then
  apt_install fonts-dejavu-core || die "apt-get could not install fonts-dejavu-core (the figures need a font)."
else
  note "WARNING: no DejaVu Sans and no apt: figures will have no text. Install the DejaVu fonts to fix it."
fi
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ "${RPSAM2_SKIP_BROWSER:-}" == "1" ]]; then
  note "RPSAM2_SKIP_BROWSER=1: skipped; pnpm test will skip the browser test."
elif [[ -x "$CHROMIUM" ]]; then
  note "found $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null | head -n1 || echo 'version unknown'))"
elif can_apt; then
  # Debian calls the package chromium; fonts-liberation gives the screenshot readable text.
  note "installing chromium from apt (a few minutes)"
  apt_install chromium fonts-liberation || die "apt-get could not install chromium. Install it yourself, or rerun with RPSAM2_SKIP_BROWSER=1."
  [[ -x "$CHROMIUM" ]] || die "chromium installed but $CHROMIUM is not there; set CHROMIUM_PATH to its binary."
  note "installed $("$CHROMIUM" --version 2>/dev/null | head -n1)"
else
  die "no Chromium at $CHROMIUM and no apt (or no root/sudo) to install it. Install Chromium and set CHROMIUM_PATH,
  or rerun with RPSAM2_SKIP_BROWSER=1 to set up without the browser test."
fi
# The distributed mode (`bench embed --queue`, `bench worker`) queues its jobs in Redis (BullMQ);
# its test starts a private redis-server on a loopback port, so only the binary is needed (Debian's
# package also registers a system service, which nothing here starts or uses).
if command -v redis-server >/dev/null; then
  note "found $(redis-server --version | cut -d' ' -f1-3)"
elif can_apt; then
  apt_install redis-server || die "apt-get could not install redis-server (the job queue's test needs it)."
  note "installed $(redis-server --version | cut -d' ' -f1-3)"
else
  die "no redis-server and no apt (or no root/sudo) to install it. Install Redis (>= 6.2) so that redis-server is on PATH
  (or set REDIS_SERVER to its binary): the job queue's test (packages/bench/test/queue-embed.test.ts) starts one."
fi
done_step

# ---------------------------------------------------------------------------------------------
step "4/7 pnpm at the version pinned in package.json"
PNPM_VERSION="$(node -p 'require("./package.json").packageManager.split("@")[1]')"
[[ "$PNPM_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "package.json's packageManager field does not pin a pnpm version (found '$PNPM_VERSION')."
current="$(pnpm -v 2>/dev/null || true)"
if [[ "$current" == "$PNPM_VERSION" ]]; then
  note "pnpm $current already installed"
else
  # Not corepack: its signature check fails on some machines. npm's global install is enough.
  note "installing pnpm@$PNPM_VERSION with npm (found: ${current:-none})"
  npm_sudo=""
  [[ -w "$(npm prefix -g)" ]] || npm_sudo="$SUDO"
  $npm_sudo npm install -g --no-fund --no-audit "pnpm@$PNPM_VERSION" ||
    die "npm could not install pnpm@$PNPM_VERSION globally (no write access to $(npm prefix -g)? run as root, or set npm's prefix to a folder on your PATH)."
  hash -r
  current="$(pnpm -v 2>/dev/null || true)"
  [[ "$current" == "$PNPM_VERSION" ]] ||
    die "pnpm on PATH is '${current:-missing}' ($(command -v pnpm || echo 'not found')), expected $PNPM_VERSION. Put $(npm prefix -g)/bin first on your PATH."
fi
done_step

# ---------------------------------------------------------------------------------------------
step "5/7 node dependencies (pnpm install --frozen-lockfile)"
# Exactly the versions in pnpm-lock.yaml. Build scripts run only for the packages approved in
# pnpm-workspace.yaml (esbuild, webgpu). Before the first build pnpm may warn that it cannot
# link the rpsam2-check-ops bin into the packages that depend on @rpsam2/tensor: harmless.
pnpm install --frozen-lockfile
done_step

# ---------------------------------------------------------------------------------------------
step "6/7 build every package (pnpm build)"
pnpm build
done_step

# ---------------------------------------------------------------------------------------------
step "7/7 check: Node gets a WebGPU adapter"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
node --input-type=module -e '
  const { initNode } = await import("./packages/tensor/dist/node.js");
  const { shutdown } = await import("./packages/tensor/dist/index.js");
  try {
    const b = await initNode();
    const a = b.info.adapter;
    console.log(`[setup]   WebGPU adapter: ${[a.vendor, a.architecture, a.description || a.device].filter(Boolean).join(" / ")}`);
    shutdown();
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
' || die "Node found no WebGPU adapter (see above). Without a GPU, lavapipe must be installed (step 2)."
done_step

say "ready. Run the test suite with: pnpm test"
