// One bank of the ACC buffer with its OUT shadow (OUT holds each ACC row's elements cut to OUT_W, written
// in the same cycle): ACC_ROWS rows per word, a write enable per row. Three writers, at most one in a
// cycle (vta_compute asserts it): the GEMM engine, the ALU engine and the ACC loader (one row of the
// word). One ACC read port (the engines), one OUT read port (the store). Reads are synchronous, enable-
// gated and read-first, as vta_sram's.
//
// Synthesis gets one write port per memory (block RAM): the writers multiplexed, loader first, then the
// ALU, then the GEMM. A simulator (VTA_SIM_ARITH, vta_hw_pkg.sv) picks the writer where the row is
// written: as a combinational multiplexer the two banks' 1024 bits were evaluated at every input change
// (the loader's data is the AXI read data), three times a cycle. Same contents in the same cycles:
// the traced model runs the synthesis form (tsim.synth_arith).
module vta_acc_bank #(
  parameter int unsigned DEPTH = 256,  // words
  localparam int unsigned AW    = $clog2(DEPTH),
  localparam int unsigned R     = vta_pkg::ACC_ROWS,
  localparam int unsigned LR    = vta_pkg::LOG_ACC_ROWS,
  localparam int unsigned ELEM  = vta_pkg::ACC_ELEM_BITS,
  localparam int unsigned OELEM = vta_pkg::OUT_ELEM_BITS
) (
  input  logic              clk_i,
  // writers: the GEMM engine, the ALU engine (enables per row), the ACC loader (one row)
  input  logic [R-1:0]      g_we_i,
  input  logic [AW-1:0]     g_waddr_i,
  input  logic [R*ELEM-1:0] g_wdata_i,
  input  logic [R-1:0]      a_we_i,
  input  logic [AW-1:0]     a_waddr_i,
  input  logic [R*ELEM-1:0] a_wdata_i,
  input  logic              l_we_i,
  input  logic [LR-1:0]     l_row_i,
  input  logic [AW-1:0]     l_waddr_i,
  input  logic [ELEM-1:0]   l_wdata_i,
  // ACC read
  input  logic              re_i,
  input  logic [AW-1:0]     raddr_i,
  output logic [R*ELEM-1:0] rdata_o,
  // OUT read
  input  logic               out_re_i,
  input  logic [AW-1:0]      out_raddr_i,
  output logic [R*OELEM-1:0] out_rdata_o
);
  localparam int unsigned ACC_W = vta_pkg::ACC_WIDTH;
  localparam int unsigned OUT_W = vta_pkg::OUT_WIDTH;
  localparam int unsigned LANES = ELEM / ACC_W;

  // a row cut to OUT_W per element
  function automatic logic [OELEM-1:0] out_row(input logic [ELEM-1:0] row);
    for (int unsigned l = 0; l < LANES; l++) out_row[l * OUT_W +: OUT_W] = row[l * ACC_W +: OUT_W];
  endfunction

`ifdef VTA_SIM_ARITH
  logic [R*ELEM-1:0]  acc_q [DEPTH];
  logic [R*OELEM-1:0] out_q [DEPTH];
  always_ff @(posedge clk_i) begin
    for (int unsigned r = 0; r < R; r++) begin
      if (l_we_i && l_row_i == LR'(r)) begin
        acc_q[l_waddr_i][r * ELEM +: ELEM]   <= l_wdata_i;
        out_q[l_waddr_i][r * OELEM +: OELEM] <= out_row(l_wdata_i);
      end else if (a_we_i[r]) begin
        acc_q[a_waddr_i][r * ELEM +: ELEM]   <= a_wdata_i[r * ELEM +: ELEM];
        out_q[a_waddr_i][r * OELEM +: OELEM] <= out_row(a_wdata_i[r * ELEM +: ELEM]);
      end else if (g_we_i[r]) begin
        acc_q[g_waddr_i][r * ELEM +: ELEM]   <= g_wdata_i[r * ELEM +: ELEM];
        out_q[g_waddr_i][r * OELEM +: OELEM] <= out_row(g_wdata_i[r * ELEM +: ELEM]);
      end
    end
  end
  always_ff @(posedge clk_i) begin
    if (re_i) rdata_o <= acc_q[raddr_i];
    if (out_re_i) out_rdata_o <= out_q[out_raddr_i];
  end
`else
  // The writer's two select bits are kept as nets, so that each data bit is one LUT of three data inputs
  // and these two (ABC had folded the selects' logic into the 1280 data bits' LUTs differently from run
  // to run: 1,500 LUTs apart between two runs of one multiplexer)
  (* keep *) logic l_sel, a_sel;
  logic [R-1:0]       we;
  logic [AW-1:0]      waddr;
  logic [R*ELEM-1:0]  wdata;
  logic [R*OELEM-1:0] out_wdata;
  assign l_sel = l_we_i;
  assign a_sel = a_we_i != '0;
  always_comb begin
    we    = g_we_i;
    waddr = g_waddr_i;
    wdata = g_wdata_i;
    if (l_sel) begin
      we    = R'(1) << l_row_i;
      waddr = l_waddr_i;
      wdata = {R{l_wdata_i}};
    end else if (a_sel) begin
      we    = a_we_i;
      waddr = a_waddr_i;
      wdata = a_wdata_i;
    end
  end
  for (genvar r = 0; r < R; r++) begin : g_trunc
    assign out_wdata[r * OELEM +: OELEM] = out_row(wdata[r * ELEM +: ELEM]);
  end
  vta_sram #(.WIDTH(R * ELEM), .DEPTH(DEPTH), .WE_W(R)) u_acc_buf (
    .clk_i, .we_i(we), .waddr_i(waddr), .wdata_i(wdata), .re_i, .raddr_i, .rdata_o);
  vta_sram #(.WIDTH(R * OELEM), .DEPTH(DEPTH), .WE_W(R)) u_out_buf (
    .clk_i, .we_i(we), .waddr_i(waddr), .wdata_i(out_wdata), .re_i(out_re_i), .raddr_i(out_raddr_i),
    .rdata_o(out_rdata_o));
`endif
endmodule
