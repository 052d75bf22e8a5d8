// Whether bits [W-1:LO] of a + b equal w, without the add's carry chain: the carry into each bit that
// the equality needs is a ^ b ^ w there, and it must be the carry out of the bit below given the carry
// that one needed (or, for bit LO, the carry out of the low LO bits' add). So each bit's test is one
// LUT6 of six inputs, and an AND of them the answer: a few LUTs instead of an add (a carry chain) and a
// compare after it. Verilator sees the plain compare (VTA_SIM_ARITH); tests/hardware proves the two
// equal with Yosys' SAT solver.
module vta_sum_eq #(
  parameter int unsigned W  = 11,
  parameter int unsigned LO = 0    // the low bits left out of the comparison (they only carry)
) (
  input  logic [W-1:0]    a_i,
  input  logic [W-1:0]    b_i,
  input  logic [W-LO-1:0] w_i,
  output logic            eq_o
);
`ifdef VTA_SIM_ARITH
  logic [W-LO-1:0] sum;
  assign sum  = (W-LO)'(W'(a_i + b_i) >> LO);
  assign eq_o = (sum == w_i);
`else
  localparam int unsigned H = W - LO;
  logic [H-1:0] x, y, need, ok;
  logic         c_lo;  // the carry out of the low LO bits
  assign x = a_i[W-1:LO];
  assign y = b_i[W-1:LO];
  if (LO == 0) begin : g_no_low
    assign c_lo = 1'b0;
  end else begin : g_low
    logic [LO:0] low;
    assign low  = {1'b0, a_i[LO-1:0]} + {1'b0, b_i[LO-1:0]};
    assign c_lo = low[LO];
  end
  assign need = x ^ y ^ w_i;
  assign ok[0] = (need[0] == c_lo);
  for (genvar i = 1; i < H; i++) begin : g_bit
    assign ok[i] = (need[i] == ((x[i-1] & y[i-1]) | (x[i-1] & need[i-1]) | (y[i-1] & need[i-1])));
  end
  assign eq_o = &ok;
`endif
endmodule
