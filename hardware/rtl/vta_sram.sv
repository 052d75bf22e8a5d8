// The on-chip buffer wrapper: a simple dual-port memory (one write port, one read port) with a
// synchronous, enable-gated read (rdata_o holds its value while re_i is low). Written so that Yosys
// infers block RAM and Verilator a plain array. A read of the address being written returns the old
// word (read-first); the compute pipeline never relies on either behaviour (it stalls on hazards).
// A word may be split into WE_W equal slices with a write enable each (the ACC and OUT buffers hold
// ACC_ROWS rows per word, so the ALU can read and write a group of rows in one cycle).
module vta_sram #(
  parameter int unsigned WIDTH = 32,
  parameter int unsigned DEPTH = 1024,
  parameter int unsigned WE_W  = 1,
  localparam int unsigned AW = $clog2(DEPTH),
  localparam int unsigned SW = WIDTH / WE_W
) (
  input  logic             clk_i,
  input  logic [WE_W-1:0]  we_i,
  input  logic [AW-1:0]    waddr_i,
  input  logic [WIDTH-1:0] wdata_i,
  input  logic             re_i,
  input  logic [AW-1:0]    raddr_i,
  output logic [WIDTH-1:0] rdata_o
);
  logic [WIDTH-1:0] mem_q [DEPTH];

  always_ff @(posedge clk_i) begin
    for (int unsigned s = 0; s < WE_W; s++) begin
      if (we_i[s]) mem_q[waddr_i][s * SW +: SW] <= wdata_i[s * SW +: SW];
    end
  end

  always_ff @(posedge clk_i) begin
    if (re_i) rdata_o <= mem_q[raddr_i];
  end
endmodule
