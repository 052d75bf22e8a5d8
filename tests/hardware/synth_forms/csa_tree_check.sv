// The synthesis form of vta_csa_tree (the carry-save tree Verilator never sees) against the plain sum:
// proved for every input by Yosys' SAT solver (tests/hardware/synth_forms/prove.sh).
module csa_tree_check #(
  parameter int unsigned N = 7,
  parameter int unsigned W = 6
) (
  input logic [N*W-1:0] ops
);
  logic [W-1:0] s, c, ref_sum;
  vta_csa_tree #(.N(N), .W(W)) u_tree (.ops_i(ops), .sum_o(s), .carry_o(c));
  always_comb begin
    ref_sum = '0;
    for (int unsigned k = 0; k < N; k++) ref_sum = ref_sum + ops[k * W +: W];
  end
  always_comb assert (W'(s + c) == ref_sum);
endmodule
