// N operands to two whose sum is theirs (modulo 2^W): a carry-save tree of counters. Each level cuts
// its operands into groups of six: a group of four to six becomes three (per bit, the count of its ones:
// its bit 0 in place, bit 1 one place up, bit 2 two up; each output bit one LUT6 of the group's bits at
// that place), a group of three two (a full adder per bit), one or two pass on. So the path is one LUT
// per level and no carry chain: 16 operands in four levels (16, 9, 5, 3, 2; a tree of 3:2 compressors
// needs six), and the one carry-propagate add is left to the consumer, a stage later. Verilator sees
// the plain sum and a zero carry vector (the same sum; a simulator evaluates one add, not the tree's
// bitwise operations); tests/hardware proves the tree equal to the sum with Yosys' SAT solver.
module vta_csa_tree #(
  parameter int unsigned N = 16,
  parameter int unsigned W = 20
) (
  input  logic [N*W-1:0] ops_i,
  output logic [W-1:0]   sum_o,
  output logic [W-1:0]   carry_o
);
  // operands after one level from n: three per full group of six, three for a rest of four or five,
  // two for a rest of three, the rest as it is
  function automatic int unsigned next_count(input int unsigned n);
    int unsigned r;
    r = n % 6;
    next_count = (n / 6) * 3 + ((r >= 4) ? 3 : (r == 3) ? 2 : r);
  endfunction
  // the number of ones among six bits, as logic (full adders), not an add: synthesis would give an add a
  // carry chain, where each bit of the count is one LUT6 of the six
  function automatic logic [2:0] ones6(input logic [5:0] b);
    logic s1, c1, s2, c2;
    s1 = b[0] ^ b[1] ^ b[2];
    c1 = (b[0] & b[1]) | (b[0] & b[2]) | (b[1] & b[2]);
    s2 = b[3] ^ b[4] ^ b[5];
    c2 = (b[3] & b[4]) | (b[3] & b[5]) | (b[4] & b[5]);
    ones6 = {(c1 & c2) | (c1 & s1 & s2) | (c2 & s1 & s2), c1 ^ c2 ^ (s1 & s2), s1 ^ s2};
  endfunction
  // operands left after `lvl` levels
  function automatic int unsigned count_at(input int unsigned n, input int unsigned lvl);
    count_at = n;
    for (int unsigned i = 0; i < lvl; i++) count_at = next_count(count_at);
  endfunction
  // levels to two operands (or one)
  function automatic int unsigned levels(input int unsigned n);
    levels = 0;
    while (count_at(n, levels) > 2) levels++;
  endfunction
  // where level `lvl`'s operands start in the flat array of all levels
  function automatic int unsigned base_of(input int unsigned n, input int unsigned lvl);
    base_of = 0;
    for (int unsigned i = 0; i < lvl; i++) base_of += count_at(n, i);
  endfunction

`ifdef VTA_SIM_ARITH
  always_comb begin
    sum_o = '0;
    for (int unsigned k = 0; k < N; k++) sum_o = sum_o + ops_i[k * W +: W];
  end
  assign carry_o = '0;
`else
  localparam int unsigned L     = levels(N);
  localparam int unsigned TOTAL = base_of(N, L + 1);
  logic [W-1:0] v [TOTAL] /*verilator split_var*/;  // levels feed levels: one variable per operand
  for (genvar k = 0; k < N; k++) begin : g_in
    assign v[k] = ops_i[k * W +: W];
  end
  for (genvar l = 0; l < L; l++) begin : g_level
    localparam int unsigned NL = count_at(N, l);
    localparam int unsigned BI = base_of(N, l);
    localparam int unsigned BO = base_of(N, l + 1);
    localparam int unsigned NG = NL / 6;           // full groups
    localparam int unsigned RK = NL % 6;           // the rest's size
    // a group of K operands from v[IN] to its outputs from v[OUT]: the count of ones at each place
    for (genvar g = 0; g <= NG; g++) begin : g_grp
      localparam int unsigned K   = (g < NG) ? 6 : RK;
      localparam int unsigned IN  = BI + 6 * g;
      localparam int unsigned OUT = BO + 3 * g;
      if (K >= 3) begin : g_count
        logic [W-1:0] o0, o1, o2;
        assign o1[0] = 1'b0;
        assign o2[1:0] = '0;
        for (genvar j = 0; j < W; j++) begin : g_bit
          logic [5:0] bits;
          logic [2:0] cnt;
          for (genvar i = 0; i < 6; i++) begin : g_op
            if (i < K) begin : g_in
              assign bits[i] = v[IN + i][j];
            end else begin : g_zero
              assign bits[i] = 1'b0;
            end
          end
          assign cnt = ones6(bits);
          assign o0[j] = cnt[0];
          if (j + 1 < W) begin : g_c1
            assign o1[j + 1] = cnt[1];
          end else begin : g_top1
            logic unused_c1;
            assign unused_c1 = cnt[1];  // past bit W-1
          end
          if (j + 2 < W) begin : g_c2
            assign o2[j + 2] = cnt[2];
          end else begin : g_top2
            logic unused_c2;
            assign unused_c2 = cnt[2];
          end
        end
        assign v[OUT]     = o0;
        assign v[OUT + 1] = o1;
        if (K >= 4) begin : g_three
          assign v[OUT + 2] = o2;
        end else begin : g_two
          logic unused_o2;
          assign unused_o2 = ^o2;  // three ones at most: bit 2 is zero
        end
      end else begin : g_pass
        for (genvar r = 0; r < K; r++) begin : g_r
          assign v[OUT + r] = v[IN + r];
        end
      end
    end
  end
  localparam int unsigned BL = base_of(N, L);
  assign sum_o = v[BL];
  if (count_at(N, L) > 1) begin : g_two
    assign carry_o = v[BL + 1];
  end else begin : g_one
    assign carry_o = '0;
  end
`endif
endmodule
