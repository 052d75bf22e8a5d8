// N operands to two whose sum is theirs (modulo 2^W): a carry-save (Wallace) tree of 3:2 compressors.
// Each level turns every three operands into two (the bitwise sum, and the carries one place up) and
// passes the rest on, so the path is one LUT per level (16 operands: 6 levels) and no carry chain: the
// one carry-propagate add is left to the consumer, a stage later. Verilator sees the plain sum and a
// zero carry vector (the same sum; a simulator evaluates one add, not the tree's bitwise operations);
// tests/hardware proves the tree equal to the sum with Yosys' SAT solver.
module vta_csa_tree #(
  parameter int unsigned N = 16,
  parameter int unsigned W = 20
) (
  input  logic [N*W-1:0] ops_i,
  output logic [W-1:0]   sum_o,
  output logic [W-1:0]   carry_o
);
  // operands left after `lvl` levels
  function automatic int unsigned count_at(input int unsigned n, input int unsigned lvl);
    count_at = n;
    for (int unsigned i = 0; i < lvl; i++) count_at = (count_at / 3) * 2 + count_at % 3;
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
    for (genvar g = 0; g < NL / 3; g++) begin : g_fa
      logic [W-1:0] a, b, c;
      assign a = v[BI + 3 * g];
      assign b = v[BI + 3 * g + 1];
      assign c = v[BI + 3 * g + 2];
      assign v[BO + 2 * g]     = a ^ b ^ c;
      assign v[BO + 2 * g + 1] = {((a[W-2:0] & b[W-2:0]) | (a[W-2:0] & c[W-2:0]) | (b[W-2:0] & c[W-2:0])), 1'b0};
      logic unused_top;
      assign unused_top = a[W-1] ^ b[W-1] ^ c[W-1];  // its carry leaves the W bits
    end
    for (genvar r = 0; r < NL % 3; r++) begin : g_pass
      assign v[BO + 2 * (NL / 3) + r] = v[BI + 3 * (NL / 3) + r];
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
