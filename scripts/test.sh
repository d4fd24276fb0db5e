#!/usr/bin/env bash
# The whole test suite (`pnpm test`), after `bash scripts/setup.sh`:
#
#   1. pnpm build      — refreshes dist/ (turbo: a cache hit when nothing changed), which the
#                        next two steps run;
#   2. unit tests      — vitest run (every packages/*/test/**/*.test.ts, on Dawn + your Vulkan driver);
#   3. op vectors      — pnpm check-ops ../shared/fixtures/ops (PyTorch goldens, skipped when absent);
#   4. browser test    — @rpsam2/tensor in headless Chromium on WebGPU (skipped with RPSAM2_SKIP_BROWSER=1);
#   5. labeling page   — the studio's end-to-end test: the built page in headless Chromium, one click
#                        with the default model, COCO export (skipped with RPSAM2_SKIP_BROWSER=1);
#   6. API reference   — typedoc (typedoc.json) into a temporary folder: fails on any TypeDoc warning
#                        or error, e.g. an exported declaration without a doc comment.
#   7. type check      — pnpm typecheck (tsc --noEmit in every package, its tests included: the
#                        build's type check covers the published sources only).
#
# Every step runs even when an earlier one failed. The output ends with one line
# `N passed, M failed` summing the steps' counts (a step that fails without reporting counts
# adds 1 failed); the exit status is 1 when anything failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH"
# Dawn and Chromium look for a runtime dir; containers and CI often have none.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
if [[ ! -x node_modules/.bin/vitest ]]; then
  echo "node dependencies are not installed: run \`bash scripts/setup.sh\` first." >&2
  echo "0 passed, 1 failed"
  exit 1
fi
FIXTURES="$ROOT/../shared/fixtures/ops"
ART="$ROOT/test-artifacts"
mkdir -p "$ART"

TOTAL_PASSED=0
TOTAL_FAILED=0
SUMMARY=()

# record <label> <exit status> <passed> <failed> <seconds>
record() {
  local label=$1 rc=$2 p=$3 f=$4 s=$5
  # A failing step that reported no failures (crash, bad setup) still counts as one.
  if [[ "$rc" != 0 && "$f" == 0 ]]; then f=1; fi
  TOTAL_PASSED=$((TOTAL_PASSED + p))
  TOTAL_FAILED=$((TOTAL_FAILED + f))
  SUMMARY+=("$(printf '  %-30s %4d passed, %3d failed  (%d s)' "$label" "$p" "$f" "$s")")
}

# Counts from the last `N passed, M failed` line of a log (0 0 when there is none).
counts_from_log() {
  local line
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)"
  if [[ -n "$line" ]]; then sed -E 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/' <<<"$line"; else echo "0 0"; fi
}

header() { printf '\n==== %s ====\n' "$*"; }

# ---------------------------------------------------------------------------------------------
header "1/7 build (pnpm build)"
t=$SECONDS
pnpm build >"$ART/build.log" 2>&1
rc=$?
# The full build log is long; on failure show enough to see the error.
tail -n "$([[ $rc == 0 ]] && echo 6 || echo 40)" "$ART/build.log"
# The build counts only when it fails: it is a precondition, not a test.
if [[ $rc == 0 ]]; then SUMMARY+=("$(printf '  %-30s ok  (%d s)' build $((SECONDS - t)))"); else
  echo "build failed (full log: test-artifacts/build.log); the steps below may run a stale dist/"
  record "build" 1 0 1 $((SECONDS - t))
fi

# ---------------------------------------------------------------------------------------------
header "2/7 unit tests (vitest run)"
t=$SECONDS
rm -f "$ART/vitest.json" "$ART/vitest-failures.txt"
vitest run --reporter=default --reporter=json --outputFile.json="$ART/vitest.json"
rc=$?
read -r p f < <(node -e '
  const fs = require("fs");
  try {
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    // A test file that fails to load has no tests but still fails.
    const broken = r.testResults.filter((s) => s.status === "failed" && s.assertionResults.length === 0);
    // The failures, a line each, for the summary: a CI log that keeps only its tail still names them.
    // Written before the counts are printed (`read` returns on that line, with node still running);
    // a report this cannot read still gives its counts.
    try {
      // The first lines of the message, stack frames left out (a property test names its seed there).
      const gist = (m) => (m || "").split("\n").filter((l) => l.trim() && !/^\s+at /.test(l)).slice(0, 3).join(" | ").slice(0, 400);
      const fileOf = (s) => s.name.replace(process.cwd() + "/", "");
      const lines = broken.map((s) => `${fileOf(s)}: did not load or its worker died: ${gist(s.message)}`);
      for (const s of r.testResults) {
        for (const a of s.assertionResults.filter((a) => a.status === "failed")) lines.push(`${fileOf(s)} > ${a.fullName}: ${gist(a.failureMessages[0])}`);
      }
      fs.writeFileSync(process.argv[2], lines.join("\n"));
    } catch {}
    console.log(r.numPassedTests, r.numFailedTests + broken.length);
  } catch { console.log(0, 0); }
' "$ART/vitest.json" "$ART/vitest-failures.txt")
record "unit tests (vitest)" $rc "$p" "$f" $((SECONDS - t))

# ---------------------------------------------------------------------------------------------
header "3/7 op vectors (pnpm check-ops ../shared/fixtures/ops)"
t=$SECONDS
if [[ -f "$FIXTURES/ops.json" ]]; then
  pnpm check-ops "$FIXTURES" 2>&1 | tee "$ART/check-ops.log"
  rc=${PIPESTATUS[0]}
  read -r p f < <(counts_from_log "$ART/check-ops.log")
  record "op vectors (check-ops)" $rc "$p" "$f" $((SECONDS - t))
else
  echo "skipped: no fixtures at $FIXTURES (the shared fixtures live next to the repository, in ../shared/fixtures)"
  SUMMARY+=("  op vectors (check-ops)        skipped: no ../shared/fixtures/ops")
fi

# browser_step <label> <log file> <script>: runs a tsx script that drives Chromium and ends with
# `N passed, M failed` (skipped with RPSAM2_SKIP_BROWSER=1).
browser_step() {
  local label=$1 log=$2 script=$3 t=$SECONDS
  if [[ "${RPSAM2_SKIP_BROWSER:-}" == "1" ]]; then
    echo "skipped: RPSAM2_SKIP_BROWSER=1"
    SUMMARY+=("$(printf '  %-30s skipped: RPSAM2_SKIP_BROWSER=1' "$label")")
    return
  fi
  tsx "$script" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]} p f
  read -r p f < <(counts_from_log "$log")
  record "$label" $rc "$p" "$f" $((SECONDS - t))
}

# ---------------------------------------------------------------------------------------------
header "4/7 browser test (Chromium, WebGPU)"
browser_step "browser test" "$ART/browser.log" packages/tensor/test/browser/run.ts

# ---------------------------------------------------------------------------------------------
header "5/7 labeling page (studio end-to-end, Chromium, WebGPU)"
# The page was built by step 1 (turbo builds every package, the studio with Vite).
browser_step "labeling page (studio e2e)" "$ART/studio.log" packages/studio/test/studio.e2e.ts

# ---------------------------------------------------------------------------------------------
header "6/7 API reference (typedoc, no warnings)"
t=$SECONDS
DOCS_OUT="$(mktemp -d)"
typedoc --out "$DOCS_OUT" >"$ART/typedoc.log" 2>&1
rc=$?
rm -rf "$DOCS_OUT"
# TypeDoc colours its log even into a file; its `[warning]`/`[error]` lines (alone, or after the
# source position they concern), less the closing `Found N errors and M warnings`, are the
# problems (typedoc.json's treatValidationWarningsAsErrors also makes it exit non-zero on a
# validation warning such as an undocumented export).
problems="$(sed -E 's/\x1b\[[0-9;]*m//g' "$ART/typedoc.log" | grep -E '(^|[^[:alnum:]])\[(warning|error)\] ' | grep -vE '^\[(warning|error)\] Found [0-9]+ errors? and [0-9]+ warnings?$')"
if [[ $rc == 0 && -z "$problems" ]]; then
  echo "the API reference builds with no warnings"
  record "API reference (typedoc)" 0 1 0 $((SECONDS - t))
else
  [[ -n "$problems" ]] && printf '%s\n' "$problems" | head -n 40
  echo "typedoc: exit status $rc, $(grep -c . <<<"$problems") warning(s) or error(s) (full log: test-artifacts/typedoc.log)"
  record "API reference (typedoc)" "$rc" 0 1 $((SECONDS - t))
fi

# ---------------------------------------------------------------------------------------------
header "7/7 type check (pnpm typecheck: sources and tests)"
t=$SECONDS
pnpm typecheck >"$ART/typecheck.log" 2>&1
rc=$?
errors="$(grep -cE 'error TS[0-9]+' "$ART/typecheck.log")"
if [[ $rc == 0 ]]; then
  echo "every package type-checks, tests included"
  record "type check (tsc)" 0 1 0 $((SECONDS - t))
else
  grep -E 'error TS[0-9]+' "$ART/typecheck.log" | head -n 40
  echo "pnpm typecheck: exit status $rc, $errors type error(s) (full log: test-artifacts/typecheck.log)"
  record "type check (tsc)" "$rc" 0 1 $((SECONDS - t))
fi

# ---------------------------------------------------------------------------------------------
header "summary (logs in test-artifacts/)"
if [[ -s "$ART/vitest-failures.txt" ]]; then
  echo "failed unit tests:"
  sed 's/^/  /' "$ART/vitest-failures.txt" | head -n 20
fi
printf '%s\n' "${SUMMARY[@]}"
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
(( TOTAL_FAILED == 0 ))
