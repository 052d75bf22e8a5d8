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
  // in P); the check's result is registered (OOB_REG), so a STORE that moves data spends two cycles in
  // START and starts, or reports a bad instruction, in the second (with the index, ready then too)
  logic took_q;  // an instruction was taken in the cycle before (it is in POP now)
  vta_tile_check #(.DEPTH_A(vta_pkg::OUT_DEPTH), .OOB_REG(1'b1)) u_bounds (
    .clk_i, .hold_en_i(took_q),
    .rows_i(cmd_rows_i), .cols_i(cmd_cols_i), .sram_base_i(mi.sram_base),
    .depth_b_i(1'b0), .oob_o(oob), .last_o(oob_last)
  );
  assign bad_index = (x_size != '0) && !bad_type && oob;

  logic start, start_bad, start_seen_q;
  assign start_bad = bad_dep || bad_type || bad_index;
  assign start = (state_q == S_START) && start_seen_q && active && !start_bad;

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
  // runs at most 2^16 elements past the last index: one bit more holds every address exactly.
  // Kept to short paths between registers (docs/hardware.md, logic depth): the next row's first element
  // is kept ready (one carry-select add a row), addresses advance within the 4 KiB page (a burst never
  // crosses it; the page number's increment is kept ready), and a wide burst is chosen in one cycle from
  // registers and presented the next (a burst every other cycle: two beats or more, the bus stays busy).
  // Narrow elements go one single-beat burst each, one a cycle.
  localparam int unsigned BAW = (DW + LOG_EB + 1 < ADDR_W) ? DW + LOG_EB + 1 : ADDR_W;
  localparam int unsigned PBW = 12 - LOG_BUSB;                    // beat index bits within a 4 KiB page
  localparam int unsigned MAX_BURST = PBW < 8 ? 1 << PBW : 256;   // AXI's limit, or one page of beats
  localparam int unsigned LOG_MAXB  = $clog2(MAX_BURST);
  localparam int unsigned NLW       = LOG_MAXB + 1;               // a burst's beat count
  logic              aw_active_q, aw_present_q, aw_last_q, aw_rows_last_q;
  logic [15:0]       aw_rows_left_q;
  logic [DW-1:0]     aw_elem_q, nx_elem_q, nx_elem_next, nx_elem_first;
  logic [BAW-1:0]    aw_addr_q, addr_step;
  logic [BAW-13:0]   aw_page_inc_q, page_inc;
  logic [BW-1:0]     aw_left_q, aw_left_m1_q, row_beats, row_beats_m1;
  logic [NLW-1:0]    aw_burst_q;
  logic [7:0]        aw_len_q;
  logic              lf_wready, lf_rvalid, lf_pop, aw_fire, aw_row_end;
  logic [8+LW-1:0]   lf_wdata, lf_rdata;
  logic [2:0]        lf_count;

  function automatic logic [BAW-1:0] byte_addr(input logic [DW-1:0] elem);
    byte_addr = BAW'({elem, {LOG_EB{1'b0}}});
  endfunction

  assign row_beats    = BW'({x_size, {LOG_BPE{1'b0}}});
  assign row_beats_m1 = BW'({x_size - 16'd1, {LOG_BPE{1'b1}}});  // x_size >= 1 when started
  vta_add #(.W(DW)) u_next_row (.a_i(nx_elem_q), .b_i(DW'(x_stride)), .cin_i(1'b0), .sum_o(nx_elem_next));
  vta_add #(.W(DW)) u_second_row (.a_i(dram_base), .b_i(DW'(x_stride)), .cin_i(1'b0), .sum_o(nx_elem_first));
  vta_add #(.W(BAW - 12)) u_page_inc (.a_i(aw_addr_q[BAW-1:12]), .b_i('0), .cin_i(1'b1), .sum_o(page_inc));
  always_ff @(posedge clk_i) aw_page_inc_q <= page_inc;  // ready a cycle after each move

  // wide: the burst from registered state, the least of the row's beats left, 256 and the beats to the
  // page's end, each a compare on a few bits
  logic [PBW-1:0] page_m1;
  logic           left_le_lim, lim_le_page, left_le_page, take_left, take_lim;
  assign page_m1      = ~aw_addr_q[11:LOG_BUSB];
  assign left_le_lim  = (aw_left_m1_q[BW-1:LOG_MAXB] == '0);
  assign lim_le_page  = (page_m1 >= PBW'(MAX_BURST - 1));
  assign left_le_page = (aw_left_m1_q[BW-1:PBW] == '0) && (aw_left_m1_q[PBW-1:0] <= page_m1);
  assign take_left    = left_le_lim && left_le_page;
  assign take_lim     = !take_left && lim_le_page;

  // the current burst's end within the page, whose carry out of the page takes the next page number
  logic [12:0] in_page_end;
  assign in_page_end = {1'b0, aw_addr_q[11:0]} + (WIDE ? (13'(aw_burst_q) << LOG_BUSB) : 13'(EBYTES));
  assign addr_step   = {in_page_end[12] ? aw_page_inc_q : aw_addr_q[BAW-1:12], in_page_end[11:0]};

  assign awvalid_o  = (WIDE ? aw_present_q : aw_active_q) && lf_wready;
  assign awaddr_o   = ADDR_W'({aw_addr_q[BAW-1:LOG_BUSB], {LOG_BUSB{1'b0}}});
  assign awlen_o    = WIDE ? aw_len_q : 8'd0;
  assign aw_fire    = awvalid_o && awready_i;
  assign aw_row_end = WIDE ? aw_last_q : (aw_left_q == BW'(1));
  assign lf_wdata   = {LW'(aw_elem_q), awlen_o};

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      aw_active_q    <= 1'b0;
      aw_present_q   <= 1'b0;
      aw_last_q      <= 1'b0;
      aw_rows_last_q <= 1'b0;
      aw_rows_left_q <= '0;
      aw_elem_q      <= '0;
      nx_elem_q      <= '0;
      aw_addr_q      <= '0;
      aw_left_q      <= '0;
      aw_left_m1_q   <= '0;
      aw_burst_q     <= '0;
      aw_len_q       <= '0;
    end else if (start) begin
      aw_active_q    <= 1'b1;
      aw_present_q   <= 1'b0;
      aw_rows_left_q <= y_size;
      aw_rows_last_q <= (y_size == 16'd1);
      aw_elem_q      <= dram_base;
      nx_elem_q      <= nx_elem_first;
      aw_addr_q      <= byte_addr(dram_base);
      aw_left_q      <= row_beats;
      aw_left_m1_q   <= row_beats_m1;
    end else begin
      if (WIDE && aw_active_q && !aw_present_q) begin
        aw_present_q <= 1'b1;
        aw_last_q    <= take_left;
        aw_burst_q   <= take_left ? NLW'(aw_left_q) : take_lim ? NLW'(MAX_BURST) : NLW'(page_m1) + NLW'(1);
        aw_len_q     <= take_left ? 8'(aw_left_m1_q) : take_lim ? 8'(MAX_BURST - 1) : 8'(page_m1);
      end else if (aw_fire) begin
        aw_present_q <= 1'b0;
        if (aw_row_end) begin
          aw_rows_left_q <= aw_rows_left_q - 16'd1;
          aw_rows_last_q <= (aw_rows_left_q == 16'd2);
          aw_active_q    <= !aw_rows_last_q;
          aw_elem_q      <= nx_elem_q;
          nx_elem_q      <= nx_elem_next;
          aw_addr_q      <= byte_addr(nx_elem_q);
          aw_left_q      <= row_beats;
          aw_left_m1_q   <= row_beats_m1;
        end else begin
          aw_elem_q    <= aw_elem_q + 1'b1;  // (narrow: its low bits are the next element's lane)
          aw_addr_q    <= addr_step;
          aw_left_q    <= aw_left_q - (WIDE ? BW'(aw_burst_q) : BW'(1));
          aw_left_m1_q <= aw_left_q + ~(WIDE ? BW'(aw_burst_q) : BW'(1));
        end
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
      // a token-only STORE goes on at once; one that moves data waits for its check
      S_START: if (start_seen_q ? !start_bad : (x_size == '0 && !start_bad)) state_d = S_RUN;
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
      took_q       <= 1'b0;
      insn_q  <= '0;
      idx_q   <= '0;
    end else begin
      state_q <= state_d;
      start_seen_q <= (state_q == S_START);
      took_q       <= (state_q == S_IDLE) && cmd_valid_i;
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
