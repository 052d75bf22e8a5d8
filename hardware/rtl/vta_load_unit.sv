// Executes one 2D LOAD into one on-chip buffer: reads y_size rows of x_size elements from DRAM
// (row y at element address dram_base + y * x_stride) and writes the dense on-chip tile of
// (y_pad_0 + y_size + y_pad_1) x (x_pad_0 + x_size + x_pad_1) elements from sram_base, pad elements zero.
//
// Three independent walkers share the work:
//  - the request walker issues AXI read bursts row by row (split at 256 beats and 4 KiB boundaries);
//    any number of bursts may be outstanding;
//  - the data walker consumes read beats, assembles elements and writes them at their tile position;
//    read data is always accepted (the interconnect never stalls R);
//  - the pad walker writes zeros at every pad position, in cycles the data walker leaves the port free.
// Elements at least one bus word wide take ELEM_BITS / BUS_W beats each (addresses are element-aligned,
// hence bus-aligned). Narrower elements (micro-ops) come LANES to a beat: a row is read as bursts of the
// beats it touches (the first and last may hold elements of no row), into a beat queue the data walker
// empties one beat per cycle, writing all of the beat's elements that belong to the row at once (at
// consecutive buffer indices, so in LANES different banks of a buffer banked by index % LANES: the bank_*
// port), so micro-ops load at the bus rate. Bursts are issued only while the queue has room for every beat
// requested and not yet consumed, so read data is still always accepted. (One single-beat burst per
// micro-op, as before, queued every micro-op behind the load module's long bursts: tens of cycles each.)
// The request side (the request walker) and the data side (the data and pad walkers) run one instruction
// each: the parent may start the next LOAD's requests while the data of the one before still arrives
// (vta_load), or start both sides with the same instruction at once (vta_compute). A side's instruction
// word (req_insn_i, data_insn_i) must stay put while that side is busy, and a side is started only with a
// LOAD whose x_size is non-zero. Wide read beats are taken while rready_o is high (the data side runs);
// narrow ones always (the beat queue has room for every beat requested).
// burst_cap_i limits bursts to CAP_BEATS beats (vta_load: requests issued ahead of their data side, whose
// beats wait in a queue of bounded room).
module vta_load_unit #(
  parameter int unsigned ELEM_BITS = 128,
  parameter int unsigned SRAM_AW   = 11,
  parameter int unsigned BUS_W     = 64,
  parameter int unsigned ADDR_W    = 64,
  parameter int unsigned CAP_BEATS = 256,
  // elements per bus beat (1 for elements at least a beat wide)
  localparam int unsigned LANES     = (ELEM_BITS >= BUS_W) ? 1 : BUS_W / ELEM_BITS,
  localparam int unsigned LOG_LANES = $clog2(LANES)
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  input  logic                          req_start_i,
  input  logic                          data_start_i,
  // the whole instruction words; only the LOAD fields are used
  /* verilator lint_off UNUSEDSIGNAL */
  input  logic [vta_pkg::INSN_BITS-1:0] req_insn_i,
  input  logic [vta_pkg::INSN_BITS-1:0] data_insn_i,
  input  vta_hw_pkg::tile_geom_t        data_geom_i,   // data_insn_i's tile (vta_tile_geom), as stable
  /* verilator lint_on UNUSEDSIGNAL */
  input  logic                          burst_cap_i,
  output logic                          req_busy_o,
  output logic                          data_busy_o,
  output logic                          busy_o,
  // AXI read address / data
  output logic                          arvalid_o,
  input  logic                          arready_i,
  output logic [ADDR_W-1:0]             araddr_o,
  output logic [7:0]                    arlen_o,
  input  logic                          rvalid_i,
  output logic                          rready_o,
  input  logic [BUS_W-1:0]              rdata_i,
  // buffer write port
  output logic                          we_o,
  output logic [SRAM_AW-1:0]            waddr_o,
  output logic [ELEM_BITS-1:0]          wdata_o,
  // the same writes by bank (narrow elements: bank b holds the indices i with i % LANES == b, at word
  // i / LANES); one element wide, bank_* equals the port above
  output logic [LANES-1:0]                     bank_we_o,
  output logic [LANES*(SRAM_AW-LOG_LANES)-1:0] bank_waddr_o,
  output logic [LANES*ELEM_BITS-1:0]           bank_wdata_o,
  // data (non-pad) elements written this cycle, for the byte counters
  output logic [LOG_LANES:0]            elems_loaded_o
);
  localparam int unsigned BUS_BYTES  = BUS_W / 8;
  localparam int unsigned LOG_BUSB   = $clog2(BUS_BYTES);
  localparam int unsigned ELEM_BYTES = ELEM_BITS / 8;
  localparam int unsigned LOG_EB     = $clog2(ELEM_BYTES);
  localparam bit          WIDE       = (ELEM_BITS >= BUS_W);
  localparam int unsigned BPE        = WIDE ? ELEM_BITS / BUS_W : 1;   // beats per element
  localparam int unsigned LOG_BPE    = $clog2(BPE);
  localparam int unsigned DW         = 32;                             // DRAM element-address width
  localparam int unsigned BW         = 16 + LOG_BPE + 1;               // beats-per-row counter width
  localparam int unsigned TW         = 18;                             // tile row/column counters
  // narrow elements: beats requested and not yet consumed at most, and beats per burst at most
  localparam int unsigned NQ_DEPTH   = 128;  // covers 64 cycles of latency at a beat a cycle
  localparam int unsigned NQ_BURST   = 16;
  localparam int unsigned NQW        = $clog2(NQ_DEPTH) + 1;

  // ---- instruction fields (each side's stable while it is busy) ----
  logic [SRAM_AW-1:0] sram_base;
  logic [15:0] y_size, x_size, x_stride, rq_y_size, rq_x_size, rq_x_stride;
  logic [31:0] dram_base, rq_dram_base;
  logic [3:0]  y_pad_0, x_pad_0;
  /* verilator lint_off UNUSEDSIGNAL */  // typed views: the module reads only some fields
  vta_pkg::mem_insn_t mi, rq;
  /* verilator lint_on UNUSEDSIGNAL */
  assign rq           = req_insn_i;
  assign rq_dram_base = rq.dram_base;
  assign rq_y_size    = rq.y_size;
  assign rq_x_size    = rq.x_size;
  assign rq_x_stride  = rq.x_stride;
  assign mi        = data_insn_i;
  assign sram_base = SRAM_AW'(mi.sram_base);  // wraps at the buffer depth
  assign dram_base = mi.dram_base;
  assign y_size    = mi.y_size;
  assign x_size    = mi.x_size;
  assign x_stride  = mi.x_stride;
  assign y_pad_0   = mi.y_pad_0;
  assign x_pad_0   = mi.x_pad_0;

  // the tile's geometry comes worked out (vta_tile_geom); the first data element's address is one
  // three-operand add (its offset comes as two partial sums)
  logic [TW-1:0] rows, cols, data_col_end;
  assign rows         = TW'(data_geom_i.rows);
  assign cols         = TW'(data_geom_i.cols);
  assign data_col_end = TW'(data_geom_i.col_end);

  logic [SRAM_AW-1:0] cols_a, first_data_addr;
  assign cols_a = SRAM_AW'(cols);
  assign first_data_addr = sram_base + SRAM_AW'(data_geom_i.first_a) + SRAM_AW'(data_geom_i.first_b);

  // Byte addresses of elements span DW + LOG_EB bits (the instruction's element index is DW bits) and a row
  // runs at most 2^16 elements past the last index: one bit more holds every address exactly, so the
  // walker's address register and its adder are that wide, not ADDR_W (a shorter carry chain).
  localparam int unsigned BAW = (DW + LOG_EB + 1 < ADDR_W) ? DW + LOG_EB + 1 : ADDR_W;
  function automatic logic [BAW-1:0] byte_addr(input logic [DW-1:0] elem);
    byte_addr = BAW'({elem, {LOG_EB{1'b0}}});
  endfunction

  // ---- request walker ----
  // Kept to a short path between registers (docs/hardware.md, logic depth): a burst is chosen in one cycle
  // from registered state only and presented from registers in the next, so a request goes out at most
  // every other cycle (a burst of two beats or more keeps the bus busy). The next row's address and beat
  // count are worked out one row ahead, and the addresses advance by adds split at the 4 KiB page (a
  // burst never crosses it: only the page number's increment, kept ready, passes the page's carry).
  localparam int unsigned PBW       = 12 - LOG_BUSB;   // beat index bits within a 4 KiB page
  localparam int unsigned AXI_BURST = PBW < 8 ? 1 << PBW : 256;  // AXI's limit, or one page of beats
  localparam int unsigned MAX_BURST = WIDE ? AXI_BURST : NQ_BURST;
  localparam int unsigned CAPPED    = CAP_BEATS < MAX_BURST ? CAP_BEATS : MAX_BURST;
  localparam int unsigned LOG_MAXB  = $clog2(MAX_BURST);
  localparam int unsigned LOG_CAP   = $clog2(CAPPED);
  localparam int unsigned LW        = LOG_MAXB + 1;    // a burst's beat count
  if ((1 << LOG_CAP) != CAPPED || LOG_MAXB > PBW) begin : g_bad_burst
    $error("vta_load_unit: burst limits must be powers of two within a 4 KiB page");
  end

  logic             ar_active_q, ar_present_q, ar_last_q, ar_rows_last_q;
  logic [15:0]      ar_rows_left_q;
  logic [BAW-1:0]   ar_addr_q;
  logic [BAW-13:0]  ar_page_inc_q;              // ar_addr_q's page number plus one
  logic [BW-1:0]    ar_left_q, ar_left_m1_q;    // beats of the row from ar_addr_q on, and one less
  logic [LW-1:0]    ar_burst_q;
  logic [7:0]       ar_len_q;
  // the row after the current one: its first element, and from it (one cycle later) its address and beats
  logic [DW-1:0]    nx_elem_q, nx_elem_next, nx_elem_first;
  logic             nx_valid_q;
  logic [BAW-1:0]   nx_addr_q;
  logic [BW-1:0]    nx_left_q, nx_left_m1_q;

  // beats of a row starting at element `elem`, and one less (x_size >= 1): a narrow row's first element
  // sits at lane elem % LANES. The narrow case's three operands (lane, size, a constant) go to two by one
  // level of full adders, then one add: two adds in a row would chain two carry chains.
  function automatic logic [BW-1:0] beats_of_row(input logic [DW-1:0] elem, input logic minus_one);
    logic [BW-1:0] a, b, k, s, c;
    a = BW'(elem & DW'(LANES - 1));
    b = BW'(rq_x_size);
    k = minus_one ? BW'(-1) : BW'(LANES - 1);
    s = a ^ b ^ k;
    c = ((a & b) | (a & k) | (b & k)) << 1;
    if (WIDE) beats_of_row = minus_one ? BW'({rq_x_size - 16'd1, {LOG_BPE{1'b1}}}) : BW'({rq_x_size, {LOG_BPE{1'b0}}});
    else beats_of_row = BW'((s + c) >> LOG_LANES);
  endfunction

  // the first row's beats, worked out before the start: the request side's instruction is in place a
  // cycle before req_start_i (both parents take it, then pop a token at least; asserted below). A
  // simulator works them out at the start instead (the same values: every cycle would cost it more).
`ifndef VTA_SIM_ARITH
  logic [BW-1:0] rq_left_q, rq_left_m1_q;
  always_ff @(posedge clk_i) begin
    rq_left_q    <= beats_of_row(rq_dram_base, 1'b0);
    rq_left_m1_q <= beats_of_row(rq_dram_base, 1'b1);
  end
`endif
`ifndef SYNTHESIS
  // (the fields the start uses, as they were a cycle before)
  logic [47:0] rq_prev_q;
  always_ff @(posedge clk_i) rq_prev_q <= {rq_dram_base, rq_x_size};
  /* verilator lint_off SYNCASYNCNET */
  always_ff @(posedge clk_i) begin
    if (rst_ni && req_start_i) begin
      ReqInsnSettled: assert ({rq_dram_base, rq_x_size} == rq_prev_q)
        else $error("vta_load_unit: a request side started with an instruction that arrived in the same cycle");
    end
  end
  /* verilator lint_on SYNCASYNCNET */
`endif

  // (two adders, so that the start's late select comes after them)
  vta_add #(.W(DW)) u_next_row (
    .a_i(nx_elem_q), .b_i(DW'(rq_x_stride)), .cin_i(1'b0), .sum_o(nx_elem_next)
  );
  vta_add #(.W(DW)) u_second_row (
    .a_i(rq_dram_base), .b_i(DW'(rq_x_stride)), .cin_i(1'b0), .sum_o(nx_elem_first)
  );

  // the burst from the current state: the least of the row's beats left, the limit in force and the beats
  // to the page's end, each compare against a constant or on the few bits a burst spans
  logic [PBW-1:0] page_m1;  // beats to the page's end, less one
  logic           left_le_lim, lim_le_page, left_le_page, take_left, take_lim;
  logic [LW-1:0]  lim;
  logic [7:0]     lim_m1;
  assign page_m1      = ~ar_addr_q[11:LOG_BUSB];
  assign lim          = burst_cap_i ? LW'(CAPPED) : LW'(MAX_BURST);
  assign lim_m1       = burst_cap_i ? 8'(CAPPED - 1) : 8'(MAX_BURST - 1);
  assign left_le_lim  = burst_cap_i ? (ar_left_m1_q[BW-1:LOG_CAP] == '0) : (ar_left_m1_q[BW-1:LOG_MAXB] == '0);
  assign lim_le_page  = burst_cap_i ? (page_m1 >= PBW'(CAPPED - 1)) : (page_m1 >= PBW'(MAX_BURST - 1));
  assign left_le_page = (ar_left_m1_q[BW-1:PBW] == '0) && (ar_left_m1_q[PBW-1:0] <= page_m1);
  assign take_left    = left_le_lim && left_le_page;
  assign take_lim     = !take_left && lim_le_page;

  // narrow elements: the beat queue has room for any burst (requested and not yet consumed beats counted
  // out of it: nq_free_q), a compare against a constant
  logic [NQW-1:0] nq_free_q;
  logic           nq_room, nq_pop, ar_fire;
  assign nq_room   = WIDE || (nq_free_q >= NQW'(CAPPED));
  assign arvalid_o = ar_present_q && nq_room;
  assign ar_fire   = arvalid_o && arready_i;
  assign araddr_o  = ADDR_W'({ar_addr_q[BAW-1:LOG_BUSB], {LOG_BUSB{1'b0}}});
  assign arlen_o   = ar_len_q;

  // within the page: the burst's end, whose carry out of the page takes the next page number
  logic [12:0] in_page_end;
  assign in_page_end = {1'b0, ar_addr_q[11:0]} + (13'(ar_burst_q) << LOG_BUSB);

  logic [BAW-13:0] page_inc;
  vta_add #(.W(BAW - 12)) u_page_inc (.a_i(ar_addr_q[BAW-1:12]), .b_i('0), .cin_i(1'b1), .sum_o(page_inc));
  always_ff @(posedge clk_i) ar_page_inc_q <= page_inc;  // ready a cycle after each move

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ar_active_q    <= 1'b0;
      ar_present_q   <= 1'b0;
      ar_last_q      <= 1'b0;
      ar_rows_last_q <= 1'b0;
      ar_rows_left_q <= '0;
      ar_addr_q      <= '0;
      ar_left_q      <= '0;
      ar_left_m1_q   <= '0;
      ar_burst_q     <= '0;
      ar_len_q       <= '0;
      nx_elem_q      <= '0;
      nx_valid_q     <= 1'b0;
      nx_addr_q      <= '0;
      nx_left_q      <= '0;
      nx_left_m1_q   <= '0;
    end else if (req_start_i) begin
      ar_active_q    <= (rq_y_size != '0);
      ar_present_q   <= 1'b0;
      ar_rows_left_q <= rq_y_size;
      ar_rows_last_q <= (rq_y_size == 16'd1);
      ar_addr_q      <= byte_addr(rq_dram_base);
`ifdef VTA_SIM_ARITH
      ar_left_q      <= beats_of_row(rq_dram_base, 1'b0);
      ar_left_m1_q   <= beats_of_row(rq_dram_base, 1'b1);
`else
      ar_left_q      <= rq_left_q;
      ar_left_m1_q   <= rq_left_m1_q;
`endif
      nx_elem_q      <= nx_elem_first;
      nx_valid_q     <= 1'b0;
    end else begin
      // the next row's address and beats, from its first element
      if (!nx_valid_q) begin
        nx_valid_q   <= 1'b1;
        nx_addr_q    <= byte_addr(nx_elem_q);
        nx_left_q    <= beats_of_row(nx_elem_q, 1'b0);
        nx_left_m1_q <= beats_of_row(nx_elem_q, 1'b1);
      end
      if (ar_active_q && !ar_present_q) begin
        ar_present_q <= 1'b1;  // (a row's last burst finds the next row ready: nx_valid_q)
        ar_last_q    <= take_left;
        ar_burst_q   <= take_left ? LW'(ar_left_q) : take_lim ? lim : LW'(page_m1) + LW'(1);
        ar_len_q     <= take_left ? 8'(ar_left_m1_q) : take_lim ? lim_m1 : 8'(page_m1);
      end else if (ar_fire) begin
        ar_present_q <= 1'b0;
        if (ar_last_q) begin
          ar_rows_left_q <= ar_rows_left_q - 16'd1;
          ar_rows_last_q <= (ar_rows_left_q == 16'd2);
          ar_active_q    <= !ar_rows_last_q;
          ar_addr_q      <= nx_addr_q;
          ar_left_q      <= nx_left_q;
          ar_left_m1_q   <= nx_left_m1_q;
          nx_elem_q      <= nx_elem_next;
          nx_valid_q     <= 1'b0;
        end else begin
          ar_addr_q    <= {in_page_end[12] ? ar_page_inc_q : ar_addr_q[BAW-1:12], in_page_end[11:0]};
          ar_left_q    <= ar_left_q - BW'(ar_burst_q);
          ar_left_m1_q <= ar_left_q + ~(BW'(ar_burst_q));
        end
      end
    end
  end

`ifndef SYNTHESIS
  /* verilator lint_off SYNCASYNCNET */
  always_ff @(posedge clk_i) begin
    if (rst_ni && !req_start_i) begin
      NextRowReady: assert (!(ar_fire && ar_last_q && !ar_rows_last_q) || nx_valid_q)
        else $error("vta_load_unit: a row ended before the next row's address was ready");
    end
  end
  /* verilator lint_on SYNCASYNCNET */
`endif

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      nq_free_q <= NQW'(NQ_DEPTH);
    end else if (req_start_i) begin
      nq_free_q <= NQW'(NQ_DEPTH);
    end else if (!WIDE) begin
      // both sums ready before the request's handshake picks one
      nq_free_q <= ar_fire ? nq_free_q + NQW'(nq_pop) - NQW'(ar_burst_q) : nq_free_q + NQW'(nq_pop);
    end
  end
  // ---- data walker ----
  // Each write takes dw_n elements of the row (narrow: the rest of the beat, or of the row if it ends in
  // the beat; one otherwise) from dw_left_q still to write.
  logic               dw_active_q;
  logic [15:0]        dw_rows_left_q, dw_left_q;
  logic [SRAM_AW-1:0] dw_addr_q, dw_row_addr_q;
  logic [DW-1:0]      dw_elem_q, dw_row_elem_q;
  logic               dw_we, dw_row_end;
  logic [LOG_LANES:0] dw_n;
  logic [LOG_LANES:0] dw_step;  // dw_n when the write does not end the row (from registers only)
  logic [LANES*ELEM_BITS-1:0] dw_data;  // element j (of the dw_n written) at slice j

  if (!WIDE) begin : g_narrow
    logic [LOG_LANES-1:0] lane;
    logic                 nq_valid;
    logic [BUS_W-1:0]     nq_beat;
    logic [NQW-1:0]       unused_nq_count;
    logic                 nq_ready;         // never full: bursts wait for room (nq_room)
    vta_fifo #(.WIDTH(BUS_W), .DEPTH(NQ_DEPTH)) u_beats (
      .clk_i, .rst_ni, .clear_i(data_start_i),
      .wvalid_i(rvalid_i), .wready_o(nq_ready), .wdata_i(rdata_i),
      .rvalid_o(nq_valid), .rready_i(nq_pop), .rdata_o(nq_beat), .count_o(unused_nq_count)
    );
    logic [LOG_LANES:0] beat_left;  // the beat's lanes from the walker's element on
    assign lane       = dw_elem_q[LOG_LANES-1:0];
    assign beat_left  = (LOG_LANES + 1)'(LANES) - (LOG_LANES + 1)'(lane);
    assign dw_row_end = (dw_left_q <= 16'(beat_left));
    assign dw_n       = dw_row_end ? dw_left_q[LOG_LANES:0] : beat_left;
    assign dw_step    = beat_left;
    // the beat shifted to the walker's lane: element j of this write at slice j
    assign dw_data    = nq_beat >> (lane * ELEM_BITS);
    assign dw_we      = nq_valid && dw_active_q;
    // every write ends its beat: it takes the beat's last lane, or the row's last element (a row's bursts
    // end there)
    assign nq_pop     = dw_we;
`ifndef SYNTHESIS
    /* verilator lint_off SYNCASYNCNET */
    always_ff @(posedge clk_i) begin
      if (rst_ni) begin
        BeatQueueHasRoom: assert (!rvalid_i || nq_ready)
          else $error("vta_load_unit: a read beat arrived while the beat queue was full");
      end
    end
    /* verilator lint_on SYNCASYNCNET */
`else
    logic unused_nq_ready;
    assign unused_nq_ready = nq_ready;
`endif
  end else if (BPE == 1) begin : g_one_beat
    assign nq_pop     = 1'b0;
    assign dw_data    = rdata_i;
    assign dw_we      = rvalid_i && dw_active_q;
    assign dw_row_end = (dw_left_q == 16'd1);
    assign dw_n       = 1'b1;
    assign dw_step    = 1'b1;
  end else begin : g_multi_beat
    logic [ELEM_BITS-BUS_W-1:0] sh_q;
    assign nq_pop  = 1'b0;
    logic [LOG_BPE-1:0] beat_q;
    assign dw_data    = {rdata_i, sh_q};
    assign dw_we      = rvalid_i && dw_active_q && (beat_q == LOG_BPE'(BPE - 1));
    assign dw_row_end = (dw_left_q == 16'd1);
    assign dw_n       = 1'b1;
    assign dw_step    = 1'b1;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        beat_q <= '0;
      end else if (data_start_i) begin
        beat_q <= '0;
      end else if (rvalid_i && dw_active_q) begin
        beat_q <= beat_q + 1'b1;  // wraps to 0 after the last beat of an element
      end
    end
    // beats arrive lowest address first: shift them in from the top
    if (BPE == 2) begin : g_sh2
      always_ff @(posedge clk_i) begin
        if (rvalid_i && dw_active_q) sh_q <= rdata_i;
      end
    end else begin : g_shn
      always_ff @(posedge clk_i) begin
        if (rvalid_i && dw_active_q) sh_q <= {rdata_i, sh_q[ELEM_BITS-BUS_W-1:BUS_W]};
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      dw_active_q    <= 1'b0;
      dw_rows_left_q <= '0;
      dw_left_q      <= '0;
      dw_addr_q      <= '0;
      dw_row_addr_q  <= '0;
      dw_elem_q      <= '0;
      dw_row_elem_q  <= '0;
    end else if (data_start_i) begin
      dw_active_q    <= (y_size != '0);
      dw_rows_left_q <= y_size;
      dw_left_q      <= x_size;
      dw_addr_q      <= first_data_addr;
      dw_row_addr_q  <= first_data_addr;
      dw_elem_q      <= dram_base;
      dw_row_elem_q  <= dram_base;
    end else if (dw_we) begin
      if (dw_row_end) begin
        dw_left_q      <= x_size;
        dw_rows_left_q <= dw_rows_left_q - 16'd1;
        dw_active_q    <= (dw_rows_left_q != 16'd1);
        dw_row_addr_q  <= dw_row_addr_q + cols_a;
        dw_addr_q      <= dw_row_addr_q + cols_a;
        dw_row_elem_q  <= dw_row_elem_q + DW'(x_stride);
        dw_elem_q      <= dw_row_elem_q + DW'(x_stride);
      end else begin
        // (not the row's end: dw_n is dw_step, which the row-end test does not delay)
        dw_left_q <= dw_left_q - 16'(dw_step);
        dw_addr_q <= dw_addr_q + SRAM_AW'(dw_step);
        dw_elem_q <= dw_elem_q + DW'(dw_step);
      end
    end
  end

  // ---- pad walker ----
  // One step a cycle the data walker leaves the port free: a pad element, or a data row's data span at
  // once. The row's kind comes from down-counters (top pad rows before the data rows, data rows left)
  // and a row's last step from compares against values fixed at the start, so that a step's decision
  // is a few LUTs deep.
  logic               pw_active_q, pw_data_row_q, pw_no_right_q;
  logic [TW-1:0]      pw_r_q, pw_c_q, pw_cols_m1_q, pw_rows_m1_q;
  logic [TW-1:0]      pw_c_next;  // the next column: a carry-select add (an 18-bit ripple was 5 CARRY4)
  vta_add #(.W(TW)) u_pw_c_inc (.a_i(pw_c_q), .b_i('0), .cin_i(1'b1), .sum_o(pw_c_next));
  logic [3:0]         pw_to_data_q;    // top pad rows from the current one to the first data row
  logic [15:0]        pw_data_left_q;  // data rows not yet done
  logic [SRAM_AW-1:0] pw_row_addr_q;
  logic               pw_at_data, pw_row_done, pw_we, pw_step;

  assign pw_at_data  = pw_data_row_q && (pw_c_q == TW'(x_pad_0));
  assign pw_row_done = pw_at_data ? pw_no_right_q : (pw_c_q == pw_cols_m1_q);
  assign pw_we       = pw_active_q && !pw_at_data && !dw_we;
  assign pw_step     = pw_active_q && (pw_at_data || !dw_we);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      pw_active_q    <= 1'b0;
      pw_data_row_q  <= 1'b0;
      pw_no_right_q  <= 1'b0;
      pw_r_q         <= '0;
      pw_c_q         <= '0;
      pw_cols_m1_q   <= '0;
      pw_rows_m1_q   <= '0;
      pw_to_data_q   <= '0;
      pw_data_left_q <= '0;
      pw_row_addr_q  <= '0;
    end else if (data_start_i) begin
      pw_active_q    <= (rows != '0);
      pw_data_row_q  <= (y_pad_0 == '0) && (y_size != '0);
      pw_no_right_q  <= (data_col_end == cols);
      pw_r_q         <= '0;
      pw_c_q         <= '0;
      pw_cols_m1_q   <= cols - TW'(1);
      pw_rows_m1_q   <= rows - TW'(1);
      pw_to_data_q   <= y_pad_0;
      pw_data_left_q <= y_size;
      pw_row_addr_q  <= sram_base;
    end else if (pw_step) begin
      if (pw_row_done) begin
        pw_c_q         <= '0;
        pw_r_q         <= pw_r_q + TW'(1);
        pw_row_addr_q  <= pw_row_addr_q + cols_a;
        pw_active_q    <= (pw_r_q != pw_rows_m1_q);
        pw_to_data_q   <= (pw_to_data_q == '0) ? '0 : pw_to_data_q - 4'd1;
        if (pw_data_row_q) pw_data_left_q <= pw_data_left_q - 16'd1;
        pw_data_row_q  <= (pw_to_data_q <= 4'd1) &&
                          (pw_data_row_q ? (pw_data_left_q[15:1] != '0) : (pw_data_left_q != '0));
      end else begin
        pw_c_q <= pw_at_data ? data_col_end : pw_c_next;
      end
    end
  end

  // ---- buffer write port ----
  logic [SRAM_AW-1:0] pw_addr;
  assign pw_addr        = pw_row_addr_q + SRAM_AW'(pw_c_q);
  assign we_o           = dw_we || pw_we;
  assign waddr_o        = dw_we ? dw_addr_q : pw_addr;
  assign wdata_o        = dw_we ? dw_data[0 +: ELEM_BITS] : '0;
  assign elems_loaded_o = dw_we ? dw_n : '0;
  if (LANES == 1) begin : g_one_bank
    assign bank_we_o    = we_o;
    assign bank_waddr_o = waddr_o;
    assign bank_wdata_o = wdata_o;
  end else begin : g_banks
    // bank b takes element j = (b - dw_addr_q) % LANES of the write, if the write has that many; a pad
    // write goes to its index's bank
    for (genvar b = 0; b < LANES; b++) begin : g_bank
      logic [LOG_LANES-1:0]         j;
      logic [SRAM_AW-LOG_LANES-1:0] word;        // of index dw_addr_q + j
      logic [LOG_LANES-1:0]         unused_bank;  // = b
      assign j                   = LOG_LANES'(b) - dw_addr_q[LOG_LANES-1:0];
      assign {word, unused_bank} = dw_addr_q + SRAM_AW'(j);
      always_comb begin
        bank_we_o[b] = 1'b0;
        bank_waddr_o[b * (SRAM_AW - LOG_LANES) +: SRAM_AW - LOG_LANES] = pw_addr[SRAM_AW-1:LOG_LANES];
        bank_wdata_o[b * ELEM_BITS +: ELEM_BITS] = '0;
        if (dw_we) begin
          bank_we_o[b] = ((LOG_LANES + 1)'(j) < dw_n);
          bank_waddr_o[b * (SRAM_AW - LOG_LANES) +: SRAM_AW - LOG_LANES] = word;
          bank_wdata_o[b * ELEM_BITS +: ELEM_BITS] = dw_data[j * ELEM_BITS +: ELEM_BITS];
        end else if (pw_we) begin
          bank_we_o[b] = (pw_addr[LOG_LANES-1:0] == LOG_LANES'(b));
        end
      end
    end
  end
  assign req_busy_o    = ar_active_q;
  assign data_busy_o   = dw_active_q || pw_active_q;
  assign busy_o        = req_busy_o || data_busy_o;
  assign rready_o      = !WIDE || dw_active_q;
endmodule
