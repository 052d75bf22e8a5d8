// The synthesis form of vta_add (the carry-select segments Verilator never sees) against a + b + cin:
// proved for every input by Yosys' SAT solver (tests/hardware/synth_forms/prove.sh).
module add_check #(
  parameter int unsigned W = 37
) (
  input logic [W-1:0] a,
  input logic [W-1:0] b,
  input logic         cin
);
  logic [W-1:0] sum;
  vta_add #(.W(W)) u_add (.a_i(a), .b_i(b), .cin_i(cin), .sum_o(sum));
  always_comb assert (sum == W'(a + b + W'(cin)));
endmodule
