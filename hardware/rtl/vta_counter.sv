// A 64-bit event counter whose adders stay short: the low 24 bits add the increment, and the carries
// into bits 24..43 and 44..63 are registered and added a cycle later each, so no carry chain is longer
// than 24 bits (a 64-bit add would be 16 CARRY4 cells on one path). value_o is the count once
// settled_o is high (no carry on its way up: at most two cycles after an increment wraps the low part).
module vta_counter #(
  parameter int unsigned IW = 16  // increment bits
) (
  input  logic          clk_i,
  input  logic          rst_ni,
  input  logic          clear_i,
  input  logic          en_i,
  input  logic [IW-1:0] inc_i,
  output logic [63:0]   value_o,
  output logic          settled_o
);
  logic [23:0] lo_q;
  logic [19:0] mid_q, hi_q;
  logic        c_lo_q, c_mid_q;  // carries out of the low and middle parts, not yet added
  logic [24:0] lo_sum;
  logic [20:0] mid_sum;
  assign lo_sum  = {1'b0, lo_q} + 25'(inc_i);
  assign mid_sum = {1'b0, mid_q} + 21'(c_lo_q);
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      lo_q    <= '0;
      mid_q   <= '0;
      hi_q    <= '0;
      c_lo_q  <= 1'b0;
      c_mid_q <= 1'b0;
    end else if (clear_i) begin
      lo_q    <= '0;
      mid_q   <= '0;
      hi_q    <= '0;
      c_lo_q  <= 1'b0;
      c_mid_q <= 1'b0;
    end else begin
      if (en_i) lo_q <= lo_sum[23:0];
      c_lo_q  <= en_i && lo_sum[24];
      mid_q   <= mid_sum[19:0];
      c_mid_q <= mid_sum[20];
      hi_q    <= hi_q + 20'(c_mid_q);
    end
  end
  assign value_o   = {hi_q, mid_q, lo_q};
  assign settled_o = !c_lo_q && !c_mid_q;
endmodule
