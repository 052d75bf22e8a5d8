// The AXI4-Lite register file of the core (the shell's control port; the compute core knows no AXI-Lite).
// Offsets, bits and counter indices come from vta_pkg (generated from isa/include/vta/isa/register_map.h,
// the copy the driver and tsim's harness use). Address and data of a write are taken together.
//
// CONTROL (write-only, reads 0): bit START pulses start_o (only when start_ok_i: not busy, not resetting),
// bit SOFT_RESET pulses soft_reset_o (wins over START when both are written). INSN_ADDR/INSN_COUNT are
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
  logic wr_fire, ctrl_wr;
  assign wr_fire          = s_axil_awvalid_i && s_axil_wvalid_i && !s_axil_bvalid_o;
  assign s_axil_awready_o = wr_fire;
  assign s_axil_wready_o  = wr_fire;
  assign s_axil_bresp_o   = 2'b00;
  assign ctrl_wr      = wr_fire && (s_axil_awaddr_i == vta_pkg::REG_CONTROL) && s_axil_wstrb_i[0];
  assign soft_reset_o = ctrl_wr && s_axil_wdata_i[vta_pkg::CONTROL_SOFT_RESET_BIT];
  assign start_o      = ctrl_wr && s_axil_wdata_i[vta_pkg::CONTROL_START_BIT] &&
                        !s_axil_wdata_i[vta_pkg::CONTROL_SOFT_RESET_BIT] && start_ok_i;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s_axil_bvalid_o <= 1'b0;
      insn_addr_o     <= '0;
      insn_count_o    <= '0;
    end else begin
      if (wr_fire) s_axil_bvalid_o <= 1'b1;
      else if (s_axil_bready_i) s_axil_bvalid_o <= 1'b0;
      if (wr_fire && s_axil_wstrb_i == 4'hf) begin
        unique case (s_axil_awaddr_i)
          vta_pkg::REG_INSN_ADDR_LO: insn_addr_o[31:0]  <= s_axil_wdata_i;
          vta_pkg::REG_INSN_ADDR_HI: insn_addr_o[63:32] <= s_axil_wdata_i;
          vta_pkg::REG_INSN_COUNT:   insn_count_o       <= s_axil_wdata_i;
          default: ;
        endcase
      end
    end
  end

  // ---- read ----
  logic [31:0] rd_data;
  logic [11:0] cnt_off;
  logic [4:0]  cnt_idx;
  assign cnt_off = s_axil_araddr_i - vta_pkg::REG_COUNTER_BASE;
  assign cnt_idx = cnt_off[7:3];
  always_comb begin
    rd_data = '0;
    unique case (s_axil_araddr_i)
      vta_pkg::REG_CONTROL:        rd_data = '0;
      vta_pkg::REG_STATUS:         rd_data = status_i;
      vta_pkg::REG_INSN_ADDR_LO:   rd_data = insn_addr_o[31:0];
      vta_pkg::REG_INSN_ADDR_HI:   rd_data = insn_addr_o[63:32];
      vta_pkg::REG_INSN_COUNT:     rd_data = insn_count_o;
      vta_pkg::REG_ERROR_CODE:     rd_data = {24'b0, error_code_i};
      vta_pkg::REG_ERROR_INDEX:    rd_data = error_index_i;
      vta_pkg::REG_ERROR_INFO:     rd_data = error_info_i;
      vta_pkg::REG_ERROR_ADDR:     rd_data = error_addr_i;
      vta_pkg::REG_CONFIG_HASH_LO: rd_data = vta_pkg::CONFIG_HASH[31:0];
      vta_pkg::REG_CONFIG_HASH_HI: rd_data = vta_pkg::CONFIG_HASH[63:32];
      vta_pkg::REG_BUS_WIDTH:      rd_data = 32'(BUS_W);
      default: begin
        if (s_axil_araddr_i >= vta_pkg::REG_COUNTER_BASE && cnt_off[11:8] == 4'h0 && 32'(cnt_idx) < NC) begin
          rd_data = counters_i[{cnt_idx, cnt_off[2]} * 32 +: 32];
        end
      end
    endcase
  end

  assign s_axil_arready_o = !s_axil_rvalid_o;
  assign s_axil_rresp_o   = 2'b00;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s_axil_rvalid_o <= 1'b0;
      s_axil_rdata_o  <= '0;
    end else if (s_axil_arvalid_i && !s_axil_rvalid_o) begin
      s_axil_rvalid_o <= 1'b1;
      s_axil_rdata_o  <= rd_data;
    end else if (s_axil_rready_i) begin
      s_axil_rvalid_o <= 1'b0;
    end
  end

  logic unused_ok;
  assign unused_ok = ^{s_axil_wstrb_i[3:1], cnt_off[1:0]};
endmodule
