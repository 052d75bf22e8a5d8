#!/usr/bin/env bash
# Synthesizes the core with Yosys for Xilinx and prints the resource figures.
#   hardware/scripts/synth.sh <vta_pkg.sv> [family] [outdir]
# family: xc7 (7-series, default) or xcup (UltraScale+). The log and stat report go to outdir
# (default: a temporary directory). Figures: LUT, FF, DSP and block-RAM cells from `stat`.
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: $0 <generated vta_pkg.sv> [xc7|xcup] [outdir]" >&2
  exit 2
fi
pkg=$1
family=${2:-xc7}
out=${3:-$(mktemp -d)}
mkdir -p "$out"
rtl=$(cd "$(dirname "$0")/../rtl" && pwd)
srcs="$pkg $rtl/vta_hw_pkg.sv"
for f in "$rtl"/*.sv; do
  [[ $f == *_pkg.sv ]] || srcs+=" $f"
done
yosys -V
# -flatten: cross-module constant propagation; -noiopad: the core sits inside a larger design
# Yosys reports every BRAM port it narrows ("Resizing cell port"); keep warnings in a file, print a count.
yosys -q -l "$out/synth_$family.log" -p "
  read_verilog -sv $srcs
  hierarchy -check -top vta_top
  synth_xilinx -family $family -top vta_top -flatten -noiopad
  tee -o $out/stat_$family.txt stat
" 2> "$out/warnings_$family.txt"
echo "yosys warnings: $(grep -c . "$out/warnings_$family.txt" || true)" \
     "($(grep -vc 'Resizing cell port' "$out/warnings_$family.txt" || true) other than BRAM port resizing)"
echo "== $family ($out/stat_$family.txt)"
awk '
  $1 ~ /^LUT[1-6]$/        { lut += $2 }
  $1 ~ /^INV$/             { inv += $2 }
  $1 ~ /^FD[A-Z]*$/        { ffc += $2 }
  $1 ~ /^DSP48E[12]$/      { dsp += $2 }
  $1 ~ /^RAMB18E[12]$/     { b18 += $2 }
  $1 ~ /^RAMB36E[12]$/     { b36 += $2 }
  $1 ~ /^RAM(32|64|128|256)[XM]/ { lutram += $2 }
  END { printf "LUT %d (+%d INV)  FF %d  DSP %d  RAMB36 %d  RAMB18 %d  LUTRAM cells %d\n", lut, inv, ffc, dsp, b36, b18, lutram }
' "$out/stat_$family.txt"
