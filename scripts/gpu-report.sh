#!/usr/bin/env bash
# The one-command GPU report (issue #19): the op vectors, `bench kernels`, `bench sam2` (t and l,
# f32 and f16) and `bench train-step --sizes paper` on the lent GPU machine, combined into one
# gpu-report.json and gpu-report.md (`bench gpu-report`).
#
#   bash scripts/gpu-report.sh pack   # here, after `pnpm install && pnpm build`: fills .device/ and
#                                     # prints the `device run` call (carry: [".device"])
#   bash scripts/gpu-report.sh run    # there (or here, as a rehearsal): writes $OUT/gpu-report.json,
#                                     # $OUT/gpu-report.md, $OUT/gpu-report-parts.tar.gz
#
# The GPU machine has no Node.js and no network, and the working tree travels without
# node_modules, so `pack` puts everything the run needs into the git-ignored .device/:
#   node.xz, webgpu/ (Dawn, dawn.node.xz), libvulkan1_*.deb  from ../shared/device/pack.sh
#   app.tar.xz       the built packages and their runtime dependencies as a flat node_modules
#                    (scripts/pack-node-tree.mjs): no pnpm symlinks, no install there
#   fixtures/ops/    a copy of ../shared/fixtures/ops (../shared does not travel)
#
# `run` unpacks them into a temporary folder, makes Dawn find the NVIDIA Vulkan driver, and runs
# each part under `timeout`, within one time budget, so the whole call fits one device run; a part
# that fails or runs out of time is marked so in the report and the others still run.
#
# Settings of `run` (environment):
#   OUT                      where the report goes (default: test-artifacts/gpu-report)
#   GPU_REPORT_BUDGET_S      seconds for all parts together (default 420)
#   GPU_REPORT_SAM2_SIZES    default "t l";   GPU_REPORT_SAM2_DTYPES  default "f32 f16"
#   GPU_REPORT_TRAIN_SIZES   default "paper"; GPU_REPORT_KERNELS_ARGS default "--quick"
#   GPU_REPORT_OPS_FILTER    a check-ops --filter (default: every case)
#   GPU_REPORT_ALLOW_CPU=1   run the benches on a software adapter too (else they are skipped)
#   GPU_REPORT_REHEARSAL=1   the local rehearsal on lavapipe: tiny sizes (fixtures from ../shared),
#                            one kernel, the `add` op vectors, software adapter allowed
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SHARED="${RPSAM2_SHARED:-$ROOT/../shared}"
DEV=.device
# The device tool's limit on a run's command; pack prints a call that stays inside it.
RUN_TIMEOUT_S=540

die() {
  echo "gpu-report: $*" >&2
  exit 1
}

pack() {
  [[ -f packages/bench/dist/cli.js && -f packages/tensor/dist/cli/check-ops.js ]] || die "the built packages are missing: run \`pnpm build\` first"
  [[ -f "$SHARED/device/pack.sh" ]] || die "$SHARED/device/pack.sh not found (set RPSAM2_SHARED to the shared folder beside the checkout)"
  [[ -f "$SHARED/fixtures/ops/ops.json" ]] || die "$SHARED/fixtures/ops not found (the op vectors; set RPSAM2_SHARED)"
  # node, Dawn's webgpu package (compressed) and the Vulkan loader: the shared packer.
  bash "$SHARED/device/pack.sh" || die "$SHARED/device/pack.sh failed"
  local stage
  stage="$(mktemp -d)"
  node scripts/pack-node-tree.mjs packages/bench "$stage" --skip webgpu || die "packing the node_modules tree failed"
  tar -C "$stage" -cf - node_modules | xz -T2 -6 >"$DEV/app.tar.xz" || die "compressing the node_modules tree failed"
  rm -rf "$stage"
  mkdir -p "$DEV/fixtures/ops"
  cp "$SHARED/fixtures/ops/ops.json" "$SHARED/fixtures/ops/ops.safetensors" "$DEV/fixtures/ops/"
  # The device copy may have no git: name the code the report measures now.
  echo "packed: $(date -u +%Y-%m-%dT%H:%MZ) from commit $(git rev-parse --short HEAD)$(git status --porcelain --untracked-files=no | grep -q . && echo ' with uncommitted changes')" >"$DEV/packed.txt"
  local carried tree
  carried=$(du -sb "$DEV" | cut -f1)
  tree=$(git ls-files -co --exclude-standard -z | du --files0-from=- -cb 2>/dev/null | tail -1 | cut -f1)
  cat <<EOF

Packed .device/: $((carried / 1024 / 1024)) MiB carried, plus $((tree / 1024 / 1024)) MiB of working tree (limit 64 MiB together).
  $(cd "$DEV" && du -sh node.xz webgpu app.tar.xz fixtures libvulkan1_*.deb 2>/dev/null | awk '{printf "%s%s %s", NR > 1 ? ", " : "", $2, $1}')

On the lent GPU machine (one call; the parts share a budget of 420 s, GPU_REPORT_BUDGET_S):
  device run  carry: [".device"]  timeout_s: $RUN_TIMEOUT_S
              command: bash scripts/gpu-report.sh run
The report comes back as \$OUT/gpu-report.md, gpu-report.json and gpu-report-parts.tar.gz (raw outputs and logs).
Rehearse it here first (lavapipe, tiny sizes): GPU_REPORT_REHEARSAL=1 bash scripts/gpu-report.sh run
EOF
}

# --- run ---------------------------------------------------------------------------------------

# JSON string (the command lines here hold no control characters).
json_str() {
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# part <name> <kind> <limit s> <shown command> <command…>: runs it under timeout, stdout to
# <name>.json, stderr to <name>.log, and writes <name>.status for `bench gpu-report`.
part() {
  local name=$1 kind=$2 limit=$3 shown=$4
  shift 4
  local index=$NPARTS
  NPARTS=$((NPARTS + 1))
  local head="{\"index\":$index,\"kind\":\"$kind\",\"command\":$(json_str "$shown")"
  local left=$((DEADLINE - SECONDS))
  if [[ -n "$SKIP_REASON" ]]; then
    echo "$head,\"skipped\":$(json_str "$SKIP_REASON")}" >"$PARTS/$name.status"
    echo "== $name: skipped ($SKIP_REASON)"
    return 0
  fi
  if ((left < 15)); then
    echo "$head,\"skipped\":\"the time budget (GPU_REPORT_BUDGET_S=$BUDGET_S) was spent\"}" >"$PARTS/$name.status"
    echo "== $name: skipped (time budget spent)"
    return 0
  fi
  ((limit > left)) && limit=$left
  echo "== $name: $shown (limit ${limit} s)"
  local t0 rc ms
  t0=$(now_ms)
  timeout -k 5 "$limit" "$@" >"$PARTS/$name.json" 2>"$PARTS/$name.log"
  rc=$?
  ms=$(($(now_ms) - t0))
  echo "$head,\"exit\":$rc,\"seconds\":$((ms / 1000)).$(((ms % 1000) / 100)),\"timeoutS\":$limit}" >"$PARTS/$name.status"
  echo "   exit $rc after $((ms / 1000)).$(((ms % 1000) / 100)) s"
  return $rc
}

# Vulkan for Dawn: the system loader or the carried one, and an NVIDIA ICD file if none is
# registered (as ../shared/device/probe.sh does). Adds its choices to system.txt.
setup_vulkan() {
  if ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
    echo "vulkan loader: system" >>"$SYSTEM"
  elif ls "$DEV"/libvulkan1_*.deb >/dev/null 2>&1; then
    dpkg -x "$DEV"/libvulkan1_*.deb "$TMP/vk" && export LD_LIBRARY_PATH="$TMP/vk/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
    echo "vulkan loader: carried ($(basename "$DEV"/libvulkan1_*.deb))" >>"$SYSTEM"
  else
    echo "vulkan loader: none found (no libvulkan.so.1, none carried)" >>"$SYSTEM"
  fi
  local icd
  for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
    if [[ -e $icd ]]; then
      # The last one is where the device's driver mount puts it, outside the loader's search path.
      # (VK_DRIVER_FILES is the newer loaders' name, VK_ICD_FILENAMES the older ones'.)
      [[ $icd == /usr/local/* ]] && export VK_ICD_FILENAMES="$icd" VK_DRIVER_FILES="$icd"
      echo "vulkan icd: $icd" >>"$SYSTEM"
      return 0
    fi
  done
  if ldconfig -p 2>/dev/null | grep -q libGLX_nvidia.so.0; then
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3"}}' >"$TMP/nvidia_icd.json"
    export VK_ICD_FILENAMES="$TMP/nvidia_icd.json" VK_DRIVER_FILES="$TMP/nvidia_icd.json"
    echo "vulkan icd: written, pointing at libGLX_nvidia.so.0" >>"$SYSTEM"
  else
    echo "vulkan icd: no NVIDIA driver found (icd.d holds: $(ls /usr/share/vulkan/icd.d 2>/dev/null | xargs))" >>"$SYSTEM"
  fi
}

run() {
  local out="${OUT:-$ROOT/test-artifacts/gpu-report}"
  mkdir -p "$out" || die "cannot create $out"
  [[ -f $DEV/node.xz && -f $DEV/app.tar.xz && -f $DEV/webgpu/dist/linux-x64/dawn.node.xz ]] ||
    die "$DEV/ is not packed: run \`bash scripts/gpu-report.sh pack\` here and pass carry: [\".device\"] to the device run"
  # Here (not on the device, where dist/ does not travel) a build newer than the pack means the
  # report would measure old code.
  if [[ packages/bench/dist/cli.js -nt $DEV/app.tar.xz || packages/tensor/dist/index.js -nt $DEV/app.tar.xz ]]; then
    echo "gpu-report: warning: the packages were built after .device/ was packed: run \`bash scripts/gpu-report.sh pack\` to measure the current build" >&2
  fi
  TMP="$(mktemp -d)"
  PARTS="$TMP/parts"
  SYSTEM="$PARTS/system.txt"
  mkdir -p "$PARTS"
  local t0=$SECONDS

  # Rehearsal defaults first; explicit settings win.
  local sam2_sizes="t l" sam2_dtypes="f32 f16" train_sizes="paper" kernels_args="--quick" ops_filter="" allow_cpu=0
  if [[ ${GPU_REPORT_REHEARSAL:-0} == 1 ]]; then
    sam2_sizes="tiny256" sam2_dtypes="f32 f16" train_sizes="tiny256" kernels_args="--quick --only matmul-256" ops_filter="add" allow_cpu=1
    export SAM2_FIXTURES="${SAM2_FIXTURES:-$SHARED/fixtures/sam2}" RPSAM2_FIXTURES="${RPSAM2_FIXTURES:-$SHARED/fixtures/rpsam2}"
  fi
  sam2_sizes=${GPU_REPORT_SAM2_SIZES:-$sam2_sizes}
  sam2_dtypes=${GPU_REPORT_SAM2_DTYPES:-$sam2_dtypes}
  train_sizes=${GPU_REPORT_TRAIN_SIZES:-$train_sizes}
  kernels_args=${GPU_REPORT_KERNELS_ARGS:-$kernels_args}
  ops_filter=${GPU_REPORT_OPS_FILTER:-$ops_filter}
  allow_cpu=${GPU_REPORT_ALLOW_CPU:-$allow_cpu}
  BUDGET_S=${GPU_REPORT_BUDGET_S:-420}

  # Node, the packages and Dawn, unpacked beside each other: node_modules/@rpsam2/bench finds
  # its dependencies and `webgpu` in the same flat node_modules.
  xz -dc "$DEV/node.xz" >"$TMP/node" && chmod +x "$TMP/node" || die "unpacking node failed"
  mkdir -p "$TMP/app" && tar -C "$TMP/app" -xJf "$DEV/app.tar.xz" || die "unpacking $DEV/app.tar.xz failed"
  local wg="$TMP/app/node_modules/webgpu"
  mkdir -p "$wg/dist/linux-x64" && cp "$DEV/webgpu/package.json" "$DEV/webgpu/index.js" "$wg/" &&
    xz -dc "$DEV/webgpu/dist/linux-x64/dawn.node.xz" >"$wg/dist/linux-x64/dawn.node" || die "unpacking Dawn failed"
  export XDG_RUNTIME_DIR="$TMP"
  local node="$TMP/node" bench="$TMP/app/node_modules/@rpsam2/bench/dist/cli.js"
  local checkops="$TMP/app/node_modules/@rpsam2/tensor/dist/cli/check-ops.js"

  {
    echo "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1 | grep . || echo 'no NVIDIA GPU (nvidia-smi found none)')"
    echo "host: $(uname -srm), $(nproc) CPUs"
    echo "node: $("$node" --version)"
    cat "$DEV/packed.txt" 2>/dev/null
    echo "budget: ${BUDGET_S} s for all parts"
    [[ ${GPU_REPORT_REHEARSAL:-0} == 1 ]] && echo "mode: rehearsal (GPU_REPORT_REHEARSAL=1: tiny sizes, one kernel, add op vectors)"
  } >"$SYSTEM"
  setup_vulkan
  cat "$SYSTEM"

  DEADLINE=$((SECONDS + BUDGET_S))
  NPARTS=0
  SKIP_REASON=""
  # On a software adapter the benches would only run out of time: skip them unless allowed.
  local adapter_args=(--json)
  [[ $allow_cpu != 1 ]] && adapter_args+=(--require-gpu)
  part adapter adapter 60 "bench adapter ${adapter_args[*]}" "$node" "$bench" adapter "${adapter_args[@]}"
  local rc=$?
  if [[ $rc == 3 ]]; then
    SKIP_REASON="software adapter: no GPU under Dawn (GPU_REPORT_ALLOW_CPU=1 runs anyway)"
  elif [[ $rc != 0 ]]; then
    SKIP_REASON="the adapter part failed (exit $rc): no WebGPU adapter"
  fi
  local ops_args=("$DEV/fixtures/ops" --json)
  [[ -n $ops_filter ]] && ops_args+=(--filter "$ops_filter")
  part ops ops 120 "check-ops ${ops_args[*]}" "$node" "$checkops" "${ops_args[@]}"
  # shellcheck disable=SC2086 # word splitting of the flag lists is intended
  part kernels kernels 150 "bench kernels --json $kernels_args" "$node" "$bench" kernels --json $kernels_args
  local size dtype
  for dtype in $sam2_dtypes; do
    for size in $sam2_sizes; do
      # One process per size: a size that runs out of time loses only its own numbers.
      part "sam2-$size-$dtype" sam2 180 "bench sam2 --json --quick --sizes $size --dtype $dtype" "$node" "$bench" sam2 --json --quick --sizes "$size" --dtype "$dtype"
    done
    # The training step after the f32 sizes: it matters more than the f16 timings.
    if [[ $dtype == "${sam2_dtypes%% *}" ]]; then
      for size in $train_sizes; do
        part "train-step-$size" train-step 150 "bench train-step --json --quick --sizes $size" "$node" "$bench" train-step --json --quick --sizes "$size"
      done
    fi
  done

  echo "== report ($((SECONDS - t0)) s so far)"
  if ! "$node" "$bench" gpu-report "$PARTS" --out "$out"; then
    # Even without the builder, leave something readable.
    {
      echo "# GPU report (the report builder failed)"
      echo
      echo '```'
      cat "$SYSTEM"
      for f in "$PARTS"/*.status; do echo "$(basename "$f" .status): $(cat "$f")"; done
      echo '```'
    } >"$out/gpu-report.md"
    cat "$out/gpu-report.md"
  fi
  tar -C "$PARTS" -czf "$out/gpu-report-parts.tar.gz" .
  echo "== done in $((SECONDS - t0)) s: $out/gpu-report.md, gpu-report.json, gpu-report-parts.tar.gz"
  rm -rf "$TMP"
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *)
    echo "usage: bash scripts/gpu-report.sh pack|run   (see the top of this file)" >&2
    exit 2
    ;;
esac
