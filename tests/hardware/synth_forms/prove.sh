#!/bin/sh
# Proves the synthesis forms of the RTL's arithmetic helpers equal to the plain arithmetic Verilator
# simulates (vta_add: carry-select segments; vta_csa_tree: a 3:2 compressor tree), for every input, with
# Yosys' SAT solver. The tree is proved at small sizes (every shape of level: remainders 0, 1 and 2, one
# to four levels); SAT on wide adder trees takes too long, and the generator is the same at every size.
#   prove.sh <rtl dir>
set -eu
rtl=$1
here=$(dirname "$0")
prove() {  # <top> <file> <params...>
  top=$1; file=$2; shift 2
  echo "prove $top $*"
  yosys -q -p "read_verilog -sv -formal $rtl/vta_add.sv $rtl/vta_csa_tree.sv $here/$file; chparam $* $top;
               hierarchy -top $top; proc; flatten; opt -fast; sat -prove-asserts -verify"
}
for w in 13 25 37; do prove add_check add_check.sv -set W $w; done
for n in 1 2 3 4 5 7; do prove csa_tree_check csa_tree_check.sv -set N $n -set W 6; done
echo "all proved"
