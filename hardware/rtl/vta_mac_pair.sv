// Two int8 products from one DSP48E1 (25 x 18 signed): outputs o and o+1 of the MAC array share the
// input x, so one multiplier computes x * (w_hi * 2^PW + w_lo) and the two products are taken apart
// again. The DSP48's post-adder adds 2^(PW-1) + 2^(2PW-1) on the way from M to P, so the low PW bits
// hold the low product plus 2^(PW-1) (it is within +-2^(PW-2): no borrow from the high one) and the PW
// bits above the high product plus 2^(PW-1) (modulo 2^PW): both in offset binary (product + 2^(PW-1),
// as unsigned), the form the carry-save tree after it sums, straight from P with no logic between. The packed weight needs PW + WGT_W + 1 bits (25 at int8:
// port A). When it applies is vta_pkg::GEMM_PACK (vta/hw/gemm_packing.h, shared with the area model).
// REGS = 1: the DSP48's M and P registers (enables m_en_i, p_en_i); REGS = 0 only for the proof of the
// arithmetic (tests/hardware/synth_forms), which Verilator never simulates: its MAC array computes the
// plain dot products (vta_compute_pipe.sv).
module vta_mac_pair #(
  parameter int unsigned INP_W = 8,
  parameter int unsigned WGT_W = 8,
  parameter bit          REGS  = 1'b1
) (
  input  logic                    clk_i,
  input  logic                    m_en_i,
  input  logic                    p_en_i,
  input  logic signed [INP_W-1:0] x_i,
  input  logic signed [WGT_W-1:0] w_lo_i,
  input  logic signed [WGT_W-1:0] w_hi_i,
  output logic [INP_W+WGT_W-1:0]  lo_o,    // x * w_lo + 2^(PW-1), PW = INP_W + WGT_W
  output logic [INP_W+WGT_W-1:0]  hi_o     // x * w_hi + 2^(PW-1)
);
  localparam int unsigned PW  = INP_W + WGT_W;
  localparam int unsigned PKW = PW + WGT_W + 1;
  localparam int unsigned MW  = PKW + INP_W;
  localparam logic [MW-1:0] OFFSET = (MW'(1) << (PW - 1)) | (MW'(1) << (2 * PW - 1));
  logic signed [PKW-1:0] w_packed;
  logic signed [MW-1:0]  p, p_m, p_p;
  assign w_packed = PKW'($signed({w_hi_i, {PW{1'b0}}})) + PKW'(w_lo_i);
  assign p        = w_packed * x_i;
  if (REGS) begin : g_regs
    always_ff @(posedge clk_i) begin
      if (m_en_i) p_m <= p;
      if (p_en_i) p_p <= p_m + OFFSET;
    end
  end else begin : g_comb
    assign p_m = p;
    assign p_p = p_m + OFFSET;
    logic unused_en;
    assign unused_en = ^{clk_i, m_en_i, p_en_i};
  end
  assign lo_o = p_p[PW-1:0];
  assign hi_o = p_p[PW +: PW];
  logic unused_top;
  assign unused_top = ^p_p[MW-1:2*PW];
endmodule
