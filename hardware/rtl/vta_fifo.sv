// Generic synchronous FIFO, first-word fall-through: rdata_o shows the head whenever rvalid_o is high.
// DEPTH must be a power of two (>= 2). The storage is a plain array (LUT RAM on FPGAs).
// clear_i empties the FIFO synchronously.
module vta_fifo #(
  parameter int unsigned WIDTH = 32,
  parameter int unsigned DEPTH = 16,
  localparam int unsigned AW = $clog2(DEPTH)
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             clear_i,
  // write side
  input  logic             wvalid_i,
  output logic             wready_o,
  input  logic [WIDTH-1:0] wdata_i,
  // read side
  output logic             rvalid_o,
  input  logic             rready_i,
  output logic [WIDTH-1:0] rdata_o,
  // occupancy
  output logic [AW:0]      count_o
);
  logic [WIDTH-1:0] mem_q [DEPTH];
  logic [AW-1:0] wptr_q, rptr_q;
  logic [AW:0] count_q;

  // not full and not empty as registers, set from the count and this cycle's handshakes (a FIFO's
  // valid and ready are on its neighbours' paths; a compare of the count would lengthen them)
  logic do_write, do_read, wready_q, rvalid_q;
  assign wready_o = wready_q;
  assign rvalid_o = rvalid_q;
  assign rdata_o  = mem_q[rptr_q];
  assign count_o  = count_q;
  assign do_write = wvalid_i && wready_o;
  assign do_read  = rvalid_o && rready_i;

  always_ff @(posedge clk_i) begin
    if (do_write) mem_q[wptr_q] <= wdata_i;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wptr_q   <= '0;
      rptr_q   <= '0;
      count_q  <= '0;
      wready_q <= 1'b1;
      rvalid_q <= 1'b0;
    end else if (clear_i) begin
      wptr_q   <= '0;
      rptr_q   <= '0;
      count_q  <= '0;
      wready_q <= 1'b1;
      rvalid_q <= 1'b0;
    end else begin
      // full next: DEPTH - 1 entries and a write without a read; empty next: one entry, a read, no write
      wready_q <= do_read || (count_q < (AW + 1)'(DEPTH - 1)) || (wready_q && !do_write);
      rvalid_q <= do_write || (count_q > (AW + 1)'(1)) || (rvalid_q && !do_read);
      if (do_write) wptr_q <= wptr_q + 1'b1;
      if (do_read) rptr_q <= rptr_q + 1'b1;
      unique case ({do_write, do_read})
        2'b10:   count_q <= count_q + 1'b1;
        2'b01:   count_q <= count_q - 1'b1;
        default: count_q <= count_q;
      endcase
    end
  end

`ifndef SYNTHESIS
  // (from the first reset on: before it, at power-on, the registers hold whatever they start with)
  logic was_reset_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) was_reset_q <= 1'b1;
  end
  /* verilator lint_off SYNCASYNCNET */
  always_ff @(posedge clk_i) begin
    if (rst_ni && was_reset_q === 1'b1) begin
      FlagsFollowCount: assert (wready_q == (count_q != DEPTH[AW:0]) && rvalid_q == (count_q != '0))
        else $error("vta_fifo: full/empty flags (%0d, %0d) disagree with the count %0d", wready_q, rvalid_q, count_q);
    end
  end
  /* verilator lint_on SYNCASYNCNET */
`endif
endmodule
