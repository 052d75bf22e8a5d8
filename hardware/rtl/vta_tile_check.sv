// Bounds check of a dense on-chip tile: rows x cols elements from sram_base must lie inside a buffer of
// `depth_i` elements (the rule fsim applies to LOAD and STORE: sram_base + rows * cols <= depth). The
// instruction's full 16-bit sram_base is checked, not its low index bits, so a tile never wraps silently.
// last_o is the index of the tile's last element (what the core reports in ERROR_ADDR), or sram_base
// for an empty tile.
// rows x cols goes through two registers with nothing between it and the multiply (the DSP48's M and P
// registers): the operands are taken in mul_en_i's cycle (the instruction on the command queue), held
// in hold_en_i's (the next), and oob_o/last_o hold from the cycle after on.
module vta_tile_check (
  input  logic        clk_i,
  input  logic        mul_en_i,
  input  logic        hold_en_i,
  input  logic [16:0] rows_i,        // at most 15 + 65535 + 15 with padding
  input  logic [16:0] cols_i,
  input  logic [15:0] sram_base_i,   // from the check's cycle on
  input  logic [31:0] depth_i,
  output logic        oob_o,
  output logic [31:0] last_o
);
  logic [33:0] tile_m_q, tile_q, end_idx;
  always_ff @(posedge clk_i) begin
    if (mul_en_i) tile_m_q <= 34'(rows_i) * 34'(cols_i);
    if (hold_en_i) tile_q <= tile_m_q;
  end
  assign end_idx = 34'(sram_base_i) + tile_q;   // one past the last element
  assign oob_o   = end_idx > 34'(depth_i);
  assign last_o  = (tile_q == '0) ? 32'(sram_base_i) : 32'(end_idx - 34'd1);
endmodule
