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

  logic do_write, do_read;
  assign wready_o = (count_q != DEPTH[AW:0]);
  assign rvalid_o = (count_q != '0);
  assign rdata_o  = mem_q[rptr_q];
  assign count_o  = count_q;
  assign do_write = wvalid_i && wready_o;
  assign do_read  = rvalid_o && rready_i;

  always_ff @(posedge clk_i) begin
    if (do_write) mem_q[wptr_q] <= wdata_i;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wptr_q  <= '0;
      rptr_q  <= '0;
      count_q <= '0;
    end else if (clear_i) begin
      wptr_q  <= '0;
      rptr_q  <= '0;
      count_q <= '0;
    end else begin
      if (do_write) wptr_q <= wptr_q + 1'b1;
      if (do_read) rptr_q <= rptr_q + 1'b1;
      unique case ({do_write, do_read})
        2'b10:   count_q <= count_q + 1'b1;
        2'b01:   count_q <= count_q - 1'b1;
        default: count_q <= count_q;
      endcase
    end
  end
endmodule
