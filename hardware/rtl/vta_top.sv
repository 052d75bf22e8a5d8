// VTA core top level: the AXI4-Lite register file (vta_regfile; register map generated into vta_pkg from
// isa/include/vta/isa/register_map.h, documented in docs/hardware.md), fetch, load, compute and store
// modules, their command queues, the four dependency-token queues, the on-chip buffers and an AXI4 memory
// master (reads from fetch/load/compute arbitrated round-robin and routed back by ID; writes from store
// only), with the bus guard of the soft reset (vta_axi_drain).
//
// Protocol: write INSN_ADDR/INSN_COUNT, write CONTROL.start; STATUS.done rises when every instruction has
// been dispatched and executed and every write is acknowledged. The first error (ERROR_CODE, ERROR_INDEX,
// ERROR_INFO, ERROR_ADDR) sets STATUS.error and STATUS.done at once. A start is ignored while a run is in
// progress (STATUS.busy) or a soft reset is (STATUS.resetting).
//
// Soft reset (CONTROL.soft_reset): waits for a cycle in which no AXI request waits for its ready, then
// holds every module, queue, counter and the run state in reset while the bus guard finishes the
// transactions already started (absorbs R and B, sends owed W beats without strobes); when none is left,
// STATUS.resetting falls and the core is idle, ready for the next start. The register file, INSN_ADDR,
// INSN_COUNT and the on-chip buffers are kept. A memory that never answers keeps STATUS.resetting high:
// then only rst_ni (the whole system's reset) helps.
module vta_top #(
  parameter int unsigned BUS_W        = 64,   // memory bus data width (64 or 128)
  parameter int unsigned ADDR_W       = 64,   // memory bus address width
  // queue depths from isa::CoreQueueDepths through vta_pkg (fsim-strict models the same ones)
  parameter int unsigned CMD_DEPTH    = vta_pkg::CMD_QUEUE_DEPTH,        // command queue depth per module
  parameter int unsigned TOKEN_DEPTH  = vta_pkg::TOKEN_QUEUE_DEPTH + 1,  // dependency-token queue capacity + 1
  parameter int unsigned DEADLOCK_CYCLES = vta_hw_pkg::DEADLOCK_CYCLES
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  // AXI4-Lite slave: registers
  input  logic                 s_axil_awvalid_i,
  output logic                 s_axil_awready_o,
  input  logic [11:0]          s_axil_awaddr_i,
  input  logic                 s_axil_wvalid_i,
  output logic                 s_axil_wready_o,
  input  logic [31:0]          s_axil_wdata_i,
  input  logic [3:0]           s_axil_wstrb_i,
  output logic                 s_axil_bvalid_o,
  input  logic                 s_axil_bready_i,
  output logic [1:0]           s_axil_bresp_o,
  input  logic                 s_axil_arvalid_i,
  output logic                 s_axil_arready_o,
  input  logic [11:0]          s_axil_araddr_i,
  output logic                 s_axil_rvalid_o,
  input  logic                 s_axil_rready_i,
  output logic [31:0]          s_axil_rdata_o,
  output logic [1:0]           s_axil_rresp_o,
  // AXI4 master: memory (INCR bursts, full-width beats)
  output logic                 m_axi_arvalid_o,
  input  logic                 m_axi_arready_i,
  output logic [1:0]           m_axi_arid_o,
  output logic [ADDR_W-1:0]    m_axi_araddr_o,
  output logic [7:0]           m_axi_arlen_o,
  output logic [2:0]           m_axi_arsize_o,
  output logic [1:0]           m_axi_arburst_o,
  input  logic                 m_axi_rvalid_i,
  output logic                 m_axi_rready_o,
  input  logic [1:0]           m_axi_rid_i,
  input  logic [BUS_W-1:0]     m_axi_rdata_i,
  input  logic [1:0]           m_axi_rresp_i,
  input  logic                 m_axi_rlast_i,
  output logic                 m_axi_awvalid_o,
  input  logic                 m_axi_awready_i,
  output logic [1:0]           m_axi_awid_o,
  output logic [ADDR_W-1:0]    m_axi_awaddr_o,
  output logic [7:0]           m_axi_awlen_o,
  output logic [2:0]           m_axi_awsize_o,
  output logic [1:0]           m_axi_awburst_o,
  output logic                 m_axi_wvalid_o,
  input  logic                 m_axi_wready_i,
  output logic [BUS_W-1:0]     m_axi_wdata_o,
  output logic [BUS_W/8-1:0]   m_axi_wstrb_o,
  output logic                 m_axi_wlast_o,
  input  logic                 m_axi_bvalid_i,
  output logic                 m_axi_bready_o,
  input  logic [1:0]           m_axi_bid_i,
  input  logic [1:0]           m_axi_bresp_i,
  // run status, for simulation harnesses and interrupts
  output logic                 done_o
);
  localparam int unsigned IB  = vta_pkg::INSN_BITS;
  localparam int unsigned NC  = vta_pkg::NUM_COUNTERS;
  localparam int unsigned CQW = IB + 32 + 2 * 17;  // instruction, index, tile rows and columns

  // ------------------------------------------------------------------ register file, soft reset
  logic              running_q, done_q, error_q;
  logic [7:0]        error_code_q;
  logic [31:0]       error_index_q, error_info_q, error_addr_q;
  logic [63:0]       insn_addr_q;
  logic [31:0]       insn_count_q;
  logic [NC*64-1:0]  cnt_q;     // counter i at [i*64 +: 64]
  logic [NC-1:0]     cnt_inc_en;
  logic [NC*64-1:0]  cnt_inc;
  logic              start, soft_reset;
  logic              srst_pend_q;  // soft reset asked for, waiting for a cycle without a pending request
  logic              srst_q;       // the core is held in reset while the bus guard drains
  logic              rst_core_n;   // reset of everything but the register file and the bus guard
  logic              drained, bus_quiet;
  logic [31:0]       status;

  always_comb begin
    status = '0;
    status[vta_pkg::STATUS_DONE_BIT]      = done_q;
    status[vta_pkg::STATUS_ERROR_BIT]     = error_q;
    status[vta_pkg::STATUS_BUSY_BIT]      = running_q;
    status[vta_pkg::STATUS_RESETTING_BIT] = srst_pend_q || srst_q;
  end

  // After the first error the modules take no new instruction (each finishes the one it holds), so a
  // failed run stops instead of running on; the soft reset clears the rest.
  // the modules' error reports, registered (see the first-error pick below)
  typedef struct packed {
    logic        err;
    logic [7:0]  code;
    logic [31:0] idx;
    logic [31:0] info;
    logic [31:0] addr;
  } err_rep_t;
  err_rep_t l_rep_q, c_rep_q, s_rep_q, a_rep_q;
  logic halt;
  // (or a registered report, recorded this cycle: from the report's next cycle on, as for the others)
  assign halt = error_q || (running_q && (l_rep_q.err || c_rep_q.err || s_rep_q.err || a_rep_q.err));

  vta_regfile #(.BUS_W(BUS_W), .NC(NC)) u_regfile (
    .clk_i, .rst_ni,
    .s_axil_awvalid_i, .s_axil_awready_o, .s_axil_awaddr_i, .s_axil_wvalid_i, .s_axil_wready_o,
    .s_axil_wdata_i, .s_axil_wstrb_i, .s_axil_bvalid_o, .s_axil_bready_i, .s_axil_bresp_o,
    .s_axil_arvalid_i, .s_axil_arready_o, .s_axil_araddr_i, .s_axil_rvalid_o, .s_axil_rready_i,
    .s_axil_rdata_o, .s_axil_rresp_o,
    .start_o(start), .start_ok_i(!running_q && !srst_pend_q && !srst_q), .soft_reset_o(soft_reset),
    .insn_addr_o(insn_addr_q), .insn_count_o(insn_count_q),
    .status_i(status), .error_code_i(error_code_q), .error_index_i(error_index_q),
    .error_info_i(error_info_q), .error_addr_i(error_addr_q), .counters_i(cnt_q)
  );

  // The core's reset comes from a flop (glitch-free): rst_ni, or a soft reset until the bus is drained.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      srst_pend_q <= 1'b0;
      srst_q      <= 1'b1;   // leave reset one cycle after rst_ni, like a soft reset with nothing to drain
    end else begin
      if (soft_reset) srst_pend_q <= 1'b1;
      if ((srst_pend_q || soft_reset) && bus_quiet && !srst_q) begin
        srst_pend_q <= 1'b0;
        srst_q      <= 1'b1;
      end else if (srst_q && drained) begin
        srst_q <= 1'b0;
      end
    end
  end
  assign rst_core_n = !srst_q;

  // ------------------------------------------------------------------ modules
  // fetch
  logic f_arvalid, f_arready, f_done, f_blocked, f_error;
  logic [ADDR_W-1:0] f_araddr;
  logic [7:0] f_arlen;
  logic [IB-1:0] f_insn;
  logic [31:0] f_idx, f_error_idx;
  logic [7:0]  f_error_code;
  logic f_load_valid, f_compute_valid, f_store_valid;
  logic lq_wready, cq_wready, sq_wready;
  logic r_fetch, r_load, r_compute;

  assign r_fetch   = m_axi_rvalid_i && (m_axi_rid_i == vta_pkg::AXI_ID_FETCH);
  assign r_load    = m_axi_rvalid_i && (m_axi_rid_i == vta_pkg::AXI_ID_LOAD);
  assign r_compute = m_axi_rvalid_i && (m_axi_rid_i == vta_pkg::AXI_ID_COMPUTE);

  vta_fetch #(.BUS_W(BUS_W), .ADDR_W(ADDR_W)) u_fetch (
    .clk_i, .rst_ni(rst_core_n), .start_i(start), .insn_addr_i(ADDR_W'(insn_addr_q)), .insn_count_i(insn_count_q),
    .arvalid_o(f_arvalid), .arready_i(f_arready), .araddr_o(f_araddr), .arlen_o(f_arlen),
    .rvalid_i(r_fetch), .rdata_i(m_axi_rdata_i), .rlast_i(m_axi_rlast_i),
    .insn_o(f_insn), .idx_o(f_idx),
    .load_valid_o(f_load_valid), .load_ready_i(lq_wready),
    .compute_valid_o(f_compute_valid), .compute_ready_i(cq_wready),
    .store_valid_o(f_store_valid), .store_ready_i(sq_wready),
    .done_o(f_done), .blocked_o(f_blocked), .error_o(f_error), .error_code_o(f_error_code), .error_idx_o(f_error_idx)
  );

  // command queues; a LOAD's or STORE's tile size (rows, cols: padding included, but a STORE has none) goes
  // with the instruction, added as it is queued, so the modules' bounds checks start from registers
  /* verilator lint_off UNUSEDSIGNAL */  // a typed view: only the tile's sizes are read
  vta_pkg::mem_insn_t f_mem;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [16:0] f_rows, f_cols, f_store_rows, f_store_cols;
  assign f_mem        = f_insn;
  assign f_rows       = 17'(f_mem.y_pad_0) + 17'(f_mem.y_size) + 17'(f_mem.y_pad_1);
  assign f_cols       = 17'(f_mem.x_pad_0) + 17'(f_mem.x_size) + 17'(f_mem.x_pad_1);
  assign f_store_rows = 17'(f_mem.y_size);
  assign f_store_cols = 17'(f_mem.x_size);
  logic lq_valid, cq_valid, sq_valid, lq_ready, cq_ready, sq_ready;
  logic [CQW-1:0] lq_data, cq_data, sq_data;
  logic [$clog2(CMD_DEPTH):0] lq_count, cq_count, sq_count;

  vta_fifo #(.WIDTH(CQW), .DEPTH(CMD_DEPTH)) u_load_q (
    .clk_i, .rst_ni(rst_core_n), .clear_i(start), .wvalid_i(f_load_valid), .wready_o(lq_wready),
    .wdata_i({f_cols, f_rows, f_idx, f_insn}), .rvalid_o(lq_valid), .rready_i(lq_ready && !halt), .rdata_o(lq_data),
    .count_o(lq_count));
  vta_fifo #(.WIDTH(CQW), .DEPTH(CMD_DEPTH)) u_compute_q (
    .clk_i, .rst_ni(rst_core_n), .clear_i(start), .wvalid_i(f_compute_valid), .wready_o(cq_wready),
    .wdata_i({f_cols, f_rows, f_idx, f_insn}), .rvalid_o(cq_valid), .rready_i(cq_ready && !halt), .rdata_o(cq_data),
    .count_o(cq_count));
  vta_fifo #(.WIDTH(CQW), .DEPTH(CMD_DEPTH)) u_store_q (
    .clk_i, .rst_ni(rst_core_n), .clear_i(start), .wvalid_i(f_store_valid), .wready_o(sq_wready),
    .wdata_i({f_store_cols, f_store_rows, f_idx, f_insn}), .rvalid_o(sq_valid), .rready_i(sq_ready && !halt), .rdata_o(sq_data),
    .count_o(sq_count));

  // dependency-token queues: l2c, c2l, c2s, s2c
  logic l2c_push, l2c_push_rdy, l2c_pop, l2c_pop_rdy;
  logic c2l_push, c2l_push_rdy, c2l_pop, c2l_pop_rdy;
  logic c2s_push, c2s_push_rdy, c2s_pop, c2s_pop_rdy;
  logic s2c_push, s2c_push_rdy, s2c_pop, s2c_pop_rdy;
  logic [$clog2(TOKEN_DEPTH)-1:0] l2c_count, c2l_count, c2s_count, s2c_count;

  vta_token_queue #(.DEPTH(TOKEN_DEPTH)) u_l2c (
    .clk_i, .rst_ni(rst_core_n), .clear_i(start), .push_i(l2c_push), .push_ready_o(l2c_push_rdy),
    .pop_i(l2c_pop), .pop_ready_o(l2c_pop_rdy), .count_o(l2c_count));
  vta_token_queue #(.DEPTH(TOKEN_DEPTH)) u_c2l (
    .clk_i, .rst_ni(rst_core_n), .clear_i(start), .push_i(c2l_push), .push_ready_o(c2l_push_rdy),
    .pop_i(c2l_pop), .pop_ready_o(c2l_pop_rdy), .count_o(c2l_count));
  vta_token_queue #(.DEPTH(TOKEN_DEPTH)) u_c2s (
    .clk_i, .rst_ni(rst_core_n), .clear_i(start), .push_i(c2s_push), .push_ready_o(c2s_push_rdy),
    .pop_i(c2s_pop), .pop_ready_o(c2s_pop_rdy), .count_o(c2s_count));
  vta_token_queue #(.DEPTH(TOKEN_DEPTH)) u_s2c (
    .clk_i, .rst_ni(rst_core_n), .clear_i(start), .push_i(s2c_push), .push_ready_o(s2c_push_rdy),
    .pop_i(s2c_pop), .pop_ready_o(s2c_pop_rdy), .count_o(s2c_count));

  // on-chip buffers
  // ACC and OUT have ACC_BANKS banks (the halves of the row index), each ACC_ROWS rows per word with a
  // write enable per row: the compute module's GEMM and ALU engines work in different banks at once, and
  // the ALU takes a group of rows per cycle; the compute module addresses them by bank word, the store
  // by row. The UOP buffer has a copy per engine (one read port each), both written by LOAD UOP.
  localparam int unsigned ROWS = vta_pkg::ACC_ROWS;
  localparam int unsigned LR   = vta_pkg::LOG_ACC_ROWS;
  localparam int unsigned NB   = vta_pkg::ACC_BANKS;
  localparam int unsigned BWW  = vta_pkg::LOG_ACC_DEPTH - LR - vta_pkg::LOG_ACC_BANKS;  // bank word address bits
  localparam int unsigned AE   = ROWS * vta_pkg::ACC_ELEM_BITS;  // a bank word
  localparam int unsigned OE   = ROWS * vta_pkg::OUT_ELEM_BITS;
  // micro-ops per bus beat: the UOP buffer's banks (index % UL, at word index / UL), so a LOAD UOP writes
  // a beat's micro-ops in one cycle; each engine reads one micro-op from all banks' word and keeps its bank's
  localparam int unsigned UL   = (vta_pkg::UOP_ELEM_BITS >= BUS_W) ? 1 : BUS_W / vta_pkg::UOP_ELEM_BITS;
  localparam int unsigned LUL  = $clog2(UL);
  localparam int unsigned UWA  = vta_pkg::LOG_UOP_DEPTH - LUL;  // a bank's word address bits
  logic inp_we, inp_re, wgt_we, wgt_re, out_re;
  logic [UL-1:0] uop_we;
  logic [1:0] uop_re;
  logic [NB-1:0] acc_re;
  logic [NB*ROWS-1:0] acc_g_we, acc_a_we;
  logic [NB-1:0] acc_l_we;
  logic [LR-1:0] acc_l_row;
  logic [BWW-1:0] acc_g_waddr, acc_a_waddr, acc_l_waddr;
  logic [AE-1:0] acc_g_wdata, acc_a_wdata;
  logic [vta_pkg::ACC_ELEM_BITS-1:0] acc_l_wdata;
  logic [UL*UWA-1:0] uop_waddr;
  logic [2*vta_pkg::LOG_UOP_DEPTH-1:0] uop_raddr;
  logic [vta_pkg::LOG_INP_DEPTH-1:0] inp_waddr, inp_raddr;
  logic [vta_pkg::LOG_WGT_DEPTH-1:0] wgt_waddr, wgt_raddr;
  logic [NB*BWW-1:0] acc_raddr;
  logic [vta_pkg::LOG_OUT_DEPTH-1:0] out_raddr;
  logic [UL*vta_pkg::UOP_ELEM_BITS-1:0] uop_wdata;
  logic [2*vta_pkg::UOP_ELEM_BITS-1:0] uop_rdata;
  logic [vta_pkg::INP_ELEM_BITS-1:0] inp_wdata, inp_rdata;
  logic [vta_pkg::WGT_ELEM_BITS-1:0] wgt_wdata, wgt_rdata;
  logic [NB*AE-1:0] acc_rdata;
  logic [NB*OE-1:0] out_rwords;
  logic [OE-1:0] out_rword;
  logic [vta_pkg::OUT_ELEM_BITS-1:0] out_rdata;
  logic [LR-1:0] out_rrow_q;
  logic out_rbank_q;

  for (genvar p = 0; p < 2; p++) begin : g_uop_buf
    logic [vta_pkg::LOG_UOP_DEPTH-1:0] raddr;
    logic [UL*vta_pkg::UOP_ELEM_BITS-1:0] words;
    assign raddr = uop_raddr[p * vta_pkg::LOG_UOP_DEPTH +: vta_pkg::LOG_UOP_DEPTH];
    for (genvar b = 0; b < UL; b++) begin : g_bank
      vta_sram #(.WIDTH(vta_pkg::UOP_ELEM_BITS), .DEPTH(vta_pkg::UOP_DEPTH / UL)) u_buf (
        .clk_i, .we_i(uop_we[b]), .waddr_i(uop_waddr[b * UWA +: UWA]),
        .wdata_i(uop_wdata[b * vta_pkg::UOP_ELEM_BITS +: vta_pkg::UOP_ELEM_BITS]),
        .re_i(uop_re[p]), .raddr_i(raddr[vta_pkg::LOG_UOP_DEPTH-1:LUL]),
        .rdata_o(words[b * vta_pkg::UOP_ELEM_BITS +: vta_pkg::UOP_ELEM_BITS]));
    end
    if (UL == 1) begin : g_one
      assign uop_rdata[p * vta_pkg::UOP_ELEM_BITS +: vta_pkg::UOP_ELEM_BITS] = words;
    end else begin : g_pick
      logic [LUL-1:0] bank_q;  // held with the words while re is low
      always_ff @(posedge clk_i) begin
        if (uop_re[p]) bank_q <= raddr[LUL-1:0];
      end
      assign uop_rdata[p * vta_pkg::UOP_ELEM_BITS +: vta_pkg::UOP_ELEM_BITS] =
          words[bank_q * vta_pkg::UOP_ELEM_BITS +: vta_pkg::UOP_ELEM_BITS];
    end
  end
  vta_sram #(.WIDTH(vta_pkg::INP_ELEM_BITS), .DEPTH(vta_pkg::INP_DEPTH)) u_inp_buf (
    .clk_i, .we_i(inp_we), .waddr_i(inp_waddr), .wdata_i(inp_wdata),
    .re_i(inp_re), .raddr_i(inp_raddr), .rdata_o(inp_rdata));
  vta_sram #(.WIDTH(vta_pkg::WGT_ELEM_BITS), .DEPTH(vta_pkg::WGT_DEPTH)) u_wgt_buf (
    .clk_i, .we_i(wgt_we), .waddr_i(wgt_waddr), .wdata_i(wgt_wdata),
    .re_i(wgt_re), .raddr_i(wgt_raddr), .rdata_o(wgt_rdata));
  // ACC and OUT hold the same rows (OUT_DEPTH = ACC_DEPTH): one bank module each half
  for (genvar b = 0; b < NB; b++) begin : g_acc_bank
    vta_acc_bank #(.DEPTH(vta_pkg::ACC_DEPTH / ROWS / NB)) u_bank (
      .clk_i,
      .g_we_i(acc_g_we[b * ROWS +: ROWS]), .g_waddr_i(acc_g_waddr), .g_wdata_i(acc_g_wdata),
      .a_we_i(acc_a_we[b * ROWS +: ROWS]), .a_waddr_i(acc_a_waddr), .a_wdata_i(acc_a_wdata),
      .l_we_i(acc_l_we[b]), .l_row_i(acc_l_row), .l_waddr_i(acc_l_waddr), .l_wdata_i(acc_l_wdata),
      .re_i(acc_re[b]), .raddr_i(acc_raddr[b * BWW +: BWW]), .rdata_o(acc_rdata[b * AE +: AE]),
      .out_re_i(out_re && out_raddr[vta_pkg::LOG_OUT_DEPTH-1] == 1'(b)),
      .out_raddr_i(out_raddr[vta_pkg::LOG_OUT_DEPTH-2:LR]), .out_rdata_o(out_rwords[b * OE +: OE]));
  end
  // the store reads one row: the one of the bank and word its address picked (held, like the word, while
  // re is low)
  always_ff @(posedge clk_i) begin
    if (out_re) begin
      out_rrow_q  <= out_raddr[LR-1:0];
      out_rbank_q <= out_raddr[vta_pkg::LOG_OUT_DEPTH-1];
    end
  end
  assign out_rword = out_rbank_q ? out_rwords[OE +: OE] : out_rwords[0 +: OE];
  always_comb begin  // constant selections (a simulator copies one row instead of shifting the word)
    out_rdata = out_rword[0 +: vta_pkg::OUT_ELEM_BITS];
    for (int unsigned r = 1; r < ROWS; r++) begin
      if (out_rrow_q == LR'(r)) out_rdata = out_rword[r * vta_pkg::OUT_ELEM_BITS +: vta_pkg::OUT_ELEM_BITS];
    end
  end

  // load
  logic l_arvalid, l_arready, l_idle, l_blocked, l_stall, l_error, l_done, l_inp_elem, l_wgt_elem;
  logic [ADDR_W-1:0] l_araddr;
  logic [7:0] l_arlen, l_error_code;
  logic [3:0] l_error_info;
  logic [31:0] l_error_addr;
  logic [31:0] l_idx;
  vta_load #(.BUS_W(BUS_W), .ADDR_W(ADDR_W)) u_load (
    .clk_i, .rst_ni(rst_core_n),
    .cmd_valid_i(lq_valid && !halt), .cmd_ready_o(lq_ready), .cmd_insn_i(lq_data[IB-1:0]), .cmd_idx_i(lq_data[IB +: 32]),
    .cmd_rows_i(lq_data[IB + 32 +: 17]), .cmd_cols_i(lq_data[IB + 49 +: 17]),
    .pop_next_o(c2l_pop), .pop_next_ready_i(c2l_pop_rdy), .push_next_o(l2c_push), .push_next_ready_i(l2c_push_rdy),
    .arvalid_o(l_arvalid), .arready_i(l_arready), .araddr_o(l_araddr), .arlen_o(l_arlen),
    .rvalid_i(r_load), .rdata_i(m_axi_rdata_i),
    .inp_we_o(inp_we), .inp_waddr_o(inp_waddr), .inp_wdata_o(inp_wdata),
    .wgt_we_o(wgt_we), .wgt_waddr_o(wgt_waddr), .wgt_wdata_o(wgt_wdata),
    .idle_o(l_idle), .blocked_o(l_blocked), .stall_o(l_stall), .cur_idx_o(l_idx), .error_o(l_error), .error_code_o(l_error_code),
    .error_info_o(l_error_info), .error_addr_o(l_error_addr),
    .insn_done_o(l_done), .inp_elem_o(l_inp_elem), .wgt_elem_o(l_wgt_elem)
  );

  // compute
  logic c_arvalid, c_arready, c_idle, c_blocked, c_error, c_done, c_acc_elem, c_gemm, c_alu, c_hazard;
  logic [LUL:0] c_uop_elems;
  logic [LR:0] c_alu_rows;
  logic [ADDR_W-1:0] c_araddr;
  logic [7:0] c_arlen, c_error_code;
  logic [3:0] c_error_info;
  logic [31:0] c_error_addr;
  logic [31:0] c_idx, c_error_idx;
  vta_compute #(.BUS_W(BUS_W), .ADDR_W(ADDR_W)) u_compute (
    .clk_i, .rst_ni(rst_core_n),
    .cmd_valid_i(cq_valid && !halt), .cmd_ready_o(cq_ready), .cmd_insn_i(cq_data[IB-1:0]), .cmd_idx_i(cq_data[IB +: 32]),
    .cmd_rows_i(cq_data[IB + 32 +: 17]), .cmd_cols_i(cq_data[IB + 49 +: 17]),
    .pop_prev_o(l2c_pop), .pop_prev_ready_i(l2c_pop_rdy), .pop_next_o(s2c_pop), .pop_next_ready_i(s2c_pop_rdy),
    .push_prev_o(c2l_push), .push_prev_ready_i(c2l_push_rdy), .push_next_o(c2s_push),
    .push_next_ready_i(c2s_push_rdy),
    .arvalid_o(c_arvalid), .arready_i(c_arready), .araddr_o(c_araddr), .arlen_o(c_arlen),
    .rvalid_i(r_compute), .rdata_i(m_axi_rdata_i),
    .uop_we_o(uop_we), .uop_waddr_o(uop_waddr), .uop_wdata_o(uop_wdata),
    .uop_re_o(uop_re), .uop_raddr_o(uop_raddr), .uop_rdata_i(uop_rdata),
    .inp_re_o(inp_re), .inp_raddr_o(inp_raddr), .inp_rdata_i(inp_rdata),
    .wgt_re_o(wgt_re), .wgt_raddr_o(wgt_raddr), .wgt_rdata_i(wgt_rdata),
    .acc_g_we_o(acc_g_we), .acc_g_waddr_o(acc_g_waddr), .acc_g_wdata_o(acc_g_wdata),
    .acc_a_we_o(acc_a_we), .acc_a_waddr_o(acc_a_waddr), .acc_a_wdata_o(acc_a_wdata),
    .acc_l_we_o(acc_l_we), .acc_l_row_o(acc_l_row), .acc_l_waddr_o(acc_l_waddr), .acc_l_wdata_o(acc_l_wdata),
    .acc_re_o(acc_re), .acc_raddr_o(acc_raddr), .acc_rdata_i(acc_rdata),
    .idle_o(c_idle), .blocked_o(c_blocked), .cur_idx_o(c_idx), .error_idx_o(c_error_idx), .error_o(c_error), .error_code_o(c_error_code),
    .error_info_o(c_error_info), .error_addr_o(c_error_addr),
    .insn_done_o(c_done), .uop_elems_o(c_uop_elems), .acc_elem_o(c_acc_elem), .gemm_uop_o(c_gemm),
    .alu_uop_o(c_alu), .alu_rows_o(c_alu_rows), .hazard_stall_o(c_hazard)
  );

  // store
  logic s_idle, s_blocked, s_error, s_done, s_out_elem, s_outstanding, s_wvalid, s_wlast;
  logic [BUS_W-1:0] s_wdata;
  logic [BUS_W/8-1:0] s_wstrb;
  logic [7:0] s_error_code;
  logic [3:0] s_error_info;
  logic [31:0] s_error_addr;
  logic [31:0] s_idx;
  vta_store #(.BUS_W(BUS_W), .ADDR_W(ADDR_W)) u_store (
    .clk_i, .rst_ni(rst_core_n),
    .cmd_valid_i(sq_valid && !halt), .cmd_ready_o(sq_ready), .cmd_insn_i(sq_data[IB-1:0]), .cmd_idx_i(sq_data[IB +: 32]),
    .cmd_rows_i(sq_data[IB + 32 +: 17]), .cmd_cols_i(sq_data[IB + 49 +: 17]),
    .pop_prev_o(c2s_pop), .pop_prev_ready_i(c2s_pop_rdy), .push_prev_o(s2c_push), .push_prev_ready_i(s2c_push_rdy),
    .out_re_o(out_re), .out_raddr_o(out_raddr), .out_rdata_i(out_rdata),
    .awvalid_o(m_axi_awvalid_o), .awready_i(m_axi_awready_i), .awaddr_o(m_axi_awaddr_o), .awlen_o(m_axi_awlen_o),
    .wvalid_o(s_wvalid), .wready_i(m_axi_wready_i), .wdata_o(s_wdata), .wstrb_o(s_wstrb),
    .wlast_o(s_wlast), .bvalid_i(m_axi_bvalid_i && rst_core_n),
    .idle_o(s_idle), .blocked_o(s_blocked), .cur_idx_o(s_idx), .error_o(s_error), .error_code_o(s_error_code),
    .error_info_o(s_error_info), .error_addr_o(s_error_addr),
    .outstanding_o(s_outstanding), .insn_done_o(s_done), .out_elem_o(s_out_elem)
  );

  // ------------------------------------------------------------------ memory master
  localparam logic [2:0] AXSIZE = 3'($clog2(BUS_W / 8));
  logic [2:0] arb_ready;
  vta_axi_rd_arb #(.ADDR_W(ADDR_W), .N(3)) u_rd_arb (
    .clk_i, .rst_ni(rst_core_n),
    .req_valid_i({c_arvalid, l_arvalid, f_arvalid}), .req_ready_o(arb_ready),
    .req_addr_i({c_araddr, l_araddr, f_araddr}), .req_len_i({c_arlen, l_arlen, f_arlen}),
    .arvalid_o(m_axi_arvalid_o), .arready_i(m_axi_arready_i), .araddr_o(m_axi_araddr_o),
    .arlen_o(m_axi_arlen_o), .arid_o(m_axi_arid_o)
  );
  assign f_arready       = arb_ready[vta_pkg::AXI_ID_FETCH];
  assign l_arready       = arb_ready[vta_pkg::AXI_ID_LOAD];
  assign c_arready       = arb_ready[vta_pkg::AXI_ID_COMPUTE];
  assign m_axi_arsize_o  = AXSIZE;
  assign m_axi_arburst_o = 2'b01;
  assign m_axi_rready_o  = 1'b1;   // every client always accepts its read data
  assign m_axi_awid_o    = 2'b00;
  assign m_axi_awsize_o  = AXSIZE;
  assign m_axi_awburst_o = 2'b01;
  assign m_axi_bready_o  = 1'b1;

  // W: from the store, or from the bus guard while the core is held in soft reset
  logic d_wvalid, d_wlast;
  assign m_axi_wvalid_o = srst_q ? d_wvalid : s_wvalid;
  assign m_axi_wlast_o  = srst_q ? d_wlast : s_wlast;
  assign m_axi_wdata_o  = srst_q ? '0 : s_wdata;
  assign m_axi_wstrb_o  = srst_q ? '0 : s_wstrb;

  // a soft reset takes effect only in a cycle where no request waits for its ready
  assign bus_quiet = !(m_axi_arvalid_o && !m_axi_arready_i) && !(m_axi_awvalid_o && !m_axi_awready_i) &&
                     !(m_axi_wvalid_o && !m_axi_wready_i);

  vta_axi_drain u_drain (
    .clk_i, .rst_ni, .drain_i(srst_q),
    .ar_fire_i(m_axi_arvalid_o && m_axi_arready_i), .r_last_fire_i(m_axi_rvalid_i && m_axi_rlast_i),
    .aw_fire_i(m_axi_awvalid_o && m_axi_awready_i), .awlen_i(m_axi_awlen_o),
    .w_fire_i(m_axi_wvalid_o && m_axi_wready_i), .b_fire_i(m_axi_bvalid_i),
    .wvalid_o(d_wvalid), .wlast_o(d_wlast), .drained_o(drained)
  );

  // ------------------------------------------------------------------ run control
  logic all_idle, l_quiet, c_quiet, s_quiet, any_blocked, deadlock_cond;
  logic [$clog2(DEADLOCK_CYCLES):0] dl_cnt_q;
  assign l_quiet  = l_idle && !lq_valid;
  assign c_quiet  = c_idle && !cq_valid;
  assign s_quiet  = s_idle && !sq_valid && !s_outstanding;
  assign all_idle = f_done && l_quiet && c_quiet && s_quiet;
  assign any_blocked = l_blocked || c_blocked || s_blocked;
  // nothing can move: every module waits on a token (or has nothing to do) and fetch is finished or stuck
  assign deadlock_cond = running_q && any_blocked && (f_done || f_blocked) &&
                         (l_blocked || l_quiet) && (c_blocked || c_quiet) && (s_blocked || (s_quiet));
  // counted a cycle late: the modules' blocked outputs come out of deep logic (token steps, engine
  // states), and a deadlock is reported only after DEADLOCK_CYCLES of it anyway
  logic deadlock_q;
  always_ff @(posedge clk_i or negedge rst_core_n) begin
    if (!rst_core_n) deadlock_q <= 1'b0;
    else deadlock_q <= deadlock_cond;  // (running_q: never in start's cycle)
  end

  // the stalled instruction reported on deadlock: the lowest index among the blocked modules, one compare
  // a cycle (a deadlock is reported only after DEADLOCK_CYCLES of the same state, so a value three cycles
  // old is that state's); each compare of two 32-bit indices is split in halves
  function automatic logic lt32(input logic [31:0] a, input logic [31:0] b);
    lt32 = (a[31:16] < b[31:16]) || ((a[31:16] == b[31:16]) && (a[15:0] < b[15:0]));
  endfunction
  logic [31:0] dl_l_q, dl_c_q, dl_s_q, dl_lc_q, dl_s2_q, dl_idx;
  always_ff @(posedge clk_i) begin
    dl_l_q  <= l_blocked ? l_idx : '1;
    dl_c_q  <= c_blocked ? c_idx : '1;
    dl_s_q  <= s_blocked ? s_idx : '1;
    dl_lc_q <= lt32(dl_c_q, dl_l_q) ? dl_c_q : dl_l_q;
    dl_s2_q <= dl_s_q;
    dl_idx  <= lt32(dl_s2_q, dl_lc_q) ? dl_s2_q : dl_lc_q;
  end

  // an error response (SLVERR/DECERR): which client's read (by RID) or the store's write, and the
  // instruction the reading module holds (its data is still arriving, so it is the one); none for fetch
  // and writes (a B response may come after the store has moved on)
  logic        axi_rerr, axi_berr, axi_err;
  logic [31:0] axi_info, axi_idx;
  assign axi_rerr = m_axi_rvalid_i && m_axi_rresp_i[1];
  assign axi_berr = m_axi_bvalid_i && m_axi_bresp_i[1];
  assign axi_err  = axi_rerr || axi_berr;
  always_comb begin
    axi_info = '0;
    axi_idx  = '1;
    if (axi_rerr) begin
      axi_info[1:0] = m_axi_rid_i;
      axi_info[vta_pkg::AXI_INFO_RESP_LSB +: 2] = m_axi_rresp_i;
      if (m_axi_rid_i == vta_pkg::AXI_ID_LOAD) axi_idx = l_idx;
      else if (m_axi_rid_i == vta_pkg::AXI_ID_COMPUTE) axi_idx = c_error_idx;
    end else begin
      axi_info[vta_pkg::AXI_INFO_WRITE_BIT] = 1'b1;
      axi_info[vta_pkg::AXI_INFO_RESP_LSB +: 2] = m_axi_bresp_i;
    end
  end

  // The load, compute, store and bus error reports, registered before the first one is picked: a report
  // comes out of deep logic (a tile check, a token step, an index select), the pick is a wide priority
  // select, and the two in one cycle were among the core's longest paths. So the run records such an
  // error a cycle after the report; the modules stop taking instructions from the report's next cycle
  // on, as before (halt). A module that reports is busy in that cycle (the bus: the module whose read it
  // is, or the store's outstanding write), so the run cannot end before the record. Fetch's report is
  // shallow (its buffer head's decode) and may come as the run goes idle (no FINISH at the end, an empty
  // stream): it is picked at once, first, as before.
  always_ff @(posedge clk_i or negedge rst_core_n) begin
    if (!rst_core_n) begin
      l_rep_q <= '0;
      c_rep_q <= '0;
      s_rep_q <= '0;
      a_rep_q <= '0;
    end else begin
      // {err, code, idx, info, addr}
      l_rep_q <= {l_error && !start, l_error_code, l_idx, 32'(l_error_info), l_error_addr};
      c_rep_q <= {c_error && !start, c_error_code, c_error_idx, 32'(c_error_info), c_error_addr};
      s_rep_q <= {s_error && !start, s_error_code, s_idx, 32'(s_error_info), s_error_addr};
      a_rep_q <= {axi_err && !start, 8'(vta_pkg::ERR_AXI), axi_idx, axi_info, 32'd0};
    end
  end

  // first error of the run
  logic        err_now;
  logic [7:0]  err_code;
  logic [31:0] err_idx, err_info, err_addr;
  always_comb begin
    err_now  = 1'b1;
    err_code = vta_pkg::ERR_NONE;
    err_idx  = '0;
    err_info = '0;
    err_addr = '0;
    if (f_error) begin
      err_code = f_error_code;
      err_idx  = f_error_idx;
    end else if (l_rep_q.err) begin
      {err_code, err_idx, err_info, err_addr} = {l_rep_q.code, l_rep_q.idx, l_rep_q.info, l_rep_q.addr};
    end else if (c_rep_q.err) begin
      {err_code, err_idx, err_info, err_addr} = {c_rep_q.code, c_rep_q.idx, c_rep_q.info, c_rep_q.addr};
    end else if (s_rep_q.err) begin
      {err_code, err_idx, err_info, err_addr} = {s_rep_q.code, s_rep_q.idx, s_rep_q.info, s_rep_q.addr};
    end else if (a_rep_q.err) begin
      {err_code, err_idx, err_info, err_addr} = {a_rep_q.code, a_rep_q.idx, a_rep_q.info, a_rep_q.addr};
    end else if (32'(dl_cnt_q) == DEADLOCK_CYCLES) begin
      err_code = vta_pkg::ERR_DEADLOCK;
      err_idx  = dl_idx;
    end else begin
      err_now = 1'b0;
    end
  end

  // run state: cleared by a soft reset too (rst_core_n)
  always_ff @(posedge clk_i or negedge rst_core_n) begin
    if (!rst_core_n) begin
      running_q     <= 1'b0;
      done_q        <= 1'b0;
      error_q       <= 1'b0;
      error_code_q  <= '0;
      error_index_q <= '0;
      error_info_q  <= '0;
      error_addr_q  <= '0;
      dl_cnt_q      <= '0;
    end else if (start) begin
      running_q     <= 1'b1;
      done_q        <= 1'b0;
      error_q       <= 1'b0;
      error_code_q  <= '0;
      error_index_q <= '0;
      error_info_q  <= '0;
      error_addr_q  <= '0;
      dl_cnt_q      <= '0;
    end else if (running_q) begin
      dl_cnt_q <= deadlock_q ? dl_cnt_q + 1'b1 : '0;
      if (err_now && !error_q) begin
        // stop on the first error: the run is over (the core needs a soft reset before the next one)
        error_q       <= 1'b1;
        done_q        <= 1'b1;
        running_q     <= 1'b0;
        error_code_q  <= err_code;
        error_index_q <= err_idx;
        error_info_q  <= err_info;
        error_addr_q  <= err_addr;
      end else if (all_idle) begin
        done_q    <= 1'b1;
        running_q <= 1'b0;
      end
    end
  end
  assign done_o = done_q;

  // ------------------------------------------------------------------ counters
  // The ALU's rows come out of the engine's group decision (deep logic): registered once before they are
  // counted, so the counter's 64-bit add starts at a register. Counted a cycle later (also in the cycle
  // after the run: an error ends it at once); an ALU issue drains for cycles before the core is idle.
  logic [LR:0] alu_rows_q;
  always_ff @(posedge clk_i or negedge rst_core_n) begin
    if (!rst_core_n) alu_rows_q <= '0;
    else alu_rows_q <= (running_q && c_alu) ? c_alu_rows : '0;
  end
  always_comb begin
    cnt_inc_en = '0;
    for (int unsigned i = 0; i < NC; i++) cnt_inc[i * 64 +: 64] = 64'd1;
    cnt_inc[vta_pkg::CNT_INP_NBYTES * 64 +: 64] = 64'(vta_pkg::INP_ELEM_BYTES);
    cnt_inc[vta_pkg::CNT_WGT_NBYTES * 64 +: 64] = 64'(vta_pkg::WGT_ELEM_BYTES);
    cnt_inc[vta_pkg::CNT_ACC_NBYTES * 64 +: 64] = 64'(vta_pkg::ACC_ELEM_BYTES);
    cnt_inc[vta_pkg::CNT_UOP_NBYTES * 64 +: 64] = 64'(c_uop_elems) << $clog2(vta_pkg::UOP_ELEM_BYTES);
    cnt_inc[vta_pkg::CNT_OUT_NBYTES * 64 +: 64] = 64'(vta_pkg::OUT_ELEM_BYTES);
    cnt_inc[vta_pkg::CNT_ALU * 64 +: 64]        = 64'(alu_rows_q);
    cnt_inc_en[vta_pkg::CNT_LOAD_INSN]     = l_done;
    cnt_inc_en[vta_pkg::CNT_COMPUTE_INSN]  = c_done;
    cnt_inc_en[vta_pkg::CNT_STORE_INSN]    = s_done;
    cnt_inc_en[vta_pkg::CNT_INP_NBYTES]    = l_inp_elem;
    cnt_inc_en[vta_pkg::CNT_WGT_NBYTES]    = l_wgt_elem;
    cnt_inc_en[vta_pkg::CNT_ACC_NBYTES]    = c_acc_elem;
    cnt_inc_en[vta_pkg::CNT_UOP_NBYTES]    = c_uop_elems != '0;
    cnt_inc_en[vta_pkg::CNT_OUT_NBYTES]    = s_out_elem;
    cnt_inc_en[vta_pkg::CNT_GEMM]          = c_gemm;
    cnt_inc_en[vta_pkg::CNT_ALU]           = alu_rows_q != '0;
    cnt_inc_en[vta_pkg::CNT_CYCLES]        = 1'b1;
    cnt_inc_en[vta_pkg::CNT_LOAD_BUSY]     = !l_idle;
    cnt_inc_en[vta_pkg::CNT_LOAD_STALL]    = l_stall;
    cnt_inc_en[vta_pkg::CNT_COMPUTE_BUSY]  = !c_idle;
    cnt_inc_en[vta_pkg::CNT_COMPUTE_STALL] = c_blocked;
    cnt_inc_en[vta_pkg::CNT_STORE_BUSY]    = !s_idle;
    cnt_inc_en[vta_pkg::CNT_STORE_STALL]   = s_blocked;
    cnt_inc_en[vta_pkg::CNT_FETCH_STALL]   = f_blocked;
    cnt_inc_en[vta_pkg::CNT_GEMM_HAZARD]   = c_hazard;
  end

  // Each counter is a 16-bit low part, to which its event (registered) adds, and a 48-bit high part that
  // takes the low part's carry a cycle later through a carry-select add (vta_add): no add on a path is
  // wider than a segment. A counter settles two cycles after its last event (the host reads them once
  // the core is done, many cycles later). (The ALU rows were taken while running; they may land in the
  // cycle after the run.)
  localparam int unsigned CSEG = 16;
  logic [NC-1:0]      cnt_ev_q;
  logic [NC*CSEG-1:0] cnt_add_q;
  always_ff @(posedge clk_i or negedge rst_core_n) begin
    if (!rst_core_n) begin
      cnt_ev_q  <= '0;
      cnt_add_q <= '0;
    end else begin
      for (int unsigned i = 0; i < NC; i++) begin
        cnt_ev_q[i] <= !start && cnt_inc_en[i] && (running_q || i == vta_pkg::CNT_ALU);
        cnt_add_q[i * CSEG +: CSEG] <= cnt_inc[i * 64 +: CSEG];
      end
    end
  end
  for (genvar i = 0; i < NC; i++) begin : g_cnt
    logic [CSEG:0]      low;
    logic [CSEG-1:0]    low_q;
    logic [63-CSEG:0]   high_q, high;
    logic               carry_q;
    assign low = {1'b0, low_q} + {1'b0, cnt_ev_q[i] ? cnt_add_q[i * CSEG +: CSEG] : '0};
    vta_add #(.W(64 - CSEG)) u_high (.a_i(high_q), .b_i('0), .cin_i(carry_q), .sum_o(high));
    always_ff @(posedge clk_i or negedge rst_core_n) begin
      if (!rst_core_n) begin
        low_q   <= '0;
        high_q  <= '0;
        carry_q <= 1'b0;
      end else if (start) begin
        low_q   <= '0;
        high_q  <= '0;
        carry_q <= 1'b0;
      end else begin
        low_q   <= low[CSEG-1:0];
        carry_q <= low[CSEG];
        high_q  <= high;
      end
    end
    assign cnt_q[i * 64 +: 64] = {high_q, low_q};
  end

  // unused: queue occupancies (visible in waveforms), write-response IDs
  logic unused_ok;
  assign unused_ok = ^{lq_count, cq_count, sq_count, l2c_count, c2l_count, c2s_count, s2c_count, m_axi_bid_i};

`ifndef SYNTHESIS
  /* verilator lint_off SYNCASYNCNET */
  // the store's WLAST marks exactly the beat the bus guard expects to end the burst
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      WLastMatchesBurst: assert (!(m_axi_wvalid_o && !srst_q) || (m_axi_wlast_o == d_wlast))
        else $error("vta_top: WLAST does not match the burst length");
      // nothing reaches a module while the core is held in reset, and no module requests the bus then
      NoRequestInReset: assert (!srst_q || !(m_axi_arvalid_o || m_axi_awvalid_o))
        else $error("vta_top: a bus request while the core is in soft reset");
    end
  end
  /* verilator lint_on SYNCASYNCNET */
`endif
endmodule
