#!/usr/bin/env bash
# The README's test command (and CI's, through .ci/run): installs what is missing, checks that the
# repository stands on its own, builds everything into build/ and runs the test suite (all but the `slow`
# label), then builds the AddressSanitizer/UndefinedBehaviorSanitizer configuration into build-asan/ and
# runs the suite again under the sanitizers, without the RTL simulation (the Verilated models are not
# instrumented, and building and running them twice would double CI's time). Every optional dependency must be present
# (VTA_REQUIRE_ALL): a missing Verilator or Python module fails the configure step instead of skipping tests.
#   VTA_TEST_SANITIZERS=0  skips the sanitizer pass (a quicker local run; CI always runs it)
# The exit status is non-zero if any step or test failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/check_repo.sh
bash scripts/setup.sh

configure() {  # configure <build dir> <cmake args...>
  local dir=$1
  shift
  local generator=()
  [[ -f "$dir/CMakeCache.txt" ]] || generator=(-G Ninja)
  cmake -S . -B "$dir" "${generator[@]}" -DVTA_REQUIRE_ALL=ON "$@"
}

status=0
start=$SECONDS
configure build
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -LE slow -j2 || status=1
echo "test: build/ suite finished in $((SECONDS - start)) s (status $status)"

if [[ "${VTA_TEST_SANITIZERS:-1}" != 0 ]]; then
  start=$SECONDS
  # Left out under the sanitizers: the SystemC tlm tests (SystemC switches coroutine stacks, which ASan
  # cannot follow: it warns that false reports may follow, then reports one) and model.flow (the
  # end-to-end Python test, several minutes in a Debug+ASan build; its C++ paths run in the unit tests).
  asan_exclude='^Tlm|^Shipped/Tlm|model\.flow'
  configure build-asan -DCMAKE_BUILD_TYPE=Debug -DVTA_SANITIZE=ON -DVTA_BUILD_BENCH=OFF -DVTA_BUILD_TSIM=OFF
  cmake --build build-asan -j"$(nproc)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -LE 'slow|rtl' -E "$asan_exclude" -j2 || status=1
  echo "test: build-asan/ (ASan+UBSan) suite finished in $((SECONDS - start)) s (status $status)"
fi
exit "$status"
