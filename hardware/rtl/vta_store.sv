// The store module: executes STOREs of OUT tiles. Per instruction: pop a compute->store token if
// pop_prev, write y_size rows of x_size OUT elements (read densely from sram_base) to DRAM row y at
// element address dram_base + y * x_stride, then push a store->compute token if push_prev.
//
// Three walkers: the buffer reader fills a small element FIFO (one-cycle read latency, credit-checked);
// the address walker issues AXI write bursts per row (256 beats / 4 KiB split) and queues each burst's
// length for the data walker, which streams W beats from the element FIFO. Elements narrower than the
// bus go one single-beat burst each, with WSTRB selecting their lane. Write responses are counted; the
// instruction completes when its last beat is sent, and outstanding_o tells the top about unanswered
// bursts (the core is only done once every response is in).
module vta_store #(
  parameter int unsigned BUS_W  = 64,
  parameter int unsigned ADDR_W = 64
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  // command queue
  input  logic                          cmd_valid_i,
  output logic                          cmd_ready_o,
  input  logic [vta_pkg::INSN_BITS-1:0] cmd_insn_i,
  input  logic [31:0]                   cmd_idx_i,
  input  logic [16:0]                   cmd_rows_i,   // the tile's rows and columns (y_size, x_size)
  input  logic [16:0]                   cmd_cols_i,
  // tokens: pop compute->store, push store->compute
  output logic                          pop_prev_o,
  input  logic                          pop_prev_ready_i,
  output logic                          push_prev_o,
  input  logic                          push_prev_ready_i,
  // OUT buffer (read)
  output logic                              out_re_o,
  output logic [vta_pkg::LOG_OUT_DEPTH-1:0] out_raddr_o,
  input  logic [vta_pkg::OUT_ELEM_BITS-1:0] out_rdata_i,
  // AXI write
  output logic                          awvalid_o,
  input  logic                          awready_i,
  output logic [ADDR_W-1:0]             awaddr_o,
  output logic [7:0]                    awlen_o,
  output logic                          wvalid_o,
  input  logic                          wready_i,
  output logic [BUS_W-1:0]              wdata_o,
  output logic [BUS_W/8-1:0]            wstrb_o,
  output logic                          wlast_o,
  input  logic                          bvalid_i,
  // status
  output logic                          idle_o,
  output logic                          blocked_o,
  output logic [31:0]                   cur_idx_o,
  output logic                          error_o,
  output logic [7:0]                    error_code_o,
  output logic [3:0]                    error_info_o,   // out-of-range index: vta_pkg::IDX_STORE_SRC
  output logic [31:0]                   error_addr_o,   // ... and the index
  output logic                          outstanding_o,
  // counter events
  output logic                          insn_done_o,
  output logic                          out_elem_o
);
  localparam int unsigned EBITS     = vta_pkg::OUT_ELEM_BITS;
  localparam int unsigned OAW       = vta_pkg::LOG_OUT_DEPTH;
  localparam int unsigned BUS_BYTES = BUS_W / 8;
  localparam int unsigned LOG_BUSB  = $clog2(BUS_BYTES);
  localparam int unsigned EBYTES    = EBITS / 8;
  localparam int unsigned LOG_EB    = $clog2(EBYTES);
  localparam bit          WIDE      = (EBITS >= BUS_W);
  localparam int unsigned BPE       = WIDE ? EBITS / BUS_W : 1;
  localparam int unsigned LOG_BPE   = $clog2(BPE);
  localparam int unsigned LANES     = WIDE ? 1 : BUS_W / EBITS;
  localparam int unsigned LOG_LANES = $clog2(LANES);
  localparam int unsigned LW        = (LOG_LANES > 0) ? LOG_LANES : 1;  // lane field width
  localparam int unsigned BW        = 16 + LOG_BPE + 1;
  localparam int unsigned DW        = 32;
  localparam int unsigned EF_DEPTH  = 4;

  typedef enum logic [2:0] {S_IDLE, S_POP, S_START, S_RUN, S_PUSH} state_e;
  state_e state_q, state_d;

  logic [vta_pkg::INSN_BITS-1:0] insn_q;
  logic [31:0] idx_q;
  logic [2:0]  mem_type;
  logic [OAW-1:0] sram_base;
  logic [31:0] dram_base;
  logic [15:0] y_size, x_size, x_stride;
  logic        pop_prev, push_prev, bad_dep, bad_type, active;
  /* verilator lint_off UNUSEDSIGNAL */  // a typed view: the module reads only some fields
  vta_pkg::mem_insn_t mi;
  /* verilator lint_on UNUSEDSIGNAL */
  assign mi        = insn_q;
  assign mem_type  = mi.memory_type;
  assign sram_base = OAW'(mi.sram_base);
  assign dram_base = mi.dram_base;
  assign y_size    = mi.y_size;
  assign x_size    = mi.x_size;
  assign x_stride  = mi.x_stride;
  assign pop_prev  = mi.pop_prev;
  assign push_prev = mi.push_prev;
  assign bad_dep   = mi.pop_next || mi.push_next;
  // only OUT is stored; 5..7 are not memory types at all, even in a token-only STORE
  assign bad_type  = (mem_type != 3'(vta_pkg::MEM_TYPE_OUT)) &&
                     ((x_size != '0) || (mem_type > 3'(vta_pkg::MEM_TYPE_OUT)));
  assign active    = (x_size != '0) && (y_size != '0) && !bad_type;

  // the tile must lie in the OUT buffer (fsim's rule for the ACC rows a STORE reads; OUT shadows ACC);
  // a tile that does not fit is reported and never started
  logic        oob, bad_index;
  logic [31:0] oob_last;
  // rows x cols of the instruction on the command queue in IDLE (M stays put in POP, which adds sram_base
  // in P); START checks it, and reports a bad instruction in its second cycle (the index reported is
  // ready a cycle after the check)
  vta_tile_check #(.DEPTH_A(vta_pkg::OUT_DEPTH)) u_bounds (
    .clk_i, .mul_en_i(state_q == S_IDLE && cmd_valid_i), .hold_en_i(state_q == S_POP),
    .rows_i(cmd_rows_i), .cols_i(cmd_cols_i), .sram_base_i(mi.sram_base),
    .depth_b_i(1'b0), .oob_o(oob), .last_o(oob_last)
  );
  assign bad_index = (x_size != '0) && !bad_type && oob;

  logic start, start_bad, start_seen_q;
  assign start_bad = bad_dep || bad_type || bad_index;
  assign start = (state_q == S_START) && active && !start_bad;

  // ---- buffer reader ----
  logic        rd_active_q, rd_pending_q;
  // elements left in the row and rows left (counted down: no x_size * y_size multiplier)
  logic [15:0] rd_cols_left_q, rd_rows_left_q;
  logic [OAW-1:0] rd_addr_q;
  logic        ef_wready, ef_rvalid, ef_pop;
  logic [EBITS-1:0] ef_rdata;
  logic [$clog2(EF_DEPTH):0] ef_count;
  logic        rd_issue;
  assign rd_issue    = rd_active_q && (32'(ef_count) + 32'(rd_pending_q) < EF_DEPTH);
  assign out_re_o    = rd_issue;
  assign out_raddr_o = rd_addr_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rd_active_q  <= 1'b0;
      rd_pending_q <= 1'b0;
      rd_cols_left_q <= '0;
      rd_rows_left_q <= '0;
      rd_addr_q    <= '0;
    end else begin
      rd_pending_q <= rd_issue;
      if (start) begin
        rd_active_q    <= 1'b1;
        rd_cols_left_q <= x_size;
        rd_rows_left_q <= y_size;
        rd_addr_q      <= sram_base;
      end else if (rd_issue) begin
        if (rd_cols_left_q == 16'd1) begin
          rd_cols_left_q <= x_size;
          rd_rows_left_q <= rd_rows_left_q - 16'd1;
        end else begin
          rd_cols_left_q <= rd_cols_left_q - 16'd1;
        end
        rd_active_q <= !(rd_cols_left_q == 16'd1 && rd_rows_left_q == 16'd1);
        rd_addr_q   <= rd_addr_q + 1'b1;
      end
    end
  end

  vta_fifo #(.WIDTH(EBITS), .DEPTH(EF_DEPTH)) u_elem_fifo (
    .clk_i, .rst_ni, .clear_i(1'b0),
    .wvalid_i(rd_pending_q), .wready_o(ef_wready), .wdata_i(out_rdata_i),
    .rvalid_o(ef_rvalid), .rready_i(ef_pop), .rdata_o(ef_rdata), .count_o(ef_count)
  );

  // ---- address walker ----
  // Byte addresses of elements span DW + LOG_EB bits (the instruction's element index is DW bits) and a row
  // runs at most 2^16 elements past the last index: one bit more holds every address exactly, so the
  // walker's address register and its adder are that wide, not ADDR_W (a shorter carry chain).
  localparam int unsigned BAW = (DW + LOG_EB + 1 < ADDR_W) ? DW + LOG_EB + 1 : ADDR_W;
  logic              aw_active_q;
  logic [15:0]       aw_rows_left_q;
  logic [DW-1:0]     aw_row_elem_q, aw_elem_q;
  logic [BAW-1:0]    aw_addr_q;
  logic [BW-1:0]     aw_beats_left_q, row_beats, burst_beats;
  logic [DW-1:0]     next_row_elem;
  logic              lf_wready, lf_rvalid, lf_pop, aw_fire;
  logic [8+LW-1:0]   lf_wdata, lf_rdata;
  logic [2:0]        lf_count;

  function automatic logic [BAW-1:0] byte_addr(input logic [DW-1:0] elem);
    byte_addr = BAW'({elem, {LOG_EB{1'b0}}});
  endfunction

  assign row_beats     = BW'({x_size, {LOG_BPE{1'b0}}});
  assign next_row_elem = aw_row_elem_q + DW'(x_stride);
  // Beats to the next 4 KiB boundary, as far as a 256-beat burst reaches: 256 unless the address is in
  // the page's last 256 beats, and then a subtraction of the bits below them (vta_load_unit does the same).
  localparam int unsigned REACH = LOG_BUSB + 8;  // address bits one 256-beat burst spans
  logic [8:0] beats_to_4k;
  if (REACH < 12) begin : g_near_4k
    logic [7:0] beat_in_reach;
    assign beat_in_reach = aw_addr_q[REACH-1:LOG_BUSB];
    assign beats_to_4k   = &aw_addr_q[11:REACH] ? 9'd256 - 9'(beat_in_reach) : 9'd256;
  end else begin : g_page_4k
    assign beats_to_4k = 9'((13'd4096 - {1'b0, aw_addr_q[11:0]}) >> LOG_BUSB);
  end
  always_comb begin
    if (!WIDE) begin
      burst_beats = BW'(1);
    end else begin
      burst_beats = aw_beats_left_q;
      if (burst_beats > BW'(256)) burst_beats = BW'(256);
      // burst_beats <= 256 here: the compare needs the low nine bits only
      if (beats_to_4k < burst_beats[8:0]) burst_beats = BW'(beats_to_4k);
    end
  end

  assign awvalid_o = aw_active_q && lf_wready;
  assign awaddr_o  = ADDR_W'({aw_addr_q[BAW-1:LOG_BUSB], {LOG_BUSB{1'b0}}});
  assign awlen_o   = 8'(burst_beats - BW'(1));
  assign aw_fire   = awvalid_o && awready_i;
  assign lf_wdata  = {LW'(aw_elem_q), awlen_o};

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      aw_active_q     <= 1'b0;
      aw_rows_left_q  <= '0;
      aw_row_elem_q   <= '0;
      aw_elem_q       <= '0;
      aw_addr_q       <= '0;
      aw_beats_left_q <= '0;
    end else if (start) begin
      aw_active_q     <= 1'b1;
      aw_rows_left_q  <= y_size;
      aw_row_elem_q   <= dram_base;
      aw_elem_q       <= dram_base;
      aw_addr_q       <= byte_addr(dram_base);
      aw_beats_left_q <= row_beats;
    end else if (aw_fire) begin
      if (aw_beats_left_q == burst_beats) begin
        aw_rows_left_q  <= aw_rows_left_q - 16'd1;
        aw_active_q     <= (aw_rows_left_q != 16'd1);
        aw_row_elem_q   <= next_row_elem;
        aw_elem_q       <= next_row_elem;
        aw_addr_q       <= byte_addr(next_row_elem);
        aw_beats_left_q <= row_beats;
      end else begin
        aw_beats_left_q <= aw_beats_left_q - burst_beats;
        aw_elem_q       <= aw_elem_q + 1'b1;
        aw_addr_q       <= WIDE ? aw_addr_q + (BAW'(burst_beats) << LOG_BUSB)
                                : aw_addr_q + BAW'(EBYTES);
      end
    end
  end

  vta_fifo #(.WIDTH(8 + LW), .DEPTH(4)) u_len_fifo (
    .clk_i, .rst_ni, .clear_i(1'b0),
    .wvalid_i(aw_fire), .wready_o(lf_wready), .wdata_i(lf_wdata),
    .rvalid_o(lf_rvalid), .rready_i(lf_pop), .rdata_o(lf_rdata), .count_o(lf_count)
  );

  // ---- data walker ----
  logic [7:0] w_beat_q, w_len;
  logic       w_fire;
  assign w_len    = lf_rdata[7:0];
  assign wvalid_o = lf_rvalid && ef_rvalid;
  assign w_fire   = wvalid_o && wready_i;
  assign wlast_o  = (w_beat_q == w_len);
  assign lf_pop   = w_fire && wlast_o;

  if (WIDE) begin : g_wide
    if (BPE == 1) begin : g_one
      assign wdata_o = ef_rdata;
      assign ef_pop  = w_fire;
    end else begin : g_multi
      logic [LOG_BPE-1:0] ebeat_q;
      assign wdata_o = ef_rdata[ebeat_q * BUS_W +: BUS_W];
      assign ef_pop  = w_fire && (ebeat_q == LOG_BPE'(BPE - 1));
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) ebeat_q <= '0;
        else if (w_fire) ebeat_q <= ebeat_q + 1'b1;
      end
    end
    assign wstrb_o = '1;
    logic unused_lane;
    assign unused_lane = ^lf_rdata[8 +: LW];
  end else begin : g_narrow
    logic [LOG_LANES-1:0] lane;
    assign lane    = lf_rdata[8 +: LOG_LANES];
    assign wdata_o = {LANES{ef_rdata}};
    always_comb begin
      for (int unsigned i = 0; i < BUS_BYTES; i++) wstrb_o[i] = (i / (EBITS / 8) == 32'(lane));
    end
    assign ef_pop  = w_fire;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) w_beat_q <= '0;
    else if (w_fire) w_beat_q <= wlast_o ? 8'd0 : w_beat_q + 8'd1;
  end

  // ---- write responses ----
  logic [15:0] b_outstanding_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) b_outstanding_q <= '0;
    else b_outstanding_q <= b_outstanding_q + 16'(aw_fire) - 16'(bvalid_i);
  end
  assign outstanding_o = (b_outstanding_q != '0);

  // ---- control ----
  logic exec_done;
  assign exec_done = !rd_active_q && !rd_pending_q && !ef_rvalid && !aw_active_q && !lf_rvalid;

  logic pop_adv, pop_blk, push_adv, push_blk;
  vta_token_step u_pop (.active_i(state_q == S_POP), .want_i(pop_prev), .ready_i(pop_prev_ready_i),
                        .fire_o(pop_prev_o), .advance_o(pop_adv), .blocked_o(pop_blk));
  vta_token_step u_push (.active_i(state_q == S_PUSH), .want_i(push_prev), .ready_i(push_prev_ready_i),
                         .fire_o(push_prev_o), .advance_o(push_adv), .blocked_o(push_blk));

  always_comb begin
    state_d     = state_q;
    cmd_ready_o = 1'b0;
    insn_done_o = 1'b0;
    unique case (state_q)
      S_IDLE: begin
        cmd_ready_o = 1'b1;
        if (cmd_valid_i) state_d = S_POP;
      end
      S_POP: if (pop_adv) state_d = S_START;
      S_START: if (!start_bad || start_seen_q) state_d = S_RUN;
      S_RUN: if (exec_done) state_d = S_PUSH;
      S_PUSH: begin
        if (push_adv) begin
          insn_done_o = 1'b1;
          state_d     = S_IDLE;
        end
      end
      default: state_d = S_IDLE;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= S_IDLE;
      start_seen_q <= 1'b0;
      insn_q  <= '0;
      idx_q   <= '0;
    end else begin
      state_q <= state_d;
      start_seen_q <= (state_q == S_START);
      if (state_q == S_IDLE && cmd_valid_i) begin
        insn_q <= cmd_insn_i;
        idx_q  <= cmd_idx_i;
      end
    end
  end

  assign idle_o       = (state_q == S_IDLE);
  assign blocked_o    = pop_blk || push_blk;
  assign cur_idx_o    = idx_q;
  assign error_o      = (state_q == S_START) && start_bad && start_seen_q;
  assign error_code_o = bad_type ? vta_pkg::ERR_MEM_TYPE : (bad_dep ? vta_pkg::ERR_DEP_FLAGS : vta_pkg::ERR_INDEX);
  assign error_info_o = vta_pkg::IDX_STORE_SRC;
  assign error_addr_o = oob_last;
  assign out_elem_o   = ef_pop;

  logic unused_ok;
  assign unused_ok = ef_wready ^ (^lf_count);  // the credit check keeps both FIFOs from overflowing
endmodule
