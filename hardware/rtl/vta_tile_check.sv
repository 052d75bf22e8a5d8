// Bounds check of a dense on-chip tile: rows x cols elements from sram_base must lie inside a buffer of
// DEPTH_A elements (DEPTH_B with depth_b_i: a module that loads two buffers) (the rule fsim applies to LOAD and STORE: sram_base + rows * cols <= depth). The
// instruction's full 16-bit sram_base is checked, not its low index bits, so a tile never wraps silently.
// last_o is the index of the tile's last element (what the core reports in ERROR_ADDR), or sram_base
// for an empty tile.
// Built for a short path between registers: the tile's rows and cols come from the command queue (the
// top adds the padding as it queues the instruction), the multiply goes through two registers with
// nothing between, the DSP48's M and P, and P adds sram_base (the DSP's post-adder), so the end index
// is a register and the check a test of its bits against the buffer's power-of-two depth. M takes the
// product of whatever is on the command queue every cycle (no enable: the logic that decides to take an
// instruction stays off the DSP's paths); the sum is taken in hold_en_i's cycle, which must be the one
// right after the module took the instruction (a register's output; sram_base_i holds from then on);
// oob_o holds from the cycle after on, last_o (a subtraction, needed only to report an error) from the
// cycle after that.
module vta_tile_check #(
  parameter int unsigned DEPTH_A = 1024,   // powers of two
  parameter int unsigned DEPTH_B = DEPTH_A,
  // oob_o a cycle later, from a register (the compute front end, whose state decision it feeds)
  parameter bit          OOB_REG = 1'b0
) (
  input  logic        clk_i,
  input  logic        hold_en_i,
  input  logic [16:0] rows_i,        // at most 15 + 65535 + 15 with padding
  input  logic [16:0] cols_i,
  input  logic [15:0] sram_base_i,   // from the check's cycle on
  input  logic        depth_b_i,     // the tile is in the DEPTH_B buffer
  output logic        oob_o,
  output logic [31:0] last_o
);
  logic [33:0] tile_m_q, end_q;
  logic        empty_m_q, empty_q;
  always_ff @(posedge clk_i) begin
    tile_m_q  <= 34'(rows_i) * 34'(cols_i);
    empty_m_q <= (rows_i == '0) || (cols_i == '0);
    if (hold_en_i) begin
      end_q   <= tile_m_q + 34'(sram_base_i);  // one past the last element
      empty_q <= empty_m_q;
    end
  end
  // end_q > depth, for a power-of-two depth: a bit above it set, or its bit and one below
  function automatic logic past(input logic [33:0] e, input int unsigned depth);
    logic [33:0] d, below;
    d     = 34'(depth);
    below = d - 34'd1;
    past  = ((e & ~(below | d)) != '0) || (((e & d) != '0) && ((e & below) != '0));
  endfunction
  logic oob;
  assign oob = depth_b_i ? past(end_q, DEPTH_B) : past(end_q, DEPTH_A);
  if (OOB_REG) begin : g_oob_reg
    logic oob_q;
    always_ff @(posedge clk_i) oob_q <= oob;
    assign oob_o = oob_q;
  end else begin : g_oob
    assign oob_o = oob;
  end
  if ((DEPTH_A & (DEPTH_A - 1)) != 0 || (DEPTH_B & (DEPTH_B - 1)) != 0) begin : g_bad_depth
    $error("vta_tile_check: buffer depths must be powers of two");
  end

  logic [31:0] end_m1, last_q;
  vta_add #(.W(32)) u_last (.a_i(end_q[31:0]), .b_i('1), .cin_i(1'b0), .sum_o(end_m1));
  always_ff @(posedge clk_i) last_q <= empty_q ? 32'(sram_base_i) : end_m1;
  assign last_o = last_q;
endmodule
