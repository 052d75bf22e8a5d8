#!/usr/bin/env bash
# Sets up the machine, builds the project (Release) into build/ and runs the demo and the fsim benchmark.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

# Reuse an existing build tree with whatever generator it was configured with.
generator=()
if [[ ! -f build/CMakeCache.txt ]]; then
  generator=(-G Ninja)
fi
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)" --target vta

echo
echo "== vta demo =="
build/tools/vta/vta demo
echo
echo "== vta bench fsim =="
build/tools/vta/vta bench fsim
