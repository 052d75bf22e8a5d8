// The synthesis form of vta_sum_eq (the carry-free test of a + b against w) against the plain compare:
// proved for every input by Yosys' SAT solver (tests/hardware/synth_forms/prove.sh).
module sum_eq_check #(
  parameter int unsigned W  = 11,
  parameter int unsigned LO = 2
) (
  input logic [W-1:0]    a,
  input logic [W-1:0]    b,
  input logic [W-LO-1:0] w
);
  logic eq;
  logic [W-1:0] sum;
  vta_sum_eq #(.W(W), .LO(LO)) u_eq (.a_i(a), .b_i(b), .w_i(w), .eq_o(eq));
  assign sum = a + b;
  always_comb assert (eq == (sum[W-1:LO] == w));
endmodule
