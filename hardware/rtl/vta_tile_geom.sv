// A LOAD tile's geometry (vta_hw_pkg::tile_geom_t), from the instruction a module takes off its command
// queue and the tile's rows and cols queued with it: the sums in the cycle it is taken, the first data
// element's offset (y_pad_0 rows of cols elements, by shifted adds, plus x_pad_0) as two partial sums in
// the next, so that no path between registers holds more than one short add. geom_o holds from the
// second cycle after take_i until the next take_i.
module vta_tile_geom (
  input  logic                          clk_i,
  input  logic                          take_i,
  /* verilator lint_off UNUSEDSIGNAL */  // only the tile fields are read
  input  logic [vta_pkg::INSN_BITS-1:0] insn_i,
  /* verilator lint_on UNUSEDSIGNAL */
  input  logic [16:0]                   rows_i,
  input  logic [16:0]                   cols_i,
  output vta_hw_pkg::tile_geom_t        geom_o
);
  /* verilator lint_off UNUSEDSIGNAL */  // a typed view: only the tile fields are read
  vta_pkg::mem_insn_t mi;
  /* verilator lint_on UNUSEDSIGNAL */
  assign mi = insn_i;
  logic [17:0] rows_q, cols_q, col_end_q;
  logic [3:0]  y_pad_0_q, x_pad_0_q;
  logic [15:0] first_a_q, first_b_q, cols16;
  always_ff @(posedge clk_i) begin
    if (take_i) begin
      rows_q    <= 18'(rows_i);
      cols_q    <= 18'(cols_i);
      col_end_q <= 18'(mi.x_pad_0) + 18'(mi.x_size);
      y_pad_0_q <= mi.y_pad_0;
      x_pad_0_q <= mi.x_pad_0;
    end
  end
  assign cols16 = cols_q[15:0];
  always_ff @(posedge clk_i) begin
    first_a_q <= (y_pad_0_q[0] ? cols16 : '0) + (y_pad_0_q[1] ? cols16 << 1 : '0) + 16'(x_pad_0_q);
    first_b_q <= (y_pad_0_q[2] ? cols16 << 2 : '0) + (y_pad_0_q[3] ? cols16 << 3 : '0);
  end
  assign geom_o = {rows_q, cols_q, col_end_q, first_a_q, first_b_q};  // tile_geom_t's field order
endmodule
