#!/usr/bin/env bash
# Lints the core with Verilator (-Wall) for one generated package, twice: with the arithmetic as a
# simulator evaluates it and in its synthesis forms (+define+VTA_SYNTH_ARITH, rtl/vta_hw_pkg.sv).
#   hardware/scripts/lint.sh <vta_pkg.sv>
# Waivers live in the sources, each with a comment saying why. Exit status is Verilator's.
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: $0 <generated vta_pkg.sv>" >&2
  exit 2
fi
pkg=$1
rtl=$(cd "$(dirname "$0")/../rtl" && pwd)
srcs=("$pkg" "$rtl/vta_hw_pkg.sv")
for f in "$rtl"/*.sv; do
  [[ $f == *_pkg.sv ]] || srcs+=("$f")
done
verilator --version
verilator --lint-only -Wall --top-module vta_top "${srcs[@]}"
verilator --lint-only -Wall --top-module vta_top +define+VTA_SYNTH_ARITH "${srcs[@]}"
echo "lint clean: $pkg"
