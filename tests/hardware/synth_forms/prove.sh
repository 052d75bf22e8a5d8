#!/bin/sh
# Proves the synthesis forms of the RTL's arithmetic helpers equal to the plain arithmetic Verilator
# simulates (vta_add: carry-select segments; vta_csa_tree: a tree of counters; vta_mac_pair: two int8
# products from one DSP48; vta_sum_eq: a sum's bits tested against a value without the add; vta_csa_3k:
# three operands and a constant to two in one level), for every input, with Yosys' SAT solver. The tree is proved at small sizes (every shape of level: full groups of six, rests of
# one to five, one to four levels, the GEMM's 16 operands at 3 bits); SAT on wide trees takes too long
# (16 operands of 4 bits: minutes), and the generator is the same at every size.
# vta_mac_pair at int8 is also checked exhaustively (mac_pair_exhaustive.cpp, verilated here).
#   prove.sh <rtl dir>
set -eu
rtl=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
prove() {  # <top> <file> <params...>
  top=$1; file=$2; shift 2
  echo "prove $top $*"
  yosys -q -p "read_verilog -sv -formal $rtl/vta_add.sv $rtl/vta_csa_tree.sv $rtl/vta_mac_pair.sv $rtl/vta_sum_eq.sv $rtl/vta_csa_3k.sv $here/$file; chparam $* $top;
               hierarchy -top $top; proc; flatten; opt -fast; sat -prove-asserts -verify"
}
for w in 13 25 37; do prove add_check add_check.sv -set W $w; done
for n in 1 2 3 4 5 7; do prove csa_tree_check csa_tree_check.sv -set N $n -set W 6; done
for p in "11 2" "11 0" "6 3"; do set -- $p; prove sum_eq_check sum_eq_check.sv -set W $1 -set LO $2; done
for k in 0 224 255 85 1; do prove csa_3k_check csa_3k_check.sv -set W 8 -set K $k; done
prove csa_3k_check csa_3k_check.sv -set W 13 -set K 7680
for n in 6 8 9; do prove csa_tree_check csa_tree_check.sv -set N $n -set W 4; done
for n in 11 16; do prove csa_tree_check csa_tree_check.sv -set N $n -set W 3; done
# SAT on the DSP48 packing: at small widths (the same generator; 8 x 8 would take the solver hours),
# and every one of the 2^24 int8 cases through Verilator
prove mac_pair_check mac_pair_check.sv -set INP_W 3 -set WGT_W 4
prove mac_pair_check mac_pair_check.sv -set INP_W 4 -set WGT_W 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
verilator --cc --exe --build -j 2 -O3 -Wno-fatal -GREGS=0 --top-module vta_mac_pair --Mdir "$tmp" \
  "$rtl/vta_mac_pair.sv" "$here/mac_pair_exhaustive.cpp" -o mac_pair_exhaustive > "$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log"; exit 1; }
"$tmp/mac_pair_exhaustive"
echo "all proved"
