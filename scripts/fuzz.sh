#!/usr/bin/env bash
# Longer fuzzing runs (docs/fuzzing.md): builds the libFuzzer configuration (clang, VTA_FUZZ=ON, ASan +
# UBSan) into build-fuzz/ (or $VTA_FUZZ_BUILD_DIR) and runs every harness, one after the other, for
# SECONDS each (default 300), printing executions, new coverage units and findings per harness.
#   scripts/fuzz.sh [SECONDS] [HARNESS...]      e.g. scripts/fuzz.sh 60 npy trace
# New inputs go to <build>/tests/fuzz/long/<harness>/corpus (the committed seeds are read, never
# changed); a crash, hang, out-of-memory or sanitizer report is written to .../artifacts/ — fix the reader,
# then copy the input to tests/fuzz/regressions/<harness>/. Exits 1 if any harness found something.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${1:-300}
shift || true
build=${VTA_FUZZ_BUILD_DIR:-build-fuzz}
generator=()
[[ -f "$build/CMakeCache.txt" ]] || generator=(-G Ninja)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
# The RTL simulation is left out: nothing fuzzed needs it and instrumenting the Verilated models is slow.
cmake -S . -B "$build" "${generator[@]}" "${launcher[@]}" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DVTA_FUZZ=ON -DVTA_BUILD_BENCH=OFF -DVTA_VERILATOR_EXECUTABLE=OFF >/dev/null

harnesses=("$@")
if ((${#harnesses[@]} == 0)); then
  for f in tests/fuzz/fuzz_*.cpp; do
    h=$(basename "$f" .cpp)
    h=${h#fuzz_}
    [[ "$h" == common || "$h" == main || "$h" == replay_test ]] && continue
    harnesses+=("$h")
  done
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done
cmake --build "$build" --target "${targets[@]}" -j"$(nproc)"

status=0
printf '%-14s %8s %12s %10s %9s  %s\n' harness seconds executions exec/s new_units findings
for h in "${harnesses[@]}"; do
  bin="$build/tests/fuzz/fuzz_$h"
  [[ -x "$bin" ]] || { echo "$h: not built (its reader is not part of this build)"; continue; }
  work="$build/tests/fuzz/long/$h"
  mkdir -p "$work/corpus" "$work/artifacts"
  dirs=("$work/corpus" "tests/fuzz/corpus/$h")
  [[ -d "tests/fuzz/regressions/$h" ]] && dirs+=("tests/fuzz/regressions/$h")
  dict=()
  [[ -f "tests/fuzz/dict/$h.dict" ]] && dict=(-dict="tests/fuzz/dict/$h.dict")
  rc=0
  "$bin" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "${dict[@]}" "${dirs[@]}" >"$work/log.txt" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log.txt")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log.txt")
  units=$(sed -n 's/^stat::new_units_added: *//p' "$work/log.txt")
  findings=none
  if ((rc != 0)); then
    status=1
    findings="exit $rc: $(grep -m1 -E 'ERROR|SUMMARY|property failed|runtime error' "$work/log.txt" || true); see $work/log.txt"
  fi
  printf '%-14s %8s %12s %10s %9s  %s\n' "$h" "$seconds" "${execs:-?}" "${rate:-?}" "${units:-?}" "$findings"
done
exit "$status"
