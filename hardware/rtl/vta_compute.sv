// The compute module: LOADs of UOP and ACC tiles, GEMM, ALU and FINISH.
//
// A front end takes the instructions in order: decode, pop load->compute (pop_prev) and store->compute
// (pop_next) tokens, then hands the instruction to where it runs:
//   - a GEMM to the GEMM engine (vta_compute_pipe, GEMM = 1) and goes on with the next instruction;
//   - an ALU instruction, with its token pushes, to the ALU engine's queue (GEMM = 0), which runs them
//     in order and pushes their tokens when each is done;
//   - a LOAD of UOP or ACC to its load unit once both engines are idle (it writes what they read).
// An instruction that pushes a token on the front end (any but ALU, and a GEMM whose one push is to the
// load module) or FINISH first waits until the older work the token vouches for is done (DRAIN), then
// pushes compute->load (push_prev) and compute->store (push_next): a push to the store, or FINISH, waits
// for both engines (both write OUT); a push to the load module only for the GEMM engine, since all the
// load module writes is INP and WGT, which only GEMMs read (so a tile's requantization on the ALU engine
// does not hold up the loads of the next steps). A GEMM whose one push is to the load module hands it
// to the GEMM engine, which pushes once the GEMM is done, while the front end goes on with the next
// instructions (the next tile's zeroing and requantization enter the ALU queue, the next GEMM waits at
// DISPATCH). Results are those of program order.
//
// Both engines write the ACC buffer, which has ACC_BANKS banks (the halves of the row index), each
// with its own read and write port, so requantization of one tile (ALU) overlaps the GEMMs of the next
// tile in the other bank. What keeps the result that of program order:
//   - an ALU instruction enters the queue while the GEMM engine still runs (the front end need not wait
//     for it), but an entry that came in while a GEMM ran (one of the newest `behind` entries) starts
//     only once the engine is idle: at most one GEMM runs, so that is when every older GEMM is done;
//   - on entering it gets its bank set: the banks its micro-op range can touch (destination, and the
//     vector source), worked out from its one micro-op (read through the GEMM engine's UOP port, lent
//     for a cycle when the engine's S1 can spare it) and loop extents; both banks if it has more
//     micro-ops or its range crosses a bank or the buffer's end;
//   - a GEMM may start while older ALU instructions are queued or running, but its micro-ops wait in S1
//     while their destination's bank is in one of those bank sets (lock_i of the GEMM engine); the bank
//     sets of entries behind a running GEMM count only once it is done (they are younger than it).
// Errors are reported in program order too: the ALU engine's at once (nothing older runs beside it),
// the GEMM engine's and the front end's once no older ALU instruction is left.
// Every write of the ACC buffer (LOAD ACC, GEMM, ALU) also writes the OUT buffer, so the store module
// reads OUT = truncated ACC through its own port.
module vta_compute #(
  parameter int unsigned BUS_W  = 64,
  parameter int unsigned ADDR_W = 64,
  localparam int unsigned NB    = vta_pkg::ACC_BANKS,
  localparam int unsigned R     = vta_pkg::ACC_ROWS,
  localparam int unsigned BWW   = vta_pkg::LOG_ACC_DEPTH - vta_pkg::LOG_ACC_ROWS - vta_pkg::LOG_ACC_BANKS,
  // micro-ops a bus beat carries: the UOP buffer has as many banks (index % UL), so a LOAD UOP writes a
  // beat's micro-ops in one cycle
  localparam int unsigned UL    = (vta_pkg::UOP_ELEM_BITS >= BUS_W) ? 1 : BUS_W / vta_pkg::UOP_ELEM_BITS,
  localparam int unsigned LUL   = $clog2(UL)
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  // command queue
  input  logic                          cmd_valid_i,
  output logic                          cmd_ready_o,
  input  logic [vta_pkg::INSN_BITS-1:0] cmd_insn_i,
  input  logic [31:0]                   cmd_idx_i,
  input  logic [16:0]                   cmd_rows_i,   // a LOAD's tile rows and columns, padding included
  input  logic [16:0]                   cmd_cols_i,
  // tokens
  output logic                          pop_prev_o,        // load->compute
  input  logic                          pop_prev_ready_i,
  output logic                          pop_next_o,        // store->compute
  input  logic                          pop_next_ready_i,
  output logic                          push_prev_o,       // compute->load
  input  logic                          push_prev_ready_i,
  output logic                          push_next_o,       // compute->store
  input  logic                          push_next_ready_i,
  // AXI read
  output logic                          arvalid_o,
  input  logic                          arready_i,
  output logic [ADDR_W-1:0]             araddr_o,
  output logic [7:0]                    arlen_o,
  input  logic                          rvalid_i,
  input  logic [BUS_W-1:0]              rdata_i,
  // UOP buffer: a write port per bank (to both copies; bank b at slice b, its word address), a read
  // port per engine (0: GEMM, 1: ALU) with the micro-op's full index
  output logic [UL-1:0]                                uop_we_o,
  output logic [UL*(vta_pkg::LOG_UOP_DEPTH-LUL)-1:0]   uop_waddr_o,
  output logic [UL*vta_pkg::UOP_ELEM_BITS-1:0]         uop_wdata_o,
  output logic [1:0]                          uop_re_o,
  output logic [2*vta_pkg::LOG_UOP_DEPTH-1:0] uop_raddr_o,
  input  logic [2*vta_pkg::UOP_ELEM_BITS-1:0] uop_rdata_i,
  // INP and WGT buffers (read)
  output logic                                inp_re_o,
  output logic [vta_pkg::LOG_INP_DEPTH-1:0]   inp_raddr_o,
  input  logic [vta_pkg::INP_ELEM_BITS-1:0]   inp_rdata_i,
  output logic                                wgt_re_o,
  output logic [vta_pkg::LOG_WGT_DEPTH-1:0]   wgt_raddr_o,
  input  logic [vta_pkg::WGT_ELEM_BITS-1:0]   wgt_rdata_i,
  // ACC buffer (and its OUT shadow, vta_acc_bank): NB banks of R rows per word. Three writers, each with
  // its enables per bank (bank b's at slice b; at most one writer a bank in a cycle) and its word address
  // within the bank and data: the GEMM engine, the ALU engine (a write enable per row), the ACC loader
  // (one row). Bank b's read port at slice b.
  output logic [NB*R-1:0]                                    acc_g_we_o,
  output logic [BWW-1:0]                                     acc_g_waddr_o,
  output logic [R*vta_pkg::ACC_ELEM_BITS-1:0]                acc_g_wdata_o,
  output logic [NB*R-1:0]                                    acc_a_we_o,
  output logic [BWW-1:0]                                     acc_a_waddr_o,
  output logic [R*vta_pkg::ACC_ELEM_BITS-1:0]                acc_a_wdata_o,
  output logic [NB-1:0]                                      acc_l_we_o,
  output logic [vta_pkg::LOG_ACC_ROWS-1:0]                   acc_l_row_o,
  output logic [BWW-1:0]                                     acc_l_waddr_o,
  output logic [vta_pkg::ACC_ELEM_BITS-1:0]                  acc_l_wdata_o,
  output logic [NB-1:0]                                      acc_re_o,
  output logic [NB*BWW-1:0]                                  acc_raddr_o,
  input  logic [NB*R*vta_pkg::ACC_ELEM_BITS-1:0]             acc_rdata_i,
  // status
  output logic                          idle_o,
  output logic                          blocked_o,
  output logic [31:0]                   cur_idx_o,      // the instruction blocked (deadlock reports)
  output logic [31:0]                   error_idx_o,    // the instruction error_o reports, or the LOAD running
  output logic                          error_o,
  output logic [7:0]                    error_code_o,
  output logic [3:0]                    error_info_o,   // out-of-range index: the operand (vta_pkg::IDX_*)
  output logic [31:0]                   error_addr_o,   // ... and the index
  // counter events
  output logic                          insn_done_o,
  output logic [LUL:0]                  uop_elems_o,    // micro-ops loaded this cycle
  output logic                          acc_elem_o,
  output logic                          gemm_uop_o,
  output logic                          alu_uop_o,
  output logic [vta_pkg::LOG_ACC_ROWS:0] alu_rows_o,    // ... for this many rows (a group: more than one)
  output logic                          hazard_stall_o
);
  localparam int unsigned UAW    = vta_pkg::LOG_UOP_DEPTH;
  localparam int unsigned AAW    = vta_pkg::LOG_ACC_DEPTH;
  localparam int unsigned LR     = vta_pkg::LOG_ACC_ROWS;
  localparam int unsigned LB     = vta_pkg::LOG_ACC_BANKS;
  localparam int unsigned AWW    = AAW - LR;               // ACC word address bits (bank bits on top)
  localparam int unsigned ELEM   = vta_pkg::ACC_ELEM_BITS;
  localparam int unsigned XW     = AAW + 16;               // a footprint's full-width index
  localparam int unsigned QD     = 4;                      // ALU queue entries

  typedef enum logic [3:0] {
    S_IDLE, S_DECODE, S_POP_PREV, S_POP_NEXT, S_DISPATCH, S_FOOT_READ, S_FOOT_ADD, S_FOOT_TAG,
    S_LOAD, S_DRAIN, S_PUSH_PREV, S_PUSH_NEXT
  } state_e;
  state_e state_q, state_d;

  logic [vta_pkg::INSN_BITS-1:0] insn_q;
  logic [31:0] idx_q;

  // ---- decode (fields of the held instruction, through its typed views) ----
  /* verilator lint_off UNUSEDSIGNAL */  // a typed view: the module reads only some fields
  vta_pkg::mem_insn_t  mem_q;
  vta_pkg::gemm_insn_t gemm_q;
  vta_pkg::alu_insn_t  alu_q;
  /* verilator lint_on UNUSEDSIGNAL */
  assign mem_q  = insn_q;
  assign gemm_q = insn_q;
  assign alu_q  = insn_q;
  logic pop_prev, pop_next, push_prev, push_next;
  assign pop_prev  = gemm_q.pop_prev;
  assign pop_next  = gemm_q.pop_next;
  assign push_prev = gemm_q.push_prev;
  assign push_next = gemm_q.push_next;
  logic [UAW-1:0] uop_bgn;
  logic [UAW:0]   uop_end;
  assign uop_bgn  = UAW'(gemm_q.uop_bgn);
  assign uop_end  = (UAW + 1)'(gemm_q.uop_end);

  // What the instruction is and where it runs, worked out as it is taken from the command queue and
  // registered with it (the state machine then tests flags, not fields).
  typedef struct packed {
    logic is_load, is_gemm, is_alu, is_finish, is_uop_load, is_acc_load, load_noop;
    logic bad_mem, bad_alu, bad_range;
    logic run_loop;   // a GEMM/ALU whose loop has at least one iteration
    logic runs_load;  // a LOAD that moves data
    logic one_uop;    // a GEMM/ALU whose kernel is one micro-op
  } decode_t;
  /* verilator lint_off UNUSEDSIGNAL */  // typed views: only some fields are read
  vta_pkg::mem_insn_t  cmd_mem;
  vta_pkg::gemm_insn_t cmd_gemm;
  vta_pkg::alu_insn_t  cmd_alu;
  /* verilator lint_on UNUSEDSIGNAL */
  assign cmd_mem  = cmd_insn_i;
  assign cmd_gemm = cmd_insn_i;
  assign cmd_alu  = cmd_insn_i;
  decode_t d;  // the command queue head's
  logic [UAW:0] d_bgn, d_end;
  assign d_bgn = (UAW + 1)'(UAW'(cmd_gemm.uop_bgn));
  assign d_end = (UAW + 1)'(cmd_gemm.uop_end);
  always_comb begin
    d.is_load     = (cmd_gemm.opcode == vta_pkg::OP_LOAD);
    d.is_gemm     = (cmd_gemm.opcode == vta_pkg::OP_GEMM);
    d.is_alu      = (cmd_gemm.opcode == vta_pkg::OP_ALU);
    d.is_finish   = (cmd_gemm.opcode == vta_pkg::OP_FINISH);
    d.load_noop   = d.is_load && (cmd_mem.x_size == '0);
    d.is_uop_load = d.is_load && (cmd_mem.memory_type == 3'(vta_pkg::MEM_TYPE_UOP));
    d.is_acc_load = d.is_load && (cmd_mem.memory_type == 3'(vta_pkg::MEM_TYPE_ACC));
    // OUT is never loaded (a token-only LOAD of OUT is accepted); 5..7 are no memory type at all
    d.bad_mem     = d.is_load && !d.is_uop_load && !d.is_acc_load &&
                    !(d.load_noop && cmd_mem.memory_type == 3'(vta_pkg::MEM_TYPE_OUT));
    d.bad_alu     = d.is_alu && (cmd_alu.alu_opcode >= 3'(vta_pkg::ALU_OP_COUNT));
    // the micro-op range must lie in the UOP buffer (checked even for an empty loop, as fsim does)
    d.bad_range   = (d.is_gemm || d.is_alu) && ((d_end > (UAW + 1)'(vta_pkg::UOP_DEPTH)) || (d_bgn > d_end));
    d.run_loop    = (d.is_gemm || (d.is_alu && !d.bad_alu)) && !d.bad_range &&
                    (cmd_gemm.iter_out != '0) && (cmd_gemm.iter_in != '0) && (d_end > d_bgn);
    d.runs_load   = (d.is_uop_load || d.is_acc_load) && !d.load_noop;
    d.one_uop     = (d_end == d_bgn + (UAW + 1)'(1));
  end
  decode_t dec_q;
  logic unused_dec;
  assign unused_dec = dec_q.is_load;  // only a step of the decode
  logic is_gemm, is_alu, is_finish, is_uop_load, is_acc_load, load_noop, bad_mem, bad_alu;
  assign is_gemm     = dec_q.is_gemm;
  assign is_alu      = dec_q.is_alu;
  assign is_finish   = dec_q.is_finish;
  assign is_uop_load = dec_q.is_uop_load;
  assign is_acc_load = dec_q.is_acc_load;
  assign load_noop   = dec_q.load_noop;
  assign bad_mem     = dec_q.bad_mem;
  assign bad_alu     = dec_q.bad_alu;

  // ---- load units (UOP, ACC) ----
  logic uop_start, acc_start, uop_busy, acc_busy;
  logic all_idle;  // nothing older than the front end's instruction is left
  logic unused_uop_req_busy, unused_uop_data_busy, unused_uop_rready;  // both sides start together; narrow
  logic unused_acc_req_busy, unused_acc_data_busy, unused_acc_rready;  // and wide beats always taken
  logic unused_uop_we;                                                 // the UOP unit writes by bank
  logic [UAW-1:0] unused_uop_waddr;
  logic [vta_pkg::UOP_ELEM_BITS-1:0] unused_uop_wdata;
  logic uop_arvalid, acc_arvalid;
  logic [ADDR_W-1:0] uop_araddr, acc_araddr;
  logic [7:0] uop_arlen, acc_arlen;
  logic acc_ld_we;
  logic [AAW-1:0] acc_ld_waddr;
  logic [ELEM-1:0] acc_ld_wdata;

  // the tile must fit its buffer (see vta_tile_check); a tile that does not fit is never started. rows x
  // cols of the instruction on the command queue in IDLE (M stays put in DECODE, which adds sram_base in
  // P), the result is registered (OOB_REG), so a UOP/ACC load's check holds from its third DECODE cycle
  // on (decode_first_q: the first, decode_second_q: the second), as does the index a bad one reports
  logic        tile_oob, decode_first_q, decode_second_q, tile_load;
  logic [31:0] tile_last;
  vta_tile_check #(.DEPTH_A(vta_pkg::ACC_DEPTH), .DEPTH_B(vta_pkg::UOP_DEPTH), .OOB_REG(1'b1)) u_bounds (
    .clk_i, .hold_en_i(decode_first_q),
    .rows_i(cmd_rows_i), .cols_i(cmd_cols_i), .sram_base_i(mem_q.sram_base),
    .depth_b_i(is_uop_load),
    .oob_o(tile_oob), .last_o(tile_last)
  );
  // the tile's geometry for the load units (ready long before DISPATCH starts them)
  vta_hw_pkg::tile_geom_t geom;
  vta_tile_geom u_geom (.clk_i, .take_i(state_q == S_IDLE && cmd_valid_i), .insn_i(cmd_insn_i),
                        .rows_i(cmd_rows_i), .cols_i(cmd_cols_i), .geom_o(geom));
  logic bad_tile;
  assign tile_load = (is_uop_load || is_acc_load) && !load_noop;
  assign bad_tile  = tile_load && !decode_first_q && !decode_second_q && tile_oob;

  logic bad_range;
  assign bad_range = dec_q.bad_range;
  logic bad, report_ok;
  assign bad = bad_mem || bad_alu || bad_range || bad_tile;
  assign report_ok = all_idle;

  // what runs where
  logic run_loop, runs_load;  // GEMM/ALU whose loop has at least one iteration; a LOAD that moves data
  assign run_loop  = dec_q.run_loop;
  assign runs_load = dec_q.runs_load;

  // S_DISPATCH's move to S_LOAD (a LOAD is neither GEMM nor ALU), without the state decision's other cases
  assign uop_start = (state_q == S_DISPATCH) && runs_load && !bad && all_idle && is_uop_load;
  assign acc_start = (state_q == S_DISPATCH) && runs_load && !bad && all_idle && is_acc_load;

  vta_load_unit #(
    .ELEM_BITS(vta_pkg::UOP_ELEM_BITS), .SRAM_AW(UAW), .BUS_W(BUS_W), .ADDR_W(ADDR_W)
  ) u_uop_load (
    .clk_i, .rst_ni, .req_start_i(uop_start), .req_insn_i(insn_q), .data_start_i(uop_start), .data_insn_i(insn_q), .data_geom_i(geom),
    .burst_cap_i(1'b0), .req_busy_o(unused_uop_req_busy), .data_busy_o(unused_uop_data_busy), .busy_o(uop_busy),
    .arvalid_o(uop_arvalid), .arready_i(arready_i && is_uop_load), .araddr_o(uop_araddr),
    .arlen_o(uop_arlen), .rvalid_i(rvalid_i && is_uop_load), .rready_o(unused_uop_rready), .rdata_i,
    .we_o(unused_uop_we), .waddr_o(unused_uop_waddr), .wdata_o(unused_uop_wdata),
    .bank_we_o(uop_we_o), .bank_waddr_o(uop_waddr_o), .bank_wdata_o(uop_wdata_o), .elems_loaded_o(uop_elems_o)
  );

  vta_load_unit #(
    .ELEM_BITS(ELEM), .SRAM_AW(AAW), .BUS_W(BUS_W), .ADDR_W(ADDR_W)
  ) u_acc_load (
    .clk_i, .rst_ni, .req_start_i(acc_start), .req_insn_i(insn_q), .data_start_i(acc_start), .data_insn_i(insn_q), .data_geom_i(geom),
    .burst_cap_i(1'b0), .req_busy_o(unused_acc_req_busy), .data_busy_o(unused_acc_data_busy), .busy_o(acc_busy),
    .arvalid_o(acc_arvalid), .arready_i(arready_i && !is_uop_load), .araddr_o(acc_araddr),
    .arlen_o(acc_arlen), .rvalid_i(rvalid_i && !is_uop_load), .rready_o(unused_acc_rready), .rdata_i,
    .we_o(acc_ld_we), .waddr_o(acc_ld_waddr), .wdata_o(acc_ld_wdata), .elems_loaded_o(acc_elem_o),
    /* verilator lint_off PINCONNECTEMPTY */  // one element wide: the bank port is the port above
    .bank_we_o(), .bank_waddr_o(), .bank_wdata_o()
    /* verilator lint_on PINCONNECTEMPTY */
  );

  assign arvalid_o = is_uop_load ? uop_arvalid : acc_arvalid;
  assign araddr_o  = is_uop_load ? uop_araddr : acc_araddr;
  assign arlen_o   = is_uop_load ? uop_arlen : acc_arlen;

  // ---- the engines ----
  logic g_start, g_busy, g_uop_re, g_acc_re, g_err, g_gemm_uop, g_alu_uop, g_hazard, g_hold, g_port_free;
  logic unused_a_port_free, unused_a_can_start, g_can_start;
  logic a_start, a_busy, a_uop_re, a_acc_re, a_err, a_gemm_uop, a_alu_uop, a_hazard;
  logic [UAW-1:0] g_uop_raddr, a_uop_raddr;
  logic [AWW-1:0] g_acc_raddr, a_acc_raddr, g_acc_waddr, a_acc_waddr;
  logic [R-1:0]   g_acc_we, a_acc_we;
  logic [R*ELEM-1:0] g_acc_wdata, a_acc_wdata, g_acc_rdata, a_acc_rdata;
  logic [3:0]  g_err_info, a_err_info;
  logic [31:0] g_err_addr, a_err_addr;
  logic [LR:0] g_alu_rows, a_alu_rows;
  logic [NB-1:0] g_lock;
  logic [vta_pkg::INSN_BITS-1:0] a_insn;
  logic [AAW:0] a_diff0;
  logic         one_uop, a_one_uop;  // the front end's instruction's kernel is one micro-op; the ALU queue head's
  logic a_inp_re, a_wgt_re;
  logic [vta_pkg::LOG_INP_DEPTH-1:0] a_inp_raddr;
  logic [vta_pkg::LOG_WGT_DEPTH-1:0] a_wgt_raddr;

  vta_compute_pipe #(.GEMM(1'b1)) u_gemm (
    .clk_i, .rst_ni, .start_i(g_start), .insn_i(insn_q), .one_uop_i(one_uop), .diff0_i('0), .busy_o(g_busy), .can_start_o(g_can_start), .lock_i(g_lock),
    .hold_i(g_hold), .port_free_o(g_port_free),
    .uop_re_o(g_uop_re), .uop_raddr_o(g_uop_raddr), .uop_rdata_i(uop_rdata_i[0 +: vta_pkg::UOP_ELEM_BITS]),
    .inp_re_o, .inp_raddr_o, .inp_rdata_i, .wgt_re_o, .wgt_raddr_o, .wgt_rdata_i,
    .acc_re_o(g_acc_re), .acc_raddr_o(g_acc_raddr), .acc_rdata_i(g_acc_rdata),
    .acc_we_o(g_acc_we), .acc_waddr_o(g_acc_waddr), .acc_wdata_o(g_acc_wdata),
    .error_o(g_err), .error_info_o(g_err_info), .error_addr_o(g_err_addr),
    .gemm_uop_o(g_gemm_uop), .alu_uop_o(g_alu_uop), .alu_rows_o(g_alu_rows), .hazard_stall_o(g_hazard)
  );

  vta_compute_pipe #(.GEMM(1'b0)) u_alu (
    .clk_i, .rst_ni, .start_i(a_start), .insn_i(a_insn), .one_uop_i(a_one_uop), .diff0_i(a_diff0),
    .busy_o(a_busy), .can_start_o(unused_a_can_start), .lock_i('0),
    .hold_i(1'b0), .port_free_o(unused_a_port_free),
    .uop_re_o(a_uop_re), .uop_raddr_o(a_uop_raddr),
    .uop_rdata_i(uop_rdata_i[vta_pkg::UOP_ELEM_BITS +: vta_pkg::UOP_ELEM_BITS]),
    .inp_re_o(a_inp_re), .inp_raddr_o(a_inp_raddr), .inp_rdata_i('0),
    .wgt_re_o(a_wgt_re), .wgt_raddr_o(a_wgt_raddr), .wgt_rdata_i('0),
    .acc_re_o(a_acc_re), .acc_raddr_o(a_acc_raddr), .acc_rdata_i(a_acc_rdata),
    .acc_we_o(a_acc_we), .acc_waddr_o(a_acc_waddr), .acc_wdata_o(a_acc_wdata),
    .error_o(a_err), .error_info_o(a_err_info), .error_addr_o(a_err_addr),
    .gemm_uop_o(a_gemm_uop), .alu_uop_o(a_alu_uop), .alu_rows_o(a_alu_rows), .hazard_stall_o(a_hazard)
  );
  logic unused_engine_ports;
  assign unused_engine_ports = ^{g_alu_uop, g_alu_rows, a_gemm_uop, a_inp_re, a_inp_raddr, a_wgt_re, a_wgt_raddr};

  // ---- the ALU instruction's bank set (S_FOOT_*): its one micro-op's indices plus the loop extents ----
  /* verilator lint_off UNUSEDSIGNAL */  // a typed view: the module reads only some fields
  vta_pkg::uop_t foot_uop;
  /* verilator lint_on UNUSEDSIGNAL */
  assign foot_uop = uop_rdata_i[0 +: vta_pkg::UOP_ELEM_BITS];
  logic [XW-1:0] foot_dst_q, foot_src_q, foot_dst_hi_q, foot_src_hi_q;  // lowest and highest index
  // the last iteration of each loop, worked out as the instruction is taken (the multiplies start from
  // registers: `ltp` walks through the DSP48, whose M register they go into)
  logic [13:0] last_out, last_in;
  always_ff @(posedge clk_i) begin
    if (state_q == S_IDLE && cmd_valid_i) begin
      last_out <= cmd_gemm.iter_out - 14'd1;
      last_in  <= cmd_gemm.iter_in - 14'd1;
    end
  end
  // The loop extents' products (a bounds check once per ALU instruction, not an address: the engine's
  // addresses advance by adds) go through two registers with nothing between, the DSP48s' M and P
  // registers. They depend on the instruction alone, held from DECODE on: M takes them in DECODE, P in
  // POP_PREV.
  logic [XW-1:0] ext_m_q [4], ext_p_q [4], ext_r_q [4];
  always_ff @(posedge clk_i) begin
    if (state_q == S_DECODE) begin
      ext_m_q[0] <= XW'(last_out) * XW'(alu_q.dst_factor_out);
      ext_m_q[1] <= XW'(last_in) * XW'(alu_q.dst_factor_in);
      ext_m_q[2] <= XW'(last_out) * XW'(alu_q.src_factor_out);
      ext_m_q[3] <= XW'(last_in) * XW'(alu_q.src_factor_in);
    end
    if (state_q == S_POP_PREV) begin
      for (int unsigned k = 0; k < 4; k++) ext_p_q[k] <= ext_m_q[k];
    end
    // and once more in the fabric: `ltp` walks through the DSP48, so its inputs' logic and its product's
    // sum would count as one path
    for (int unsigned k = 0; k < 4; k++) ext_r_q[k] <= ext_p_q[k];
  end
  // the extents' sums (P from POP_NEXT on, its copy from DISPATCH, the sums from FOOT_READ: FOOT_ADD comes
  // four states after POP_PREV at the earliest), and the range's ends in FOOT_ADD: each one carry-select
  // add from registers
  logic [XW-1:0] foot_dx_q, foot_sx_q, foot_dx, foot_sx, foot_dst_hi, foot_src_hi;
  vta_add #(.W(XW)) u_foot_dx (.a_i(ext_r_q[0]), .b_i(ext_r_q[1]), .cin_i(1'b0), .sum_o(foot_dx));
  vta_add #(.W(XW)) u_foot_sx (.a_i(ext_r_q[2]), .b_i(ext_r_q[3]), .cin_i(1'b0), .sum_o(foot_sx));
  vta_add #(.W(XW)) u_foot_dhi (.a_i(XW'(foot_uop.dst_idx)), .b_i(foot_dx_q), .cin_i(1'b0), .sum_o(foot_dst_hi));
  vta_add #(.W(XW)) u_foot_shi (.a_i(XW'(foot_uop.src_idx)), .b_i(foot_sx_q), .cin_i(1'b0), .sum_o(foot_src_hi));
  always_ff @(posedge clk_i) begin
    foot_dx_q <= foot_dx;
    foot_sx_q <= foot_sx;
    if (state_q == S_FOOT_ADD) begin
      foot_dst_q    <= XW'(foot_uop.dst_idx);
      foot_src_q    <= XW'(foot_uop.src_idx);
      foot_dst_hi_q <= foot_dst_hi;
      foot_src_hi_q <= foot_src_hi;
    end
  end
  // banks of the index range [lo, hi]: one bank, or all when it crosses one or leaves the buffer (a bit
  // test: the depth is a power of two)
  /* verilator lint_off UNUSEDSIGNAL */  // only the bank bits and the range's top are tested
  function automatic logic [NB-1:0] banks_of(input logic [XW-1:0] lo, input logic [XW-1:0] hi);
    if (hi[XW-1:AAW] != '0 || lo[AAW-1 -: LB] != hi[AAW-1 -: LB]) banks_of = '1;
    else banks_of = NB'(1) << lo[AAW-1 -: LB];
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */
  // the micro-op's source less its destination (modulo 2^(AAW+1): exact for indices in the buffer, and an
  // index past it stops the engine anyway), for the ALU engine's group decisions (vta_compute_pipe)
  logic [AAW:0] foot_diff;
  assign foot_diff = (AAW + 1)'(foot_src_q) - (AAW + 1)'(foot_dst_q);
  logic [NB-1:0] foot_tag;
  logic vec_src;
  assign one_uop  = dec_q.one_uop;
  assign vec_src  = !alu_q.use_imm && !alu_q.reset;
  assign foot_tag = !one_uop ? '1 : (banks_of(foot_dst_q, foot_dst_hi_q) | (vec_src ? banks_of(foot_src_q, foot_src_hi_q) : '0));

  // ---- the ALU queue and engine ----
  localparam int unsigned QW = vta_pkg::INSN_BITS + 32 + NB + AAW + 2;  // + the one-micro-op flag
  logic q_wvalid, q_wready, q_rvalid, q_rready;
  logic [QW-1:0] q_rdata;
  logic [$clog2(QD):0] q_count;
  assign q_wvalid = (state_q == S_FOOT_TAG);
  vta_fifo #(.WIDTH(QW), .DEPTH(QD)) u_alu_q (
    .clk_i, .rst_ni, .clear_i(1'b0), .wvalid_i(q_wvalid), .wready_o(q_wready),
    .wdata_i({one_uop, foot_diff, foot_tag, idx_q, insn_q}), .rvalid_o(q_rvalid), .rready_i(q_rready), .rdata_o(q_rdata),
    .count_o(q_count)
  );
  // The newest `behind_q` entries came in while a GEMM ran (older than them: the engine runs one at a
  // time and the front end is past it); once the engine is idle none is. An entry comes in only in
  // FOOT_TAG (the room was there at DISPATCH: only the engine takes entries out meanwhile).
  logic [$clog2(QD):0] behind_q;
  logic head_behind;  // the queue's head waits for the GEMM engine
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) behind_q <= '0;
    else if (!g_busy) behind_q <= '0;
    else if (q_wvalid) behind_q <= behind_q + 1'b1;
  end
  assign head_behind = (behind_q == q_count);


  typedef enum logic [1:0] { A_IDLE, A_RUN, A_PUSH_PREV, A_PUSH_NEXT } alu_state_e;
  alu_state_e a_state_q, a_state_d;
  logic [31:0]   a_idx_q;
  logic [NB-1:0] a_tag_q;
  logic          a_push_prev_q, a_push_next_q;
  /* verilator lint_off UNUSEDSIGNAL */  // a typed view: the module reads only some fields
  vta_pkg::alu_insn_t a_alu;
  /* verilator lint_on UNUSEDSIGNAL */
  assign a_insn  = q_rdata[0 +: vta_pkg::INSN_BITS];
  assign a_diff0 = q_rdata[vta_pkg::INSN_BITS + 32 + NB +: AAW + 1];
  assign a_one_uop = q_rdata[QW-1];
  assign a_alu   = a_insn;
  assign q_rready = (a_state_q == A_IDLE) && !head_behind;
  assign a_start  = (a_state_q == A_IDLE) && q_rvalid && !head_behind;
  logic a_pp_fire, a_pp_adv, a_pp_blk, a_pn_fire, a_pn_adv, a_pn_blk, a_done_run;
  vta_token_step u_alu_push_prev (.active_i(a_state_q == A_PUSH_PREV), .want_i(a_push_prev_q),
                                  .ready_i(push_prev_ready_i && !g_pp_fire),
                                  .fire_o(a_pp_fire), .advance_o(a_pp_adv), .blocked_o(a_pp_blk));
  vta_token_step u_alu_push_next (.active_i(a_state_q == A_PUSH_NEXT), .want_i(a_push_next_q), .ready_i(push_next_ready_i),
                                  .fire_o(a_pn_fire), .advance_o(a_pn_adv), .blocked_o(a_pn_blk));
  assign a_done_run = (a_state_q == A_RUN) && !a_busy;
  always_comb begin
    a_state_d = a_state_q;
    unique case (a_state_q)
      A_IDLE:      if (a_start) a_state_d = A_RUN;
      A_RUN:       if (!a_busy) a_state_d = A_PUSH_PREV;
      A_PUSH_PREV: if (a_pp_adv) a_state_d = A_PUSH_NEXT;
      A_PUSH_NEXT: if (a_pn_adv) a_state_d = A_IDLE;
      default:     a_state_d = A_IDLE;
    endcase
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_state_q     <= A_IDLE;
      a_idx_q       <= '0;
      a_tag_q       <= '0;
      a_push_prev_q <= 1'b0;
      a_push_next_q <= 1'b0;
    end else begin
      a_state_q <= a_state_d;
      if (a_start) begin
        a_idx_q       <= q_rdata[vta_pkg::INSN_BITS +: 32];
        a_tag_q       <= q_rdata[vta_pkg::INSN_BITS + 32 +: NB];
        a_push_prev_q <= a_alu.push_prev;
        a_push_next_q <= a_alu.push_next;
      end
    end
  end
  logic alu_empty;  // no ALU instruction queued, running or pushing
  assign alu_empty = (a_state_q == A_IDLE) && !q_rvalid;
  logic alu_older_empty;  // none older than the running GEMM (the queued ones, if any, are behind it)
  assign alu_older_empty = (a_state_q == A_IDLE) && head_behind;

  // banks older ALU instructions (queued or running) may touch: a count per bank. An entry behind a
  // running GEMM counts in later_q until the engine is idle: it must not lock the GEMM it waits for.
  logic [$clog2(QD + 1):0] bank_users_q [NB], later_q [NB];
  for (genvar b = 0; b < NB; b++) begin : g_bank_users
    logic inc, dec;
    assign inc = q_wvalid && foot_tag[b];
    assign dec = a_done_run && a_tag_q[b];
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        bank_users_q[b] <= '0;
        later_q[b]      <= '0;
      end else if (g_busy) begin
        if (inc) later_q[b] <= later_q[b] + 1'b1;
        if (dec) bank_users_q[b] <= bank_users_q[b] - 1'b1;
      end else begin
        later_q[b]      <= '0;
        bank_users_q[b] <= bank_users_q[b] + later_q[b] + {{($bits(later_q[b]) - 1){1'b0}}, inc} -
                           {{($bits(later_q[b]) - 1){1'b0}}, dec};
      end
    end
    assign g_lock[b] = (bank_users_q[b] != '0);
  end

  // ---- UOP read ports: 0 is the GEMM engine's, lent to the front end's footprint read for a cycle in
  // which the engine's S1 can spare it (the engine issues nothing then) ----
  logic foot_read;
  assign g_hold      = (state_q == S_FOOT_READ);
  assign foot_read   = g_hold && g_port_free;
  assign uop_re_o[0] = g_uop_re || foot_read;
  assign uop_raddr_o[0 +: UAW] = (state_q == S_FOOT_READ) ? uop_bgn : g_uop_raddr;
  assign uop_re_o[1] = a_uop_re;
  assign uop_raddr_o[UAW +: UAW] = a_uop_raddr;

  // ---- ACC / OUT banks: each engine's word address carries its bank on top ----
  // (two banks: the word address's top bit is the bank, vta/hw/acc_rows.h)
  logic g_rbank_q, a_rbank_q;
  always_ff @(posedge clk_i) begin
    if (g_acc_re) g_rbank_q <= g_acc_raddr[AWW-1];
    if (a_acc_re) a_rbank_q <= a_acc_raddr[AWW-1];
  end
  assign g_acc_rdata = g_rbank_q ? acc_rdata_i[R * ELEM +: R * ELEM] : acc_rdata_i[0 +: R * ELEM];
  assign a_acc_rdata = a_rbank_q ? acc_rdata_i[R * ELEM +: R * ELEM] : acc_rdata_i[0 +: R * ELEM];
  logic ld_bank;
  assign ld_bank = acc_ld_waddr[AAW-1];
  // the writers' enables by bank; their addresses and data go to both banks (vta_acc_bank picks)
  assign acc_g_waddr_o = g_acc_waddr[BWW-1:0];
  assign acc_g_wdata_o = g_acc_wdata;
  assign acc_a_waddr_o = a_acc_waddr[BWW-1:0];
  assign acc_a_wdata_o = a_acc_wdata;
  assign acc_l_row_o   = acc_ld_waddr[LR-1:0];
  assign acc_l_waddr_o = acc_ld_waddr[AAW-2:LR];
  assign acc_l_wdata_o = acc_ld_wdata;
  for (genvar b = 0; b < NB; b++) begin : g_bank
    logic g_rd, a_rd, l_wr;
    assign g_rd = g_acc_re && (g_acc_raddr[AWW-1] == 1'(b));
    assign a_rd = a_acc_re && (a_acc_raddr[AWW-1] == 1'(b));
    assign l_wr = acc_ld_we && (ld_bank == 1'(b));
    assign acc_re_o[b] = g_rd || a_rd;
    assign acc_raddr_o[b * BWW +: BWW] = a_rd ? a_acc_raddr[BWW-1:0] : g_acc_raddr[BWW-1:0];
    assign acc_g_we_o[b * R +: R] = (g_acc_waddr[AWW-1] == 1'(b)) ? g_acc_we : '0;
    assign acc_a_we_o[b * R +: R] = (a_acc_waddr[AWW-1] == 1'(b)) ? a_acc_we : '0;
    assign acc_l_we_o[b] = l_wr;
`ifndef SYNTHESIS
    logic g_wr, a_wr;
    assign g_wr = acc_g_we_o[b * R +: R] != '0;
    assign a_wr = acc_a_we_o[b * R +: R] != '0;
    /* verilator lint_off SYNCASYNCNET */
    always_ff @(posedge clk_i) begin
      if (rst_ni) begin
        OneReader: assert (!(g_rd && a_rd))
          else $error("vta_compute: both engines read ACC bank %0d in one cycle", b);
        OneWriter: assert ($onehot0({g_wr, a_wr, l_wr}))
          else $error("vta_compute: two writers of ACC bank %0d in one cycle", b);
      end
    end
    /* verilator lint_on SYNCASYNCNET */
`endif
  end

  // ---- the GEMM engine's compute->load push: from the start of a GEMM that handed it over until it is
  // given, once the GEMM's micro-ops are all past S1 (they have read INP and WGT: the push frees them for
  // the load module; their ACC writes are the compute module's own); it goes before the ALU engine's in
  // the same cycle (an ALU instruction younger than the GEMM cannot push sooner) ----
  logic g_push_q, g_pp_fire, g_pp_blk, g_active, gemm_hands_push, unused_g_pp_adv;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) g_push_q <= 1'b0;
    else if (g_start && gemm_hands_push) g_push_q <= 1'b1;
    else if (g_pp_fire) g_push_q <= 1'b0;
  end
  vta_token_step u_gemm_push_prev (.active_i(g_push_q && g_can_start), .want_i(1'b1), .ready_i(push_prev_ready_i),
                                   .fire_o(g_pp_fire), .advance_o(unused_g_pp_adv), .blocked_o(g_pp_blk));
  assign g_active = g_busy || g_push_q;  // the engine runs a GEMM or still has its push to give

  // ---- front end ----
  assign all_idle = !g_active && alu_empty && !uop_busy && !acc_busy;

  logic pop_prev_adv, pop_next_adv, push_prev_adv, push_next_adv;
  logic pop_prev_blk, pop_next_blk, push_prev_blk, push_next_blk, f_push_prev, f_push_next;
  vta_token_step u_pop_prev (.active_i(state_q == S_POP_PREV), .want_i(pop_prev), .ready_i(pop_prev_ready_i),
                             .fire_o(pop_prev_o), .advance_o(pop_prev_adv), .blocked_o(pop_prev_blk));
  vta_token_step u_pop_next (.active_i(state_q == S_POP_NEXT), .want_i(pop_next), .ready_i(pop_next_ready_i),
                             .fire_o(pop_next_o), .advance_o(pop_next_adv), .blocked_o(pop_next_blk));
  // the ALU engine (older work) goes first when both push compute->load in one cycle
  logic a_pp_want;
  assign a_pp_want = (a_state_q == A_PUSH_PREV) && a_push_prev_q;
  vta_token_step u_push_prev (.active_i(state_q == S_PUSH_PREV), .want_i(push_prev),
                              .ready_i(push_prev_ready_i && !a_pp_want && !g_push_q),
                              .fire_o(f_push_prev), .advance_o(push_prev_adv), .blocked_o(push_prev_blk));
  vta_token_step u_push_next (.active_i(state_q == S_PUSH_NEXT), .want_i(push_next), .ready_i(push_next_ready_i),
                              .fire_o(f_push_next), .advance_o(push_next_adv), .blocked_o(push_next_blk));
  // the front end pushes compute->store only with the ALU engine idle, and gives way on compute->load,
  // so the two never push one queue in one cycle
  assign push_prev_o = f_push_prev || a_pp_fire || g_pp_fire;
  assign push_next_o = f_push_next || a_pn_fire;

  logic front_push;  // the front end pushes this instruction's tokens (and so drains first)
  assign front_push = !(is_alu && run_loop) && (push_prev || push_next || is_finish);
  // a push to the load module alone needs all but the ALU engine done (everything older otherwise:
  // S_DRAIN waits for all_idle); written as an OR, not a select, Yosys maps it into 1.5k fewer LUTs
  logic drained_for_load;
  assign drained_for_load = !push_next && !is_finish && !g_active && !uop_busy && !acc_busy;
  // a GEMM whose one push is to the load module gives it to the GEMM engine
  assign gemm_hands_push = is_gemm && push_prev && !push_next;
  // The GEMM engine takes the next GEMM once idle, or once its last one's micro-ops are all past S1 (they
  // finish in S2..S3 while the next one's first reach S1, and the read-after-write check covers both)
  // unless that one has a push to give or ALU instructions came in behind it: those are older than the
  // next GEMM and wait for the engine to be idle, so it must not stay busy with the next.
  logic g_may_start;
  assign g_may_start = !g_push_q && (!g_busy || (g_can_start && behind_q == '0));

  always_comb begin
    state_d     = state_q;
    cmd_ready_o = 1'b0;
    insn_done_o = 1'b0;
    g_start     = 1'b0;
    unique case (state_q)
      S_IDLE: begin
        cmd_ready_o = 1'b1;
        if (cmd_valid_i) state_d = S_DECODE;
      end
      // a bad instruction waits until older ones are done, so their errors come first
      S_DECODE: if (!(tile_load && (decode_first_q || decode_second_q)) && (!bad || report_ok)) state_d = S_POP_PREV;
      S_POP_PREV: if (pop_prev_adv) state_d = S_POP_NEXT;
      S_POP_NEXT: if (pop_next_adv) state_d = S_DISPATCH;
      S_DISPATCH: begin
        if (is_gemm && run_loop) begin
          if (g_may_start) begin
            g_start = 1'b1;
            state_d = (front_push && !gemm_hands_push) ? S_DRAIN : S_IDLE;
            insn_done_o = !(front_push && !gemm_hands_push);
          end
        end else if (is_alu && run_loop) begin
          // room now is room at S_FOOT_TAG: only the ALU engine takes entries out meanwhile
          if (q_wready) state_d = S_FOOT_READ;
        end else if (runs_load && !bad) begin
          if (all_idle) state_d = S_LOAD;
        end else begin
          state_d = front_push ? S_DRAIN : S_IDLE;
          insn_done_o = !front_push;
        end
      end
      S_FOOT_READ: if (foot_read) state_d = S_FOOT_ADD;
      S_FOOT_ADD:  state_d = S_FOOT_TAG;
      S_FOOT_TAG: begin
        insn_done_o = 1'b1;
        state_d     = S_IDLE;
      end
      S_LOAD: if (!uop_busy && !acc_busy) state_d = S_PUSH_PREV;  // the engines stayed idle
      S_DRAIN: if (all_idle || drained_for_load) state_d = S_PUSH_PREV;
      S_PUSH_PREV: if (push_prev_adv) state_d = S_PUSH_NEXT;
      S_PUSH_NEXT: begin
        if (push_next_adv) begin
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
      decode_first_q <= 1'b0;
      decode_second_q <= 1'b0;
      insn_q  <= '0;
      idx_q   <= '0;
      dec_q   <= '0;
    end else begin
      state_q <= state_d;
      decode_first_q <= (state_q == S_IDLE) && cmd_valid_i;
      decode_second_q <= decode_first_q;
      if (state_q == S_IDLE && cmd_valid_i) begin
        insn_q <= cmd_insn_i;
        idx_q  <= cmd_idx_i;
        dec_q  <= d;
      end
    end
  end

  // the GEMM engine holds its instruction's index for error reports
  logic [31:0] g_idx_q;
  always_ff @(posedge clk_i) begin
    if (g_start) g_idx_q <= idx_q;
  end

  // waiting on a token with nothing else to do (a deadlock when every module is)
  logic f_blk, a_blk;
  assign f_blk = pop_prev_blk || pop_next_blk || push_prev_blk || push_next_blk;
  assign a_blk = a_pp_blk || a_pn_blk || g_pp_blk;
  assign idle_o    = (state_q == S_IDLE) && all_idle;
  assign blocked_o = (f_blk || a_blk) && !g_busy && !a_busy && !(a_state_q == A_IDLE && q_rvalid);

  // errors in program order: the ALU engine's (the oldest instruction when it runs), then the GEMM
  // engine's and the front end's once no older ALU instruction is left
  logic decode_err, gemm_err;
  assign decode_err = (state_q == S_DECODE) && bad && report_ok;
  assign gemm_err   = g_err && alu_older_empty;
  assign error_o    = a_err || gemm_err || decode_err;
  always_comb begin
    error_code_o = vta_pkg::ERR_INDEX;
    error_info_o = a_err ? a_err_info : g_err_info;
    error_addr_o = a_err ? a_err_addr : g_err_addr;
    if (!a_err && !gemm_err && decode_err) begin
      if (bad_mem) error_code_o = vta_pkg::ERR_MEM_TYPE;
      else if (bad_alu) error_code_o = vta_pkg::ERR_ALU_OP;
      error_info_o = bad_range ? vta_pkg::IDX_UOP_RANGE : (is_uop_load ? vta_pkg::IDX_UOP : vta_pkg::IDX_ACC);
      error_addr_o = bad_range ? 32'(uop_end) : tile_last;
    end
  end
  assign cur_idx_o = g_pp_blk ? g_idx_q : (a_err || a_blk) ? a_idx_q : gemm_err ? g_idx_q : idx_q;
  // the same without the token steps' blocked terms (an engine that reports an error is not pushing; a
  // LOAD whose read fails runs alone): a short path into the core's first-error capture
  assign error_idx_o = a_err ? a_idx_q : gemm_err ? g_idx_q : idx_q;

  assign gemm_uop_o = g_gemm_uop;
  assign alu_uop_o  = a_alu_uop;
  assign alu_rows_o = a_alu_rows;
  assign hazard_stall_o = g_hazard || a_hazard;

`ifndef SYNTHESIS
  /* verilator lint_off SYNCASYNCNET */
  // the ALU engine stays in the banks it was given
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      AluReadsItsBanks: assert (!a_acc_re || a_tag_q[a_acc_raddr[AWW-1]])
        else $error("vta_compute: the ALU engine read outside its banks");
      AluWritesItsBanks: assert (!(a_acc_we != '0) || a_tag_q[a_acc_waddr[AWW-1]])
        else $error("vta_compute: the ALU engine wrote outside its banks");
      // a LOAD ACC never overlaps an engine's write
      LoadAlone: assert (!acc_ld_we || (!g_busy && alu_empty))
        else $error("vta_compute: LOAD ACC while an engine runs");
      // a token queue takes one push a cycle
      OnePushPrev: assert ($onehot0({f_push_prev, a_pp_fire, g_pp_fire}))
        else $error("vta_compute: both engines pushed compute->load in one cycle");
      OnePushNext: assert (!(f_push_next && a_pn_fire))
        else $error("vta_compute: both engines pushed compute->store in one cycle");
    end
  end
  /* verilator lint_on SYNCASYNCNET */
`endif
endmodule
