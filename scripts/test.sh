#!/usr/bin/env bash
# Sets up the machine, builds everything into build/ and runs the test suite (all but the `slow` label).
# The exit status is ctest's.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

generator=()
if [[ ! -f build/CMakeCache.txt ]]; then
  generator=(-G Ninja)
fi
cmake -S . -B build "${generator[@]}"
cmake --build build -j"$(nproc)"

set +e
ctest --test-dir build --output-on-failure -LE slow -j2
status=$?
set -e
exit "$status"
