// The bus guard of the soft reset: it follows every AXI4 transaction of the memory master (read bursts
// waiting for RLAST, write bursts waiting for their W beats and their B response) and, while drain_i is
// high (the core held in soft reset), finishes what the core had started: it keeps taking R beats and B
// responses (RREADY/BREADY stay high in the top) and sends the W beats still owed with WSTRB = 0, so no
// byte is written. drained_o rises when nothing is outstanding; only then may the core leave reset, so
// a late response can never reach a module of the next run. The top asks for drain only in a cycle
// where no valid waits for its ready, so no request is withdrawn.
module vta_axi_drain #(
  parameter int unsigned BURSTS = vta_hw_pkg::DRAIN_W_BURSTS
) (
  input  logic       clk_i,
  input  logic       rst_ni,
  input  logic       drain_i,
  // the memory master's handshakes (as seen on the top's ports)
  input  logic       ar_fire_i,
  input  logic       r_last_fire_i,
  input  logic       aw_fire_i,
  input  logic [7:0] awlen_i,
  input  logic       w_fire_i,
  input  logic       b_fire_i,
  // W channel while draining
  output logic       wvalid_o,
  output logic       wlast_o,
  output logic       drained_o
);
  logic [15:0] rd_out_q, b_out_q;   // read bursts without RLAST, write bursts without B
  logic [7:0]  wbeat_q;             // W beats already sent of the oldest owed burst
  logic        lf_rvalid, lf_wready;
  logic [7:0]  lf_len;
  logic [$clog2(BURSTS):0] lf_count;

  vta_fifo #(.WIDTH(8), .DEPTH(BURSTS)) u_owed (
    .clk_i, .rst_ni, .clear_i(1'b0),
    .wvalid_i(aw_fire_i), .wready_o(lf_wready), .wdata_i(awlen_i),
    .rvalid_o(lf_rvalid), .rready_i(w_fire_i && wlast_o), .rdata_o(lf_len), .count_o(lf_count)
  );

  assign wlast_o   = (wbeat_q == lf_len);
  assign wvalid_o  = drain_i && lf_rvalid;
  assign drained_o = (rd_out_q == '0) && (b_out_q == '0) && !lf_rvalid;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rd_out_q <= '0;
      b_out_q  <= '0;
      wbeat_q  <= '0;
    end else begin
      rd_out_q <= rd_out_q + 16'(ar_fire_i) - 16'(r_last_fire_i);
      b_out_q  <= b_out_q + 16'(aw_fire_i) - 16'(b_fire_i);
      if (w_fire_i) wbeat_q <= wlast_o ? 8'd0 : wbeat_q + 8'd1;
    end
  end

`ifndef SYNTHESIS
  /* verilator lint_off SYNCASYNCNET */
  // the store never has more bursts in flight than the guard can follow, and never sends W before AW
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      DrainOwedNoOverflow: assert (!aw_fire_i || lf_wready)
        else $error("vta_axi_drain: more than %0d write bursts owe W beats", BURSTS);
      DrainWAfterAw: assert (!w_fire_i || lf_rvalid)
        else $error("vta_axi_drain: a W beat without a write burst");
    end
  end
  /* verilator lint_on SYNCASYNCNET */
`endif

  logic unused_ok;
  assign unused_ok = ^lf_count;
endmodule
