// The synthesis form of two int8 products in one DSP48 (vta_mac_pair: packed weight, one multiply, the
// post-adder's offset, the products taken apart) against the plain products, in the offset binary the
// carry-save tree takes: proved for every input by Yosys' SAT solver (tests/hardware/synth_forms/prove.sh).
// The registers (M, P) are left out (REGS = 0): they only delay, with the same enables.
module mac_pair_check #(
  parameter int unsigned INP_W = 8,
  parameter int unsigned WGT_W = 8
) (
  input logic signed [INP_W-1:0] x,
  input logic signed [WGT_W-1:0] w_lo,
  input logic signed [WGT_W-1:0] w_hi
);
  localparam int unsigned PW = INP_W + WGT_W;
  logic [PW-1:0] lo, hi;
  vta_mac_pair #(.INP_W(INP_W), .WGT_W(WGT_W), .REGS(1'b0)) u_pair (
    .clk_i(1'b0), .m_en_i(1'b0), .p_en_i(1'b0), .x_i(x), .w_lo_i(w_lo), .w_hi_i(w_hi), .lo_o(lo), .hi_o(hi));
  logic signed [PW-1:0] ref_lo, ref_hi;
  assign ref_lo = PW'(x) * PW'(w_lo);
  assign ref_hi = PW'(x) * PW'(w_hi);
  always_comb assert (lo == PW'(ref_lo) + PW'(1 << (PW - 1)) && hi == PW'(ref_hi) + PW'(1 << (PW - 1)));
endmodule
