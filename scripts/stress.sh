#!/usr/bin/env bash
# The stress run (label `slow` of tests/hardware/tsim_stress_test and tsim_stress_compiler_test): random
# stress programs on the RTL core (tsim) against fsim over every shipped config and three memory systems,
# one in eight with an injected error both must report alike, then random conv2d/dense shapes through the
# compiler on fsim and tsim against the CPU reference. Prints the count and the wall time; exits non-zero
# on any failure (failing programs are saved as trace directories, see docs/testing.md).
#   scripts/stress.sh [BUILD_DIR]      (default build/; configured and built with the two test targets)
# Environment: VTA_STRESS_COUNT (programs in all, 10000), VTA_STRESS_SEED, VTA_STRESS_JOBS (processes, 2),
# VTA_STRESS_OPS (conv2d shapes per config, 40; dense: half as many), VTA_STRESS_FAILURE_DIR,
# VTA_STRESS_OOR=0 / VTA_STRESS_FINISH=0 (turn those illegal classes off).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${1:-build}
jobs=${VTA_STRESS_JOBS:-2}
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  echo "stress: $build is not a configured build directory (cmake -S . -B $build -G Ninja)" >&2
  exit 2
fi
cmake --build "$build" --target tsim_stress_test tsim_stress_compiler_test -j2 >/dev/null ||
  { echo "stress: building tsim_stress_test failed (is Verilator installed? tsim is needed)" >&2; exit 2; }

logs=$(mktemp -d)
status=0
start=$(date +%s.%N)
pids=()
for ((i = 0; i < jobs; i++)); do
  VTA_STRESS_SLOW=1 GTEST_TOTAL_SHARDS=$jobs GTEST_SHARD_INDEX=$i "$build/tests/hardware/tsim_stress_test" \
    --gtest_filter='Configs/TsimStressSlow.*' >"$logs/programs.$i.log" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
mid=$(date +%s.%N)
VTA_STRESS_SLOW=1 "$build/tests/hardware/tsim_stress_compiler_test" --gtest_filter='Configs/TsimRandomOpsSlow.*' \
  >"$logs/ops.log" 2>&1 || status=1
end=$(date +%s.%N)

cat "$logs"/programs.*.log "$logs/ops.log" | grep -E '^\[  (FAILED|     OK) |STRESS|Failure|error' || true
read -r programs illegal <<<"$(cat "$logs"/programs.*.log | awk '/STRESS .* programs/ {
  for (i = 1; i <= NF; i++) { if ($(i) ~ /^programs$/) p += $(i - 1); if ($(i) == "illegal),") q += substr($(i - 1), 2) }
} END { print p + 0, q + 0 }')"
read -r convs denses <<<"$(awk '/STRESS-OPS/ { c += $6; d += $9 } END { print c + 0, d + 0 }' "$logs/ops.log")"
printf 'stress: %d programs (%d with an injected error) on tsim vs fsim in %.1f s wall (%d processes); ' \
  "$programs" "$illegal" "$(awk "BEGIN { print $mid - $start }")" "$jobs"
printf '%d conv2d + %d dense shapes on fsim and tsim vs the CPU reference in %.1f s; total %.1f s; %s\n' \
  "$convs" "$denses" "$(awk "BEGIN { print $end - $mid }")" "$(awk "BEGIN { print $end - $start }")" "$([[ $status == 0 ]] && echo PASS || echo FAIL)"
echo "stress: logs in $logs"
exit "$status"
