// Three operands and a constant to two whose sum is theirs (modulo 2^W), in one LUT level: a full adder of
// the three (u, and v one place up), then u + v + K by half adders with the constant's bits folded in (at
// a place where K has a one, 1 + u + v leaves ~(u ^ v) and carries u | v; else u ^ v and u & v). Each output
// bit is then a function of the three operands' bits at two places, one LUT6, where a carry-save tree of
// the four operands takes two levels. The GEMM's S2X adds the accumulator, the carry-save pair of the
// products and the offsets' total back out (vta_compute_pipe). Verilator sees the plain sum and a zero
// carry; tests/hardware/synth_forms proves the two forms equal.
module vta_csa_3k #(
  parameter int unsigned    W = 32,
  parameter logic [W-1:0]   K = '0
) (
  input  logic [W-1:0] a_i,
  input  logic [W-1:0] b_i,
  input  logic [W-1:0] c_i,
  output logic [W-1:0] sum_o,
  output logic [W-1:0] carry_o
);
`ifdef VTA_SIM_ARITH
  assign sum_o   = a_i + b_i + c_i + K;
  assign carry_o = '0;
`else
  logic [W-1:0] u, v;
  assign u       = a_i ^ b_i ^ c_i;
  assign v       = {(a_i[W-2:0] & b_i[W-2:0]) | (a_i[W-2:0] & c_i[W-2:0]) | (b_i[W-2:0] & c_i[W-2:0]), 1'b0};
  assign sum_o   = u ^ v ^ K;
  assign carry_o = {(u[W-2:0] & v[W-2:0]) | (K[W-2:0] & (u[W-2:0] | v[W-2:0])), 1'b0};
`endif
endmodule
