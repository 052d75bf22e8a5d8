// The load module: executes LOADs of INP and WGT tiles. Per instruction: pop a compute->load token if
// pop_next, run the load (x_size == 0: token-only no-op), then push a load->compute token if push_next.
//
// Two instructions overlap: the front end pops the next instruction's token and issues its read requests
// while the back end still writes the data of the one before and then pushes its token, so a LOAD's DRAM
// latency hides behind the previous LOAD's data. Read beats wait in a beat queue until the back end's
// instruction takes them (in request order: AXI returns one ID's bursts in order). Requests issued ahead
// of their data side are bursts of at most AHEAD_BURST beats, issued only while the queue has room for
// every beat requested and not yet taken and a whole such burst, so read data is always accepted. The module behaves like one
// that runs its instructions one at a time, token for token:
//  - a pop waits while an older instruction's push is pending and the load->compute queue is full (its
//    push could block, and a sequential module would not have popped yet: deadlocks stay deadlocks);
//  - an out-of-range or bad-flag instruction is reported once the older ones have completed.
module vta_load #(
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
  input  logic [16:0]                   cmd_rows_i,   // the tile's rows and columns, padding included
  input  logic [16:0]                   cmd_cols_i,
  // tokens: pop compute->load, push load->compute
  output logic                          pop_next_o,
  input  logic                          pop_next_ready_i,
  output logic                          push_next_o,
  input  logic                          push_next_ready_i,
  // AXI read
  output logic                          arvalid_o,
  input  logic                          arready_i,
  output logic [ADDR_W-1:0]             araddr_o,
  output logic [7:0]                    arlen_o,
  input  logic                          rvalid_i,
  input  logic [BUS_W-1:0]              rdata_i,
  // buffer write ports
  output logic                                inp_we_o,
  output logic [vta_pkg::LOG_INP_DEPTH-1:0]   inp_waddr_o,
  output logic [vta_pkg::INP_ELEM_BITS-1:0]   inp_wdata_o,
  output logic                                wgt_we_o,
  output logic [vta_pkg::LOG_WGT_DEPTH-1:0]   wgt_waddr_o,
  output logic [vta_pkg::WGT_ELEM_BITS-1:0]   wgt_wdata_o,
  // status
  output logic                          idle_o,
  output logic                          blocked_o,    // waiting for a token, and nothing else runs
  output logic                          stall_o,      // waiting for a token (the token-stall counter)
  output logic [31:0]                   cur_idx_o,    // the oldest instruction it holds
  output logic                          error_o,      // one-cycle pulse
  output logic [7:0]                    error_code_o,
  output logic [3:0]                    error_info_o, // out-of-range index: the buffer (vta_pkg::IDX_*)
  output logic [31:0]                   error_addr_o, // ... and the index
  // counter events
  output logic                          insn_done_o,
  output logic                          inp_elem_o,
  output logic                          wgt_elem_o
);
  localparam int unsigned BEAT_QUEUE  = 64;              // beats; a power of two
  localparam int unsigned AHEAD_BURST = BEAT_QUEUE / 2;
  localparam int unsigned QW          = $clog2(BEAT_QUEUE);
  localparam int unsigned OW          = 16;               // beats requested and not yet taken
  localparam int unsigned GW          = vta_hw_pkg::TILE_GEOM_BITS;
  localparam int unsigned EW          = GW + vta_pkg::INSN_BITS + 32 + 1;  // back-end entry: geometry, insn, idx, runs
  // elements narrower than the bus go through the unit's own beat queue, which counts the beats of one
  // instruction: such a config runs one instruction at a time
  localparam bit          OVERLAP     = (vta_pkg::INP_ELEM_BITS >= BUS_W) && (vta_pkg::WGT_ELEM_BITS >= BUS_W);

  // ---- front end: command, pop token, check, start the requests ----
  typedef enum logic [1:0] {F_IDLE, F_POP, F_START, F_REQ} front_e;
  front_e front_q, front_d;

  logic [vta_pkg::INSN_BITS-1:0] insn_q;
  logic [31:0] idx_q;
  logic [2:0]  mem_type;
  logic [15:0] x_size;
  logic        is_wgt, pop_next, bad_dep;
  /* verilator lint_off UNUSEDSIGNAL */  // a typed view: the module reads only some fields
  vta_pkg::mem_insn_t mi;
  /* verilator lint_on UNUSEDSIGNAL */
  assign mi        = insn_q;
  assign mem_type  = mi.memory_type;
  assign x_size    = mi.x_size;
  assign pop_next  = mi.pop_next;
  assign bad_dep   = mi.pop_prev || mi.push_prev;
  assign is_wgt    = (mem_type == 3'(vta_pkg::MEM_TYPE_WGT));

  // the tile must fit its buffer (checked on the whole sram_base field; a tile that does not fit is
  // reported and never started, so nothing wraps around the buffer)
  logic        oob;
  logic [31:0] oob_last;
  logic        front_free;  // the front end takes a command this cycle if one is there
  // rows x cols of the instruction on the command queue when the front end takes it (M stays put in POP,
  // which adds sram_base in P); the check's result is registered (OOB_REG: it came out of the DSP's P
  // into the front end's decision, one of the core's longest paths), so START enqueues from its second
  // cycle on (start_seen_q), and reports a tile that does not fit then
  logic took_q;  // the front end took an instruction in the cycle before (it is in POP now)
  vta_tile_check #(.DEPTH_A(vta_pkg::INP_DEPTH), .DEPTH_B(vta_pkg::WGT_DEPTH), .OOB_REG(1'b1)) u_bounds (
    .clk_i, .hold_en_i(took_q),
    .rows_i(cmd_rows_i), .cols_i(cmd_cols_i), .sram_base_i(mi.sram_base),
    .depth_b_i(is_wgt),
    .oob_o(oob), .last_o(oob_last)
  );
  // the tile's geometry, ready by START (the front end takes an instruction, then POPs at least a cycle)
  vta_hw_pkg::tile_geom_t geom;
  vta_tile_geom u_geom (.clk_i, .take_i(front_free && cmd_valid_i), .insn_i(cmd_insn_i),
                        .rows_i(cmd_rows_i), .cols_i(cmd_cols_i), .geom_o(geom));
  logic bad_index, front_bad, front_runs;
  assign bad_index  = (x_size != '0) && oob;
  assign front_bad  = bad_dep || bad_index;
  assign front_runs = (x_size != '0) && !front_bad;

  // ---- back end: a queue of started instructions; the head writes its data, then pushes ----
  typedef enum logic [1:0] {B_IDLE, B_RUN, B_PUSH} back_e;
  back_e back_q, back_d;

  logic          bq_wvalid, bq_wready, bq_valid, bq_pop;
  logic [EW-1:0] bq_head;
  logic [1:0]    bq_count;
  logic [vta_pkg::INSN_BITS-1:0] head_insn;
  vta_hw_pkg::tile_geom_t        head_geom;
  logic [31:0]   head_idx;
  logic          head_runs, head_is_wgt, head_push_next;
  /* verilator lint_off UNUSEDSIGNAL */  // a typed view: the module reads only some fields
  vta_pkg::mem_insn_t hi;
  /* verilator lint_on UNUSEDSIGNAL */
  vta_fifo #(.WIDTH(EW), .DEPTH(2)) u_back_q (
    .clk_i, .rst_ni, .clear_i(1'b0),
    .wvalid_i(bq_wvalid), .wready_o(bq_wready), .wdata_i({geom, insn_q, idx_q, front_runs}),
    .rvalid_o(bq_valid), .rready_i(bq_pop), .rdata_o(bq_head), .count_o(bq_count)
  );
  assign {head_geom, head_insn, head_idx, head_runs} = bq_head;
  assign hi             = head_insn;
  assign head_is_wgt    = (hi.memory_type == 3'(vta_pkg::MEM_TYPE_WGT));
  assign head_push_next = hi.push_next;

  // START enqueues the instruction (and starts its requests) when the back end has room; a bad one waits
  // until the older ones have completed (as every one does without OVERLAP), then is reported and passes
  // through as a no-op
  logic enq;
  logic start_seen_q;
  assign enq       = (front_q == F_START) && start_seen_q && bq_wready &&
                     ((OVERLAP && !front_bad) || (!bq_valid && back_q == B_IDLE));
  assign bq_wvalid = enq;

  // a pop waits while the head's push could still block (see the header)
  logic pop_ok;
  assign pop_ok = (bq_count == 2'd0) ||
                  (bq_count == 2'd1 && (!head_push_next || push_next_ready_i));

  // ---- the two load units; the front end's instruction requests, the head's writes ----
  logic inp_req_start, wgt_req_start, inp_data_start, wgt_data_start;
  logic inp_req_busy, wgt_req_busy, inp_data_busy, wgt_data_busy, unused_inp_busy, unused_wgt_busy;
  logic inp_arvalid, wgt_arvalid, inp_rready, wgt_rready, front_req_busy, head_data_busy;
  logic [ADDR_W-1:0] inp_araddr, wgt_araddr;
  logic [7:0] inp_arlen, wgt_arlen;
  logic front_live, burst_cap, ar_allow, ar_fire;
  logic beat_valid, beat_take, beat_ready, in_run;
  logic [BUS_W-1:0] beat;
  logic [QW:0] unused_beat_count;

  assign inp_req_start  = enq && front_runs && !is_wgt;
  assign wgt_req_start  = enq && front_runs && is_wgt;
  assign inp_data_start = (back_q == B_IDLE) && bq_valid && head_runs && !head_is_wgt;
  assign wgt_data_start = (back_q == B_IDLE) && bq_valid && head_runs && head_is_wgt;
  assign in_run         = (back_q == B_RUN);
  // the running head's buffer, registered as it starts: the beat handshake and the owed count's update
  // then start at registers, not at the back queue's read mux. The same value while in_run; a simulator
  // takes the head's field (Verilator's schedule of the load units is some 8% of tsim's time faster so)
  logic run_wgt;
`ifdef VTA_SIM_ARITH
  assign run_wgt = head_is_wgt;
`else
  logic run_wgt_q;
  always_ff @(posedge clk_i) begin
    if (back_q == B_IDLE) run_wgt_q <= head_is_wgt;
  end
  assign run_wgt = run_wgt_q;
`endif

  // the front end's instruction is live when it is the head and its data side runs: its beats are taken
  // as they arrive, so it needs no room in the queue
  assign front_live = (front_q == F_REQ) && (bq_count == 2'd1) && in_run;
  assign burst_cap  = !front_live;

  vta_load_unit #(
    .ELEM_BITS(vta_pkg::INP_ELEM_BITS), .SRAM_AW(vta_pkg::LOG_INP_DEPTH), .BUS_W(BUS_W), .ADDR_W(ADDR_W),
    .CAP_BEATS(AHEAD_BURST)
  ) u_inp (
    .clk_i, .rst_ni, .req_start_i(inp_req_start), .req_insn_i(insn_q),
    .data_start_i(inp_data_start), .data_insn_i(head_insn), .data_geom_i(head_geom), .burst_cap_i(burst_cap),
    .req_busy_o(inp_req_busy), .data_busy_o(inp_data_busy), .busy_o(unused_inp_busy),
    .arvalid_o(inp_arvalid), .arready_i(arready_i && ar_allow && !is_wgt), .araddr_o(inp_araddr),
    .arlen_o(inp_arlen), .rvalid_i(beat_valid && in_run && !run_wgt), .rready_o(inp_rready), .rdata_i(beat),
    .we_o(inp_we_o), .waddr_o(inp_waddr_o), .wdata_o(inp_wdata_o), .elems_loaded_o(inp_elem_o),
    /* verilator lint_off PINCONNECTEMPTY */  // one element wide: the bank port is the port above
    .bank_we_o(), .bank_waddr_o(), .bank_wdata_o()
    /* verilator lint_on PINCONNECTEMPTY */
  );

  vta_load_unit #(
    .ELEM_BITS(vta_pkg::WGT_ELEM_BITS), .SRAM_AW(vta_pkg::LOG_WGT_DEPTH), .BUS_W(BUS_W), .ADDR_W(ADDR_W),
    .CAP_BEATS(AHEAD_BURST)
  ) u_wgt (
    .clk_i, .rst_ni, .req_start_i(wgt_req_start), .req_insn_i(insn_q),
    .data_start_i(wgt_data_start), .data_insn_i(head_insn), .data_geom_i(head_geom), .burst_cap_i(burst_cap),
    .req_busy_o(wgt_req_busy), .data_busy_o(wgt_data_busy), .busy_o(unused_wgt_busy),
    .arvalid_o(wgt_arvalid), .arready_i(arready_i && ar_allow && is_wgt), .araddr_o(wgt_araddr),
    .arlen_o(wgt_arlen), .rvalid_i(beat_valid && in_run && run_wgt), .rready_o(wgt_rready), .rdata_i(beat),
    .we_o(wgt_we_o), .waddr_o(wgt_waddr_o), .wdata_o(wgt_wdata_o), .elems_loaded_o(wgt_elem_o),
    /* verilator lint_off PINCONNECTEMPTY */  // one element wide: the bank port is the port above
    .bank_we_o(), .bank_waddr_o(), .bank_wdata_o()
    /* verilator lint_on PINCONNECTEMPTY */
  );

  assign front_req_busy = is_wgt ? wgt_req_busy : inp_req_busy;
  assign head_data_busy = run_wgt ? wgt_data_busy : inp_data_busy;

  // ---- read requests and the beat queue ----
  logic [OW-1:0] owed_q;  // beats requested and not yet taken by a data side
  // room for a whole ahead burst, whatever the length of the one presented (a compare against a constant:
  // the burst length's adders stay off the request path), registered: a unit presents at most every
  // other cycle, so the owed count a request finds here already holds the request before it
  logic ar_allow_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) ar_allow_q <= 1'b0;
    else ar_allow_q <= front_live ? !owed_q[OW-1] : (owed_q <= OW'(BEAT_QUEUE - AHEAD_BURST));
  end
  assign ar_allow  = ar_allow_q;
  assign arvalid_o = (is_wgt ? wgt_arvalid : inp_arvalid) && ar_allow;
  assign araddr_o  = is_wgt ? wgt_araddr : inp_araddr;
  assign arlen_o   = is_wgt ? wgt_arlen : inp_arlen;
  assign ar_fire   = arvalid_o && arready_i;

  vta_fifo #(.WIDTH(BUS_W), .DEPTH(BEAT_QUEUE)) u_beats (
    .clk_i, .rst_ni, .clear_i(1'b0),
    .wvalid_i(rvalid_i), .wready_o(beat_ready), .wdata_i(rdata_i),
    .rvalid_o(beat_valid), .rready_i(beat_take), .rdata_o(beat), .count_o(unused_beat_count)
  );
  assign beat_take = beat_valid && in_run && (run_wgt ? wgt_rready : inp_rready);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) owed_q <= '0;
    // both sums ready before the request's handshake picks one
    else owed_q <= ar_fire ? owed_q + OW'(arlen_o) + OW'(!beat_take) : owed_q - OW'(beat_take);
  end

`ifndef SYNTHESIS
  /* verilator lint_off SYNCASYNCNET */
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      BeatQueueHasRoom: assert (!rvalid_i || beat_ready)
        else $error("vta_load: a read beat arrived while the beat queue was full");
    end
  end
  /* verilator lint_on SYNCASYNCNET */
`endif

  // ---- control ----
  logic pop_adv, pop_blk, push_adv, push_blk;
  vta_token_step u_pop (.active_i(front_q == F_POP && pop_ok), .want_i(pop_next), .ready_i(pop_next_ready_i),
                        .fire_o(pop_next_o), .advance_o(pop_adv), .blocked_o(pop_blk));
  vta_token_step u_push (.active_i(back_q == B_PUSH), .want_i(head_push_next), .ready_i(push_next_ready_i),
                         .fire_o(push_next_o), .advance_o(push_adv), .blocked_o(push_blk));

  assign front_free  = (front_q == F_IDLE) || (front_q == F_REQ && !front_req_busy);
  assign cmd_ready_o = front_free;

  always_comb begin
    front_d = front_q;
    unique case (front_q)
      F_IDLE, F_REQ: if (front_free) front_d = cmd_valid_i ? F_POP : F_IDLE;
      F_POP: if (pop_adv) front_d = F_START;
      F_START: if (enq) front_d = front_runs ? F_REQ : F_IDLE;
      default: front_d = F_IDLE;
    endcase
  end

  always_comb begin
    back_d      = back_q;
    bq_pop      = 1'b0;
    insn_done_o = 1'b0;
    unique case (back_q)
      B_IDLE: if (bq_valid) back_d = head_runs ? B_RUN : B_PUSH;
      B_RUN: if (!head_data_busy) back_d = B_PUSH;
      B_PUSH: begin
        if (push_adv) begin
          back_d      = B_IDLE;
          bq_pop      = 1'b1;
          insn_done_o = 1'b1;
        end
      end
      default: back_d = B_IDLE;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      front_q <= F_IDLE;
      back_q  <= B_IDLE;
      start_seen_q <= 1'b0;
      took_q       <= 1'b0;
      insn_q  <= '0;
      idx_q   <= '0;
    end else begin
      front_q <= front_d;
      back_q  <= back_d;
      start_seen_q <= (front_q == F_START);
      took_q       <= front_free && cmd_valid_i;
      if (front_free && cmd_valid_i) begin
        insn_q <= cmd_insn_i;
        idx_q  <= cmd_idx_i;
      end
    end
  end

  assign idle_o       = (front_q == F_IDLE) && !bq_valid && (back_q == B_IDLE);
  // a pop waiting while older instructions still run is not stuck (they will complete)
  assign blocked_o    = push_blk || (pop_blk && !bq_valid);
  assign stall_o      = push_blk || pop_blk;
  assign cur_idx_o    = bq_valid ? head_idx : idx_q;
  assign error_o      = (front_q == F_START) && front_bad && enq;
  assign error_code_o = bad_dep ? vta_pkg::ERR_DEP_FLAGS : vta_pkg::ERR_INDEX;
  assign error_info_o = is_wgt ? vta_pkg::IDX_WGT : vta_pkg::IDX_INP;
  assign error_addr_o = oob_last;
endmodule
