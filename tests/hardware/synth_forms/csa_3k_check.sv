// The synthesis form of vta_csa_3k (three operands and a constant to two in one level) against the plain
// sum: proved for every input by Yosys' SAT solver (prove.sh).
module csa_3k_check #(
  parameter int unsigned  W = 8,
  parameter logic [W-1:0] K = 8'hE0
) (
  input logic [W-1:0] a,
  input logic [W-1:0] b,
  input logic [W-1:0] c
);
  logic [W-1:0] s, cy;
  vta_csa_3k #(.W(W), .K(K)) u_dut (.a_i(a), .b_i(b), .c_i(c), .sum_o(s), .carry_o(cy));
  always_comb assert (W'(s + cy) == W'(a + b + c + K));
endmodule
