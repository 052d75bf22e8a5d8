// Bounds check of a dense on-chip tile: rows x cols elements from sram_base must lie inside a buffer of
// `depth_i` elements (the rule fsim applies to LOAD and STORE: sram_base + rows * cols <= depth). The
// instruction's full 16-bit sram_base is checked, not its low index bits, so a tile never wraps silently.
// last_o is the index of the tile's last element (what the core reports in ERROR_ADDR), or sram_base
// for an empty tile.
module vta_tile_check (
  input  logic [15:0] sram_base_i,
  input  logic [17:0] rows_i,
  input  logic [17:0] cols_i,
  input  logic [31:0] depth_i,
  output logic        oob_o,
  output logic [31:0] last_o
);
  logic [35:0] tile, end_idx;
  assign tile    = 36'(rows_i) * 36'(cols_i);
  assign end_idx = 36'(sram_base_i) + tile;   // one past the last element
  assign oob_o   = end_idx > 36'(depth_i);
  assign last_o  = (tile == '0) ? 32'(sram_base_i) : 32'(end_idx - 36'd1);
endmodule
