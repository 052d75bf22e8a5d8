// A W-bit adder with a short path: a carry-select adder. The operands are cut into segments of at most
// SEG bits; every segment but the lowest is added twice, with carry-in 0 and 1, beside the others, and
// the carries ripple through one select per segment, so the path is one segment's carry chain plus a
// few LUTs (a 37-bit add: 7 cells between registers instead of 11). Adds of one segment stay plain.
// cin_i adds one more (a - b is a + ~b with cin_i = 1). Verilator sees the same sum as one add (its
// evaluation per cycle is the simulator's cost, not the carry chain's).
module vta_add #(
  parameter int unsigned W = 32
) (
  input  logic [W-1:0] a_i,
  input  logic [W-1:0] b_i,
  input  logic         cin_i,
  output logic [W-1:0] sum_o
);
`ifdef VTA_SIM_ARITH
  // the same sum as one add: a simulator evaluates one operation, not two per segment and the selects
  localparam int unsigned SEG  = W;
`else
  localparam int unsigned SEG  = 12;
`endif
  localparam int unsigned NSEG = (W + SEG - 1) / SEG;
  if (NSEG == 1) begin : g_plain
    assign sum_o = a_i + b_i + W'(cin_i);
  end else begin : g_select
    localparam int unsigned S = (W + NSEG - 1) / NSEG;  // segment width, the top one may be narrower
    logic [NSEG:0] carry /*verilator split_var*/;  // into each segment
    assign carry[0] = cin_i;
    for (genvar k = 0; k < NSEG; k++) begin : g_seg
      localparam int unsigned LO = k * S;
      localparam int unsigned N  = (W - LO < S) ? W - LO : S;
      // operands one bit wider at the bottom: that bit's sum carries the carry-in (1 + c carries c)
      logic [N+1:0] s0, s1;
      logic         unused_slots;
      assign s0 = {1'b0, a_i[LO +: N], 1'b0} + {1'b0, b_i[LO +: N], 1'b0};
      assign s1 = {1'b0, a_i[LO +: N], 1'b1} + {1'b0, b_i[LO +: N], 1'b1};
      assign sum_o[LO +: N] = carry[k] ? s1[N:1] : s0[N:1];
      assign carry[k+1]     = carry[k] ? s1[N+1] : s0[N+1];
      assign unused_slots   = s0[0] ^ s1[0];
    end
    logic unused_carry;
    assign unused_carry = carry[NSEG];
  end
endmodule
