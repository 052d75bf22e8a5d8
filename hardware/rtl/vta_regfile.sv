// The AXI4-Lite register file of the core (the shell's control port; the compute core knows no AXI-Lite).
// Offsets, bits and counter indices come from vta_pkg (generated from isa/include/vta/isa/register_map.h,
// the copy the driver and tsim's harness use). Address and data of a write are taken together.
//
// CONTROL (write-only, reads 0): bit START pulses start_o (only when start_ok_i: not busy, not resetting),
// bit SOFT_RESET pulses soft_reset_o (wins over START when both are written), in the cycle after the write
// is taken. INSN_ADDR/INSN_COUNT are
// plain registers kept across soft resets; everything else is read from the core.
module vta_regfile #(
  parameter int unsigned BUS_W = 64,
  parameter int unsigned NC    = vta_pkg::NUM_COUNTERS
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  // AXI4-Lite slave
  input  logic              s_axil_awvalid_i,
  output logic              s_axil_awready_o,
  input  logic [11:0]       s_axil_awaddr_i,
  input  logic              s_axil_wvalid_i,
  output logic              s_axil_wready_o,
  input  logic [31:0]       s_axil_wdata_i,
  input  logic [3:0]        s_axil_wstrb_i,
  output logic              s_axil_bvalid_o,
  input  logic              s_axil_bready_i,
  output logic [1:0]        s_axil_bresp_o,
  input  logic              s_axil_arvalid_i,
  output logic              s_axil_arready_o,
  input  logic [11:0]       s_axil_araddr_i,
  output logic              s_axil_rvalid_o,
  input  logic              s_axil_rready_i,
  output logic [31:0]       s_axil_rdata_o,
  output logic [1:0]        s_axil_rresp_o,
  // to the core
  output logic              start_o,
  input  logic              start_ok_i,
  output logic              soft_reset_o,
  output logic [63:0]       insn_addr_o,
  output logic [31:0]       insn_count_o,
  // from the core
  input  logic [31:0]       status_i,
  input  logic [7:0]        error_code_i,
  input  logic [31:0]       error_index_i,
  input  logic [31:0]       error_info_i,
  input  logic [31:0]       error_addr_i,
  input  logic [NC*64-1:0]  counters_i     // counter i at [i*64 +: 64]
);
  // ---- write ----
  // A write is taken into registers, its address decoded on the way in, and acts in the next cycle (then
  // its response is given): the decode and what START and SOFT_RESET drive in the core are two paths
  // between registers instead of one from the bus.
  logic wr_fire, wr_q, full_q, ctrl_q, start_bit_q, reset_bit_q;
  logic sel_lo_q, sel_hi_q, sel_count_q;
  logic [31:0] wdata_q;
  assign wr_fire          = s_axil_awvalid_i && s_axil_wvalid_i && !s_axil_bvalid_o && !wr_q;
  assign s_axil_awready_o = wr_fire;
  assign s_axil_wready_o  = wr_fire;
  assign s_axil_bresp_o   = 2'b00;
  assign soft_reset_o = wr_q && ctrl_q && reset_bit_q;
  assign start_o      = wr_q && ctrl_q && start_bit_q && !reset_bit_q && start_ok_i;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_q            <= 1'b0;
      s_axil_bvalid_o <= 1'b0;
      insn_addr_o     <= '0;
      insn_count_o    <= '0;
    end else begin
      wr_q <= wr_fire;
      if (wr_q) s_axil_bvalid_o <= 1'b1;
      else if (s_axil_bready_i) s_axil_bvalid_o <= 1'b0;
      if (wr_q && full_q) begin
        if (sel_lo_q) insn_addr_o[31:0] <= wdata_q;
        if (sel_hi_q) insn_addr_o[63:32] <= wdata_q;
        if (sel_count_q) insn_count_o <= wdata_q;
      end
    end
  end
  always_ff @(posedge clk_i) begin
    if (wr_fire) begin
      full_q      <= s_axil_wstrb_i == 4'hf;
      ctrl_q      <= (s_axil_awaddr_i == vta_pkg::REG_CONTROL) && s_axil_wstrb_i[0];
      start_bit_q <= s_axil_wdata_i[vta_pkg::CONTROL_START_BIT];
      reset_bit_q <= s_axil_wdata_i[vta_pkg::CONTROL_SOFT_RESET_BIT];
      sel_lo_q    <= s_axil_awaddr_i == vta_pkg::REG_INSN_ADDR_LO;
      sel_hi_q    <= s_axil_awaddr_i == vta_pkg::REG_INSN_ADDR_HI;
      sel_count_q <= s_axil_awaddr_i == vta_pkg::REG_INSN_COUNT;
      wdata_q     <= s_axil_wdata_i;
    end
  end

  // ---- read ----
  // The read data is selected where it is registered, on the read's handshake: as a combinational
  // multiplexer of the address input a simulator evaluated it (and the counters it picks from) at every
  // input change, twice a cycle.
  logic [11:0] cnt_off;
  logic [4:0]  cnt_idx;
  assign cnt_off = s_axil_araddr_i - vta_pkg::REG_COUNTER_BASE;
  assign cnt_idx = cnt_off[7:3];
  assign s_axil_arready_o = !s_axil_rvalid_o;
  assign s_axil_rresp_o   = 2'b00;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s_axil_rvalid_o <= 1'b0;
      s_axil_rdata_o  <= '0;
    end else if (s_axil_arvalid_i && !s_axil_rvalid_o) begin
      s_axil_rvalid_o <= 1'b1;
      unique case (s_axil_araddr_i)
        vta_pkg::REG_CONTROL:        s_axil_rdata_o <= '0;
        vta_pkg::REG_STATUS:         s_axil_rdata_o <= status_i;
        vta_pkg::REG_INSN_ADDR_LO:   s_axil_rdata_o <= insn_addr_o[31:0];
        vta_pkg::REG_INSN_ADDR_HI:   s_axil_rdata_o <= insn_addr_o[63:32];
        vta_pkg::REG_INSN_COUNT:     s_axil_rdata_o <= insn_count_o;
        vta_pkg::REG_ERROR_CODE:     s_axil_rdata_o <= {24'b0, error_code_i};
        vta_pkg::REG_ERROR_INDEX:    s_axil_rdata_o <= error_index_i;
        vta_pkg::REG_ERROR_INFO:     s_axil_rdata_o <= error_info_i;
        vta_pkg::REG_ERROR_ADDR:     s_axil_rdata_o <= error_addr_i;
        vta_pkg::REG_CONFIG_HASH_LO: s_axil_rdata_o <= vta_pkg::CONFIG_HASH[31:0];
        vta_pkg::REG_CONFIG_HASH_HI: s_axil_rdata_o <= vta_pkg::CONFIG_HASH[63:32];
        vta_pkg::REG_BUS_WIDTH:      s_axil_rdata_o <= 32'(BUS_W);
        default: begin
          if (s_axil_araddr_i >= vta_pkg::REG_COUNTER_BASE && cnt_off[11:8] == 4'h0 && 32'(cnt_idx) < NC) begin
            s_axil_rdata_o <= counters_i[{cnt_idx, cnt_off[2]} * 32 +: 32];
          end else begin
            s_axil_rdata_o <= '0;
          end
        end
      endcase
    end else if (s_axil_rready_i) begin
      s_axil_rvalid_o <= 1'b0;
    end
  end

  logic unused_ok;
  assign unused_ok = ^cnt_off[1:0];
endmodule
