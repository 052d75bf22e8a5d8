// The fetch module: reads insn_count instructions from insn_addr (16-byte aligned) and dispatches each,
// in program order, to the command queue of the module that executes it (ISA routing rule):
// STORE -> store; LOAD of INP/WGT -> load; everything else -> compute. Opcodes 5..7 are reported as
// errors and dropped, and so is a FINISH that is not the last instruction or a last one that is not
// FINISH (as fsim rejects them: on Apache VTA's core the host would see "done" at the first FINISH). Instructions are read in bursts of up to BURST_INSNS into a local buffer; a burst is
// only requested when the buffer has room for all of it, so read data is always accepted.
module vta_fetch #(
  parameter int unsigned BUS_W       = 64,
  parameter int unsigned ADDR_W      = 64,
  parameter int unsigned BUF_DEPTH   = 16,
  parameter int unsigned BURST_INSNS = 8
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  input  logic                          start_i,
  input  logic [ADDR_W-1:0]             insn_addr_i,
  input  logic [31:0]                   insn_count_i,
  // AXI read
  output logic                          arvalid_o,
  input  logic                          arready_i,
  output logic [ADDR_W-1:0]             araddr_o,
  output logic [7:0]                    arlen_o,
  input  logic                          rvalid_i,
  input  logic [BUS_W-1:0]              rdata_i,
  input  logic                          rlast_i,
  // dispatch
  output logic [vta_pkg::INSN_BITS-1:0] insn_o,
  output logic [31:0]                   idx_o,
  output logic                          load_valid_o,
  input  logic                          load_ready_i,
  output logic                          compute_valid_o,
  input  logic                          compute_ready_i,
  output logic                          store_valid_o,
  input  logic                          store_ready_i,
  // status
  output logic                          done_o,     // every instruction dispatched
  output logic                          blocked_o,  // the next instruction waits on a full queue
  output logic                          error_o,
  output logic [7:0]                    error_code_o,
  output logic [31:0]                   error_idx_o
);
  localparam int unsigned IB   = vta_pkg::INSN_BITS;
  localparam int unsigned BPI  = IB / BUS_W;  // beats per instruction (BUS_W <= 128)
  localparam int unsigned CW   = $clog2(BUF_DEPTH) + 1;

  // ---- requests ----
  logic [ADDR_W-1:0] addr_q;
  logic [31:0]       req_left_q, disp_left_q, idx_q;
  logic              disp_last_q;  // the head is the stream's last instruction (disp_left_q == 1)
  logic              outstanding_q;
  logic [CW-1:0]     buf_count;
  // The burst's instruction count in a few bits (a burst is at most BURST_INSNS): the instructions left
  // and those to the 4 KiB boundary, each compared with BURST_INSNS first. It is planned from registered
  // state in the cycle after each change and registered (one burst is outstanding at a time, so the plan
  // is ready long before the next request), and the address advances within its page by a short add,
  // the page number's increment kept ready: the request path holds no wide adder or compare.
  localparam int unsigned NW = $clog2(BURST_INSNS) + 1;
  if ((BURST_INSNS & (BURST_INSNS - 1)) != 0) begin : g_bad_burst
    $error("vta_fetch: BURST_INSNS must be a power of two");
  end
  logic [NW-1:0] n_insns, left_n, page_n, n_q;
  logic          left_big_q;  // req_left_q >= BURST_INSNS
  logic [7:0]    slot;  // the instruction's place in its 4 KiB page
  logic          plan_valid_q, more_q;
  logic [CW-1:0] room_limit_q;  // the buffer takes the burst while it holds at most this many
  logic [7:0]    len_q;
  assign slot    = addr_q[11:4];
  // (left_big_q: at least BURST_INSNS left, a bit test kept as a register beside req_left_q, since a
  // 29-bit OR before the plan's compare was its longest path)
  logic [NW-1:0] left_lo;
  assign left_lo  = NW'(req_left_q);
  assign left_n   = left_big_q ? NW'(BURST_INSNS) : left_lo;
  // The slots to the page's end when fewer than a burst (256 - slot: the page's last BURST_INSNS slots
  // but the first), by bit tests and the low bits' negation: no carry chain. The burst is the fewer of
  // the two, by a compare written as logic (Yosys gives a `<` a carry chain), and the plan's other
  // registers take each candidate's value, worked out beside the compare: the page's without an add.
  localparam int unsigned LB      = NW - 1;            // log2(BURST_INSNS)
  localparam int unsigned LOG_BPI = $clog2(BPI);
  if (BURST_INSNS < 2 || BUF_DEPTH % BURST_INSNS != 0 || (1 << LOG_BPI) != BPI) begin : g_bad_buf
    $error("vta_fetch: BUF_DEPTH must be a multiple of BURST_INSNS, and the beats per instruction a power of two");
  end
  function automatic logic less(input logic [NW-1:0] a, input logic [NW-1:0] b);
    less = 1'b0;
    for (int unsigned i = 0; i < NW; i++) less = (!a[i] && b[i]) || (!(a[i] ^ b[i]) && less);
  endfunction
  logic          near_end, page_first;
  logic [LB-1:0] s_lo, s_neg, s_inv;
  logic [NW-1:0] page_m1;
  logic [CW-1:0] room_page, room_left;
  logic [7:0]    len_page, len_left;
  assign s_lo     = slot[LB-1:0];
  assign s_inv    = ~s_lo;  // BURST_INSNS - 1 - s_lo
  assign near_end = (&slot[7:LB]) && (s_lo != '0);
  for (genvar i = 0; i < LB; i++) begin : g_neg
    if (i == 0) begin : g_bit0
      assign s_neg[i] = s_lo[i];
    end else begin : g_bit
      assign s_neg[i] = s_lo[i] ^ (|s_lo[i-1:0]);
    end
  end
  assign page_n     = near_end ? NW'(s_neg) : NW'(BURST_INSNS);
  assign page_m1    = near_end ? NW'(s_inv) : NW'(BURST_INSNS - 1);
  assign room_page  = near_end ? (CW'(BUF_DEPTH - BURST_INSNS) | CW'(s_lo)) : CW'(BUF_DEPTH - BURST_INSNS);
  // (the few-left values from the register's low bits, the wide test selecting after them)
  assign room_left  = left_big_q ? CW'(BUF_DEPTH - BURST_INSNS) : CW'(BUF_DEPTH) - CW'(left_lo);
  assign len_page   = (8'(page_m1) << LOG_BPI) | 8'(BPI - 1);
  assign len_left   = left_big_q ? 8'(BURST_INSNS * BPI - 1) : 8'(left_lo) * 8'(BPI) - 8'd1;
  assign page_first = less(page_n, left_n);
  assign n_insns    = page_first ? page_n : left_n;
  assign arvalid_o = plan_valid_q && more_q && !outstanding_q && (buf_count <= room_limit_q);
  assign araddr_o  = addr_q;
  assign arlen_o   = len_q;

  logic ar_fire;
  assign ar_fire = arvalid_o && arready_i;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      plan_valid_q <= 1'b0;
      more_q       <= 1'b0;
      n_q          <= '0;
      room_limit_q <= '0;
      len_q        <= '0;
    end else begin
      plan_valid_q <= !start_i && !ar_fire;
      more_q       <= (req_left_q != '0);
      n_q          <= n_insns;
      room_limit_q <= page_first ? room_page : room_left;
      len_q        <= page_first ? len_page : len_left;
    end
  end

  // the next burst's address (bursts stay within a page) and the instructions left after it
  logic [12:0]        in_page_end;
  logic [ADDR_W-13:0] page_inc, page_inc_q;
  logic [31:0]        left_after, n_wide;
  assign n_wide      = 32'(n_q);
  assign in_page_end = {1'b0, addr_q[11:0]} + 13'({n_q, 4'b0});
  vta_add #(.W(ADDR_W - 12)) u_page_inc (.a_i(addr_q[ADDR_W-1:12]), .b_i('0), .cin_i(1'b1), .sum_o(page_inc));
  vta_add #(.W(32)) u_left (.a_i(req_left_q), .b_i(~n_wide), .cin_i(1'b1), .sum_o(left_after));
  always_ff @(posedge clk_i) page_inc_q <= page_inc;
  // at least BURST_INSNS left after the burst: surely when twice that many are left now (n_q is at most
  // BURST_INSNS), else from the low bits' difference (req_left_q is at least n_q)
  logic          big_after;
  logic [NW:0]   low_after;
  assign low_after = (NW + 1)'(req_left_q[NW-1:0]) - (NW + 1)'(n_q);
  assign big_after = (req_left_q[31:NW] != '0) || low_after[NW-1];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      addr_q        <= '0;
      req_left_q    <= '0;
      left_big_q    <= 1'b0;
      outstanding_q <= 1'b0;
    end else if (start_i) begin
      addr_q        <= {insn_addr_i[ADDR_W-1:4], 4'b0};
      req_left_q    <= insn_count_i;
      left_big_q    <= (insn_count_i[31:NW-1] != '0);
      outstanding_q <= 1'b0;
    end else begin
      if (ar_fire) begin
        addr_q        <= {in_page_end[12] ? page_inc_q : addr_q[ADDR_W-1:12], in_page_end[11:0]};
        req_left_q    <= left_after;
        left_big_q    <= big_after;
        outstanding_q <= 1'b1;
      end else if (rvalid_i && rlast_i) begin
        outstanding_q <= 1'b0;
      end
    end
  end

  // ---- assemble instructions from beats ----
  logic          asm_valid;
  logic [IB-1:0] asm_insn;
  if (BPI == 1) begin : g_one
    assign asm_valid = rvalid_i;
    assign asm_insn  = rdata_i;
  end else begin : g_multi
    logic [IB-BUS_W-1:0] sh_q;
    logic [$clog2(BPI)-1:0] beat_q;
    assign asm_valid = rvalid_i && (beat_q == $clog2(BPI)'(BPI - 1));
    assign asm_insn  = {rdata_i, sh_q};
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) beat_q <= '0;
      else if (start_i) beat_q <= '0;
      else if (rvalid_i) beat_q <= beat_q + 1'b1;
    end
    if (BPI == 2) begin : g_sh2
      always_ff @(posedge clk_i) if (rvalid_i) sh_q <= rdata_i;
    end else begin : g_shn
      always_ff @(posedge clk_i) if (rvalid_i) sh_q <= {rdata_i, sh_q[IB-BUS_W-1:BUS_W]};
    end
  end

  logic          head_valid, head_pop, buf_wready;
  logic [IB-1:0] head;
  vta_fifo #(.WIDTH(IB), .DEPTH(BUF_DEPTH)) u_buf (
    .clk_i, .rst_ni, .clear_i(start_i),
    .wvalid_i(asm_valid), .wready_o(buf_wready), .wdata_i(asm_insn),
    .rvalid_o(head_valid), .rready_i(head_pop), .rdata_o(head), .count_o(buf_count)
  );

  // ---- dispatch ----
  logic [2:0] opcode, mem_type;
  logic to_store, to_load, bad_op, bad_finish, to_compute, target_ready;
  /* verilator lint_off UNUSEDSIGNAL */  // a typed view: the module reads only some fields
  vta_pkg::mem_insn_t head_mem;
  /* verilator lint_on UNUSEDSIGNAL */
  assign head_mem   = head;
  assign opcode     = head_mem.opcode;
  assign mem_type   = head_mem.memory_type;
  assign to_store   = (opcode == vta_pkg::OP_STORE);
  assign to_load    = (opcode == vta_pkg::OP_LOAD) &&
                      (mem_type == 3'(vta_pkg::MEM_TYPE_INP) || mem_type == 3'(vta_pkg::MEM_TYPE_WGT));
  assign bad_op     = (opcode > vta_pkg::OP_ALU);
  assign bad_finish = !bad_op && ((opcode == vta_pkg::OP_FINISH) != disp_last_q);
  assign to_compute = !to_store && !to_load && !bad_op && !bad_finish;
  assign target_ready = (to_store && store_ready_i) || (to_load && load_ready_i) ||
                        (to_compute && compute_ready_i) || bad_op || bad_finish;

  assign insn_o          = head;
  assign idx_o           = idx_q;
  assign load_valid_o    = head_valid && to_load && !bad_finish;
  assign store_valid_o   = head_valid && to_store && !bad_finish;
  assign compute_valid_o = head_valid && to_compute;
  assign head_pop        = head_valid && target_ready;

  // The dispatch counters step by one a cycle: each keeps its next value ready (a short adder from a
  // register), and whether the head is the last instruction is a flag, so a pop only selects.
  logic [31:0] idx_inc, idx_next_q, left_dec, left_next_q, count_dec;
  vta_add #(.W(32)) u_idx_inc (.a_i(idx_next_q), .b_i('0), .cin_i(1'b1), .sum_o(idx_inc));
  vta_add #(.W(32)) u_left_dec (.a_i(left_next_q), .b_i('1), .cin_i(1'b0), .sum_o(left_dec));
  vta_add #(.W(32)) u_count_dec (.a_i(insn_count_i), .b_i('1), .cin_i(1'b0), .sum_o(count_dec));
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      idx_q       <= '0;
      idx_next_q  <= 32'd1;
      disp_left_q <= '0;
      left_next_q <= '1;
      disp_last_q <= 1'b0;
    end else if (start_i) begin
      idx_q       <= '0;
      idx_next_q  <= 32'd1;
      disp_left_q <= insn_count_i;
      left_next_q <= count_dec;
      disp_last_q <= (insn_count_i == 32'd1);
    end else if (head_pop) begin
      idx_q       <= idx_next_q;
      idx_next_q  <= idx_inc;
      disp_left_q <= left_next_q;
      left_next_q <= left_dec;
      disp_last_q <= (left_next_q == 32'd1);
    end
  end

  assign done_o      = (disp_left_q == '0);
  assign blocked_o   = head_valid && !target_ready;
  // An empty stream has no FINISH either; it is reported in the cycle after start.
  logic empty_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) empty_q <= 1'b0;
    else if (start_i) empty_q <= (insn_count_i == '0);
    else empty_q <= 1'b0;
  end

  assign error_o      = (head_pop && (bad_op || bad_finish)) || empty_q;
  assign error_code_o = (head_pop && bad_op) ? 8'(vta_pkg::ERR_OPCODE) : 8'(vta_pkg::ERR_FINISH);
  assign error_idx_o  = empty_q ? '1 : idx_q;  // no instruction to blame (ERROR_INDEX 0xffffffff)

  logic unused_ok;
  assign unused_ok = buf_wready ^ (^insn_addr_i[3:0]);  // space is reserved before each request
`ifndef SYNTHESIS
  /* verilator lint_off SYNCASYNCNET */
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      LeftBigFollows: assert (left_big_q == (req_left_q[31:NW-1] != '0))
        else $error("vta_fetch: the burst plan's at-least-a-burst-left flag disagrees with the count");
    end
  end
  /* verilator lint_on SYNCASYNCNET */
`endif
endmodule
