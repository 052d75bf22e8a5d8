// One micro-op engine of the compute module: runs a GEMM or an ALU instruction's two-level loop over
// its micro-op range through a pipeline, one micro-op per cycle (ALU with a vector source: one per two
// cycles, the ACC bank has one read port, unless the micro-op has the previous one's source, which is
// kept):
//   S0 issue  : read the micro-op (UOP buffer), advance the loop counters
//   SA add    : add the loop offsets to the micro-op indices (registered: S1 starts from registers)
//   S1 address: check the indices; read INP[src], WGT[wgt] (GEMM), ACC[dst]
//               (and ACC[src] in an extra cycle) (ALU); stall while a micro-op one or two stages ahead
//               still has to write an ACC row read (read-after-write hazard), so results equal
//               sequential execution, and while the destination's ACC bank is locked (lock_i: an older
//               instruction on the other engine works there)
//   ALU:  S2 the operands registered, S2P the sum, the comparison's pick and the shift, S2Y the op's
//         result; S3 write: ACC[dst] (the compute module writes the OUT shadow); ACC is read in S1, so the
//         hazard window is four stages
//   GEMM: S2 multiply (into the DSP48s' M registers), S2P the products (their P registers), S2Y each
//         output's products to two (carry-save) and read ACC[dst], S2X the sums plus the accumulator (to two
//         again), S3 their add and the write. ACC is read three stages after S1 and written two after that,
//         so the hazard window is a micro-op one or two stages ahead. The next GEMM may start once this
//         one's micro-ops are all past S1.
//   ALU MUL: S2 the partial products (M registers), S2P (P registers), S2Y their carry-save sum, S2X
//         the add, S3 write; ACC is read in S1, so the hazard window is five stages. The engine runs
//         one instruction at a time, so all micro-ops in its pipeline take the same path.
// The compute module has two: GEMM = 1 runs GEMMs (the MAC array; reset GEMMs too), GEMM = 0 ALU
// instructions (the lane sets), so requantization overlaps the next tile's GEMMs (vta_compute.sv).
// ACC and OUT hold ACC_ROWS rows per word (vta/hw/acc_rows.h). An ALU instruction (or a reset GEMM) whose
// kernel is one micro-op and whose inner loop steps the destination by one row issues the inner
// iterations that fall in one word together, from its row to the word's end (a group of rows): the ALU
// has a lane set per row, the buffers a write enable per row. Its vector operand, if any, must then be
// the same for all (inner source factor 0) and not one of the group's rows but the last (a later
// iteration would read it after an earlier one wrote it); MUL never groups.
module vta_compute_pipe #(
  parameter bit GEMM = 1'b1
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  input  logic                          start_i,     // run insn_i (a GEMM/ALU whose loop is not empty)
  input  logic [vta_pkg::INSN_BITS-1:0] insn_i,
  input  logic                          one_uop_i,   // insn_i's kernel is one micro-op (decoded before)
  // ALU: the kernel's first micro-op's source index less its destination index, modulo 2^(AAW+1)
  // (the compute front end read the micro-op for the bank set); only its group decisions use it
  input  logic [vta_pkg::LOG_ACC_DEPTH:0] diff0_i,
  output logic                          busy_o,      // the loop or a micro-op in S1..S3
  // the loop is done and SA and S1 are empty: the GEMM engine may take the next instruction while the
  // last one's micro-ops finish in S2..S3 (they carry what they need of it)
  output logic                          can_start_o,
  input  logic [vta_pkg::ACC_BANKS-1:0] lock_i,      // ACC banks this engine must not touch yet
  // the UOP read port is lent out this cycle (the compute front end reads an ALU instruction's micro-op):
  // issue nothing; what the port shows next is not this engine's micro-op
  input  logic                          hold_i,
  output logic                          port_free_o, // lending the port now disturbs nothing: S1 is empty or moves on
  // UOP buffer (read)
  output logic                                uop_re_o,
  output logic [vta_pkg::LOG_UOP_DEPTH-1:0]   uop_raddr_o,
  input  logic [vta_pkg::UOP_ELEM_BITS-1:0]   uop_rdata_i,
  // INP and WGT buffers (read; GEMM only)
  output logic                                inp_re_o,
  output logic [vta_pkg::LOG_INP_DEPTH-1:0]   inp_raddr_o,
  input  logic [vta_pkg::INP_ELEM_BITS-1:0]   inp_rdata_i,
  output logic                                wgt_re_o,
  output logic [vta_pkg::LOG_WGT_DEPTH-1:0]   wgt_raddr_o,
  input  logic [vta_pkg::WGT_ELEM_BITS-1:0]   wgt_rdata_i,
  // ACC: word addresses (the top bit picks the bank), ACC_ROWS rows per word, a write enable per row
  output logic                                               acc_re_o,
  output logic [vta_pkg::LOG_ACC_DEPTH-vta_pkg::LOG_ACC_ROWS-1:0] acc_raddr_o,
  input  logic [vta_pkg::ACC_ROWS*vta_pkg::ACC_ELEM_BITS-1:0] acc_rdata_i,
  output logic [vta_pkg::ACC_ROWS-1:0]                       acc_we_o,
  output logic [vta_pkg::LOG_ACC_DEPTH-vta_pkg::LOG_ACC_ROWS-1:0] acc_waddr_o,
  output logic [vta_pkg::ACC_ROWS*vta_pkg::ACC_ELEM_BITS-1:0] acc_wdata_o,
  // an out-of-range operand of the micro-op in S1 (it never moves on)
  output logic                          error_o,
  output logic [3:0]                    error_info_o,
  output logic [31:0]                   error_addr_o,
  // counter events
  output logic                          gemm_uop_o,
  output logic                          alu_uop_o,
  output logic [vta_pkg::LOG_ACC_ROWS:0] alu_rows_o,
  output logic                          hazard_stall_o
);
  localparam int unsigned ACC_W  = vta_pkg::ACC_WIDTH;
  localparam int unsigned INP_W  = vta_pkg::INP_WIDTH;
  localparam int unsigned WGT_W  = vta_pkg::WGT_WIDTH;
  localparam int unsigned BATCH  = vta_pkg::BATCH;
  localparam int unsigned BIN    = vta_pkg::BLOCK_IN;
  localparam int unsigned BOUT   = vta_pkg::BLOCK_OUT;
  localparam int unsigned LANES  = BATCH * BOUT;
  localparam int unsigned UAW    = vta_pkg::LOG_UOP_DEPTH;
  localparam int unsigned AAW    = vta_pkg::LOG_ACC_DEPTH;
  localparam int unsigned IAW    = vta_pkg::LOG_INP_DEPTH;
  localparam int unsigned WAW    = vta_pkg::LOG_WGT_DEPTH;
  localparam int unsigned SAW    = vta_pkg::UOP_SRC_IDX_W;  // max(ACC, INP) index bits
  // loop offsets and buffer indices at full width (field + (iter_out-1) * factor_out + (iter_in-1) *
  // factor_in < 2^(bits + 16)), so an index past the buffer is detected instead of wrapping
  localparam int unsigned DXW    = AAW + 16;
  localparam int unsigned SXW    = SAW + 16;
  localparam int unsigned WXW    = WAW + 16;
  localparam int unsigned SHW    = $clog2(ACC_W);
  localparam int unsigned R      = vta_pkg::ACC_ROWS;      // rows per ACC/OUT word
  localparam int unsigned LR     = vta_pkg::LOG_ACC_ROWS;
  localparam int unsigned AWW    = AAW - LR;               // ACC word address bits
  localparam int unsigned NW     = LR + 1;                 // a group's row count, 1..R
  localparam int unsigned LB     = vta_pkg::LOG_ACC_BANKS;

  logic [vta_pkg::INSN_BITS-1:0] insn_q;
  /* verilator lint_off UNUSEDSIGNAL */  // a typed view: the module reads only some fields
  vta_pkg::gemm_insn_t start_insn;
  vta_pkg::alu_insn_t  start_alu;
  /* verilator lint_on UNUSEDSIGNAL */
  assign start_insn = insn_i;
  assign start_alu  = insn_i;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) insn_q <= '0;
    else if (start_i) insn_q <= insn_i;
  end

  // ---- decode (fields of the held instruction, through its typed views) ----
  /* verilator lint_off UNUSEDSIGNAL */  // a typed view: the module reads only some fields
  vta_pkg::gemm_insn_t gemm_q;
  vta_pkg::alu_insn_t  alu_q;
  /* verilator lint_on UNUSEDSIGNAL */
  assign gemm_q = insn_q;
  assign alu_q  = insn_q;
  localparam bit is_alu  = !GEMM;
  localparam bit is_gemm = GEMM;
  logic [2:0] alu_op;
  assign alu_op = GEMM ? 3'(vta_pkg::ALU_OP_ADD) : alu_q.alu_opcode;

  logic reset_f, use_imm;
  logic [UAW-1:0] uop_bgn;
  logic [13:0]    iter_in;
  logic [AAW-1:0] dst_fo, dst_fi;
  logic [SAW-1:0] src_fo, src_fi;
  logic [WAW-1:0] wgt_fo, wgt_fi;
  logic [ACC_W-1:0] imm;
  assign reset_f  = gemm_q.reset;  // an ALU instruction's reset bit writes zeros too, as a GEMM's
  assign uop_bgn  = UAW'(gemm_q.uop_bgn);
  assign iter_in  = gemm_q.iter_in;
  assign use_imm  = !GEMM && alu_q.use_imm;
  assign imm      = ACC_W'(alu_q.imm);  // signed field: sign-extended
  if (GEMM) begin : g_gemm_fields
    assign dst_fo = AAW'(gemm_q.dst_factor_out);
    assign dst_fi = AAW'(gemm_q.dst_factor_in);
    assign src_fo = SAW'(gemm_q.src_factor_out);
    assign src_fi = SAW'(gemm_q.src_factor_in);
    assign wgt_fo = WAW'(gemm_q.wgt_factor_out);
    assign wgt_fi = WAW'(gemm_q.wgt_factor_in);
  end else begin : g_alu_fields
    assign dst_fo = AAW'(alu_q.dst_factor_out);
    assign dst_fi = AAW'(alu_q.dst_factor_in);
    assign src_fo = SAW'(alu_q.src_factor_out);
    assign src_fi = SAW'(alu_q.src_factor_in);
    assign wgt_fo = '0;
    assign wgt_fi = '0;
  end

  // one micro-op, the destination one row further per inner iteration, the same vector operand for all:
  // the inner iterations in one word may go down the pipeline together as a group of rows
  // (worked out from the instruction as it starts, and registered)
  logic groupable, groupable_d;
  assign groupable_d = one_uop_i && (AAW'(start_insn.dst_factor_in) == AAW'(1)) &&
                       ((is_alu && start_alu.alu_opcode != 3'(vta_pkg::ALU_OP_MUL) &&
                         (start_alu.use_imm || SAW'(start_alu.src_factor_in) == '0)) ||
                        (is_gemm && start_insn.reset));
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) groupable <= 1'b0;
    else if (start_i) groupable <= groupable_d;
  end

  // ALU MUL goes through S2P, S2Y and S2X (the DSP48s' registers, the partial products' sum)
  logic mul_path;
  assign mul_path = is_alu && alu_op == 3'(vta_pkg::ALU_OP_MUL) && !reset_f;

  // ALU with a vector source reads ACC twice per micro-op; reset writes zeros without reading
  logic two_reads, no_reads;
  assign two_reads = is_alu && !use_imm && !reset_f;
  assign no_reads  = reset_f;

  // ---- micro-op loop and pipeline ----
  logic           loop_active_q;
  logic [UAW:0]   k_q;
  logic [13:0]    i_q, jleft_q;  // jleft_q: inner iterations left, this issue's included
  logic [DXW-1:0] dst_out_q, dst_in_q;
  logic [SXW-1:0] src_out_q, src_in_q;
  logic [WXW-1:0] wgt_out_q, wgt_in_q;

  // SA: the micro-op read and the loop offsets it takes
  logic           sa_valid_q;
  logic [NW-1:0]  sa_n_q;
  logic [DXW-1:0] sa_dst_base_q;
  logic [SXW-1:0] sa_src_base_q;
  logic [WXW-1:0] sa_wgt_base_q;
  // S1: its full-width indices
  logic           s1_valid_q, s1_phase_q;
  logic [NW-1:0]  s1_n_q;  // rows the micro-op (or group) writes, from its destination on
  logic [DXW-1:0] s1_dst_x_q;
  logic [SXW-1:0] s1_src_x_q;
  logic [WXW-1:0] s1_wgt_x_q;
  // S2 / S3: the destination word and the rows of it the micro-op (or group) writes
  localparam int unsigned ELEM = vta_pkg::ACC_ELEM_BITS;
  logic           s2_valid_q, s2_group_q;
  logic [AAW-1:0] s2_dst_q;
  logic [R-1:0]   s2_rows_q;
  logic [ACC_W*LANES-1:0] s2_src_q;   // ALU vector operand
  // the stages between S2 and S3: S2P and S2Y (all), S2X (GEMM and ALU MUL); every stage from S2 on
  // knows whether its micro-op is a reset one (the next GEMM may have started behind it)
  logic           s2p_valid_q, s2x_valid_q, s2p_group_q, s2x_group_q;
  logic           s2y_valid_q, s2y_group_q;
  logic [AAW-1:0] s2y_dst_q;
  logic [R-1:0]   s2y_rows_q;
  logic           s2_reset_q, s2p_reset_q, s2y_reset_q, s2x_reset_q;
  logic [AAW-1:0] s2p_dst_q, s2x_dst_q;
  logic [R-1:0]   s2p_rows_q, s2x_rows_q;
  // the stage that feeds S3 (GEMM, ALU MUL: S2X; other ALU: S2Y)
  logic           pre3_valid, pre3_group, pre3_reset;
  logic [AAW-1:0] pre3_dst;
  logic [R-1:0]   pre3_rows;
  logic           s3_valid_q;
  logic [AWW-1:0] s3_word_q;
  logic [R-1:0]   s3_rows_q;
  logic           s3_group_q;
  logic [LR-1:0]  s3_first_q;              // the row of a single micro-op or a group's first
  logic [R*ELEM-1:0] s3_res;               // the rows written

  // the row of its word a row index is (its low bits pick it)
  function automatic logic [R-1:0] row_of(input logic [LR-1:0] r);
    row_of = R'(1) << r;
  endfunction
  // rows [r, r + n) of a word (n <= R - r), row by row from small compares (no shift or subtract)
  function automatic logic [R-1:0] rows_from(input logic [LR-1:0] r, input logic [NW-1:0] n);
    for (int unsigned b = 0; b < R; b++)
      rows_from[b] = (NW'(b) >= NW'(r)) && (NW'(b) < NW'(r) + n);
  endfunction

  // SA: the micro-op's full-width indices (registered into S1); S1: the buffer addresses (their low bits)
  logic [DXW-1:0] sa_dst_x, s1_dst_x;
  logic [SXW-1:0] sa_src_x, s1_src_x;
  logic [WXW-1:0] sa_wgt_x, s1_wgt_x;
  logic [AAW-1:0] s1_dst, s1_src_acc;
  logic [SAW-1:0] s1_src;
  logic [WAW-1:0] s1_wgt;
  /* verilator lint_off UNUSEDSIGNAL */  // a typed view: the module reads only some fields
  vta_pkg::uop_t s1_uop;
  /* verilator lint_on UNUSEDSIGNAL */
  assign s1_uop     = uop_rdata_i;  // (the read port: SA's micro-op)
  vta_add #(.W(DXW)) u_sa_dst (.a_i(DXW'(s1_uop.dst_idx)), .b_i(sa_dst_base_q), .cin_i(1'b0), .sum_o(sa_dst_x));
  vta_add #(.W(SXW)) u_sa_src (.a_i(SXW'(s1_uop.src_idx)), .b_i(sa_src_base_q), .cin_i(1'b0), .sum_o(sa_src_x));
  vta_add #(.W(WXW)) u_sa_wgt (.a_i(WXW'(s1_uop.wgt_idx)), .b_i(sa_wgt_base_q), .cin_i(1'b0), .sum_o(sa_wgt_x));
  assign s1_dst_x   = s1_dst_x_q;
  assign s1_src_x   = s1_src_x_q;
  assign s1_wgt_x   = s1_wgt_x_q;
  assign s1_dst     = AAW'(s1_dst_x);
  assign s1_src     = SAW'(s1_src_x);
  assign s1_wgt     = WAW'(s1_wgt_x);
  assign s1_src_acc = AAW'(s1_src);

  // out-of-range operands of the micro-op in S1, in fsim's order (destination, then sources); reset
  // micro-ops only write the destination, immediate ALU ops read no source
  logic       s1_oob;
  logic [3:0] s1_oob_info;
  logic [31:0] s1_oob_addr;
  always_comb begin
    s1_oob      = 1'b1;
    s1_oob_info = vta_pkg::IDX_ACC;
    s1_oob_addr = 32'(s1_dst_x);
    if (s1_dst_x[DXW-1:AAW] != '0) begin
      s1_oob_info = vta_pkg::IDX_ACC;
    end else if (is_gemm && !reset_f && s1_src_x[SXW-1:IAW] != '0) begin
      s1_oob_info = vta_pkg::IDX_INP;
      s1_oob_addr = 32'(s1_src_x);
    end else if (is_gemm && !reset_f && s1_wgt_x[WXW-1:WAW] != '0) begin
      s1_oob_info = vta_pkg::IDX_WGT;
      s1_oob_addr = 32'(s1_wgt_x);
    end else if (is_alu && two_reads && s1_src_x[SXW-1:AAW] != '0) begin
      s1_oob_info = vta_pkg::IDX_ALU_SRC;
      s1_oob_addr = 32'(s1_src_x);
    end else begin
      s1_oob = 1'b0;
    end
  end
  // reported from registers a cycle later: such a micro-op never moves on (start_i comes only once the
  // engine may take an instruction, which it never may while S1 holds one)
  logic        error_q;
  logic [3:0]  error_info_q;
  logic [31:0] error_addr_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      error_q      <= 1'b0;
      error_info_q <= '0;
      error_addr_q <= '0;
    end else begin
      error_q      <= s1_valid_q && s1_oob;
      error_info_q <= s1_oob_info;
      error_addr_q <= s1_oob_addr;
    end
  end
  assign error_o      = error_q;
  assign error_info_o = error_info_q;
  assign error_addr_o = error_addr_q;
  logic unused_uop;
  assign unused_uop = ^uop_rdata_i;  // the micro-op fields need not fill all 32 bits

  // The vector operand of the last two-read ALU micro-op stays in s2_src_q: a micro-op with the same
  // source (the bias or shift of an output-channel block, over all its pixels) reuses it and reads only
  // ACC[dst], one cycle instead of two, unless the entry has been written since or an older micro-op
  // in S2/S3 still has to write it. Forgotten at every instruction start.
  logic           src_kept_q;
  logic [AAW-1:0] src_kept_idx_q;
  logic           kept_clear;  // S3 writes the kept entry this cycle
  assign kept_clear = (acc_waddr_o == src_kept_idx_q[AAW-1:LR]) && ((acc_we_o & row_of(src_kept_idx_q[LR-1:0])) != '0);

  if (GEMM) begin : g_window
    assign pre3_valid   = s2x_valid_q;
    assign pre3_dst     = s2x_dst_q;
    assign pre3_rows    = s2x_rows_q;
    assign pre3_group   = s2x_group_q;
    assign pre3_reset   = s2x_reset_q;
  end else begin : g_window
    assign pre3_valid   = mul_path ? s2x_valid_q : s2y_valid_q;
    assign pre3_dst     = mul_path ? s2x_dst_q : s2y_dst_q;
    assign pre3_rows    = mul_path ? s2x_rows_q : s2y_rows_q;
    assign pre3_group   = mul_path ? s2x_group_q : s2y_group_q;
    assign pre3_reset   = mul_path ? s2x_reset_q : s2y_reset_q;
  end

  // Read-after-write hazards, worked out a stage early. The micro-op in S1 must not read an ACC row
  // (GEMM: three cycles later) that one of the K micro-ops to leave S1 last still has to write (K = 2 for
  // the GEMM; ALU: 4, it writes four stages after its read; ALU MUL: 5). Stages after S1 never stall, so the micro-op k places
  // ahead of S1 this cycle is the one k + 1 places ahead next cycle, and nothing is one place ahead
  // after a cycle in which S1 kept its micro-op. So SA compares the entering micro-op's rows with S1's
  // and those of the first K - 1 places ahead (each still writing next cycle), S1 registers one bit per
  // place, for its destination rows and its vector source row, and shifts them while it waits: the
  // hazard is an OR of registers, and the stall back to S0 starts from registers.
  localparam int unsigned K = 5;
  logic [K:1] hz_dst_q, hz_src_q, hz_dst_new, hz_src_new;
  logic       s1_kept_q, s1_kept_new;  // S1's vector source is the kept operand
  logic [LR-1:0]  sa_dst_row, sa_src_rw;  // the rows of SA's indices into ACC (their sums' low bits)
  logic [R-1:0]   sa_rows, sa_src_row, s1_rows_q;
  assign sa_dst_row = LR'(s1_uop.dst_idx) + LR'(sa_dst_base_q);
  assign sa_src_rw  = LR'(s1_uop.src_idx) + LR'(sa_src_base_q);
  assign sa_rows    = rows_from(sa_dst_row, sa_n_q);
  assign sa_src_row = row_of(sa_src_rw);
  // the places ahead next cycle: S1's micro-op (if any, it leaves when SA's enters), S2, then S2P and
  // S2Y (ALU) and S2X (ALU MUL; the GEMM's window is two places)
  logic           ahead_valid [K];
  logic [AWW-1:0] ahead_word  [K];
  logic [R-1:0]   ahead_rows  [K];
  assign ahead_valid[0] = s1_valid_q;
  assign ahead_word[0]  = s1_dst[AAW-1:LR];
  assign ahead_rows[0]  = s1_rows_q;
  assign ahead_valid[1] = s2_valid_q;
  assign ahead_word[1]  = s2_dst_q[AAW-1:LR];
  assign ahead_rows[1]  = s2_rows_q;
  assign ahead_valid[2] = is_alu && s2p_valid_q;
  assign ahead_word[2]  = s2p_dst_q[AAW-1:LR];
  assign ahead_rows[2]  = s2p_rows_q;
  assign ahead_valid[3] = is_alu && s2y_valid_q;
  assign ahead_word[3]  = s2y_dst_q[AAW-1:LR];
  assign ahead_rows[3]  = s2y_rows_q;
  assign ahead_valid[4] = mul_path && s2x_valid_q;
  assign ahead_word[4]  = s2x_dst_q[AAW-1:LR];
  assign ahead_rows[4]  = s2x_rows_q;
  for (genvar k = 0; k < K; k++) begin : g_ahead
    // the word tests on the index sums without their carry chains (vta_sum_eq)
    logic dst_word_eq, src_word_eq;
    vta_sum_eq #(.W(AAW), .LO(LR)) u_dst_eq (.a_i(AAW'(s1_uop.dst_idx)), .b_i(AAW'(sa_dst_base_q)),
                                            .w_i(ahead_word[k]), .eq_o(dst_word_eq));
    vta_sum_eq #(.W(AAW), .LO(LR)) u_src_eq (.a_i(AAW'(s1_uop.src_idx)), .b_i(AAW'(sa_src_base_q)),
                                            .w_i(ahead_word[k]), .eq_o(src_word_eq));
    assign hz_dst_new[k + 1] = ahead_valid[k] && dst_word_eq && ((ahead_rows[k] & sa_rows) != '0);
    assign hz_src_new[k + 1] = ahead_valid[k] && src_word_eq && ((ahead_rows[k] & sa_src_row) != '0);
  end
  // the kept operand as S1 will see it next cycle (S1's micro-op, leaving, reads no source now)
  logic sa_src_kept;
  vta_sum_eq #(.W(AAW), .LO(0)) u_kept_eq (.a_i(AAW'(s1_uop.src_idx)), .b_i(AAW'(sa_src_base_q)),
                                          .w_i(src_kept_idx_q), .eq_o(sa_src_kept));
  assign s1_kept_new = src_kept_q && !kept_clear && sa_src_kept;

  logic s1_reuse, hz_dst, hz_src;
  assign hz_dst   = |hz_dst_q;
  assign hz_src   = |hz_src_q;
  assign s1_reuse = two_reads && !s1_phase_q && s1_kept_q && !hz_src;

  // read-after-write hazard on the ACC rows the micro-op in S1 reads; a locked bank
  logic s1_reads_src, s1_rd_acc, hazard, locked, s1_move, s1_ready, sa_move, sa_ready, s0_issue;
  logic [AAW-1:0] s1_rd_addr;
  logic [R-1:0]   s1_rd_rows;  // rows of the word read this cycle that the micro-op uses
  assign s1_reads_src = two_reads && !s1_phase_q && !s1_reuse;
  assign s1_rd_acc    = s1_valid_q && !no_reads && !s1_oob;
  assign s1_rd_addr   = s1_reads_src ? s1_src_acc : s1_dst;
  assign s1_rd_rows   = s1_reads_src ? row_of(s1_src_acc[LR-1:0]) : s1_rows_q;
  assign hazard = s1_rd_acc && (s1_reads_src ? hz_src : hz_dst);
  logic unused_rd_row;
  assign unused_rd_row = ^s1_rd_addr[LR-1:0];  // the read is of the whole word
  // the destination's bank (the only ACC entry a GEMM touches; the ALU engine is never locked)
  assign locked = s1_valid_q && !s1_oob && lock_i[s1_dst[AAW-1 -: LB]];
  // S1 hands its micro-op to S2 when no hazard and, for two reads, in the second phase
  assign s1_move  = s1_valid_q && !hazard && !locked && !s1_reads_src && !s1_oob;
  assign s1_ready = !s1_valid_q || s1_move;
  assign sa_move  = sa_valid_q && s1_ready;
  assign sa_ready = !sa_valid_q || sa_move;
  assign s0_issue = loop_active_q && sa_ready && !hold_i;
  assign port_free_o = sa_ready;

  assign uop_re_o    = s0_issue;
  assign uop_raddr_o = UAW'(k_q);
  assign inp_re_o    = GEMM && s1_move;
  assign inp_raddr_o = IAW'(s1_src);
  assign wgt_re_o    = GEMM && s1_move;
  assign wgt_raddr_o = s1_wgt;
  if (GEMM) begin : g_acc_read  // in S2Y, for S2X
    assign acc_re_o    = s2y_valid_q && !s2y_reset_q;
    assign acc_raddr_o = s2y_dst_q[AAW-1:LR];
  end else begin : g_acc_read
    assign acc_re_o    = s1_rd_acc && !hazard && !locked;
    assign acc_raddr_o = s1_rd_addr[AAW-1:LR];
  end

  // Groups: from the second micro-op on (the kernel's one micro-op is then on the UOP read port, so its
  // destination is known) the inner iterations from the destination row to the end of its word (or of
  // the inner loop) issue together. A vector operand that is one of the group's rows but the last would
  // be written by an earlier iteration before a later one reads it: such iterations go one at a time.
  // Kept to short paths: the inner iterations left count down (jleft_q), a group's row span comes from the
  // few low bits of its destination, the vector operand's place is a register (src - dst, from the
  // micro-op the front end read, kept up as the loop advances) tested on its low bits, and every next
  // value of the loop registers is added beside the decision (each candidate one short add from
  // registers), which then only selects. A group steps the destination by its span (dst_fi is 1) and
  // leaves the other operands where they are: a group's vector operand is fixed (src_fi 0), an immediate
  // or reset instruction reads none.
  logic           issued_q, s0_group, s0_src_in_group;
  logic [13:0]    s0_left;
  logic [LR-1:0]  s0_row;
  logic [NW-1:0]  s0_room, s0_span, s0_n;
  logic           left_le_room;
  // the vector operand's place: src - dst of the next issue, kept as the loop advances (with the offset
  // at the start of the outer iteration and each loop's step of it), modulo 2^(AAW+1) like diff0_i;
  // its top bit is the sign
  logic [AAW:0]   diff_q, diff_out_q, diff_fi_q, diff_fo_q;
  assign s0_left  = jleft_q;
  assign s0_row   = LR'(s1_uop.dst_idx) + LR'(dst_in_q);
  assign s0_room  = NW'(R) - NW'(s0_row);
  assign left_le_room = (s0_left[13:NW] == '0) && (s0_left[NW-1:0] <= s0_room);
  assign s0_span  = left_le_room ? NW'(s0_left) : s0_room;
  // src in [dst, dst + span - 1): the difference is below span - 1
  assign s0_src_in_group = two_reads && !diff_q[AAW] && (diff_q[AAW-1:NW] == '0) &&
                           ((diff_q[NW-1:0] + NW'(1)) < s0_span);
  assign s0_group = groupable && issued_q && (s0_span > NW'(1)) && !s0_src_in_group;
  assign s0_n     = s0_group ? s0_span : NW'(1);

  // the loop registers' candidates: one inner step, a group of n rows (n = 2..R), the next outer iteration
  logic [DXW-1:0] dst_in_step, dst_out_step;
  logic [SXW-1:0] src_in_step, src_out_step;
  logic [WXW-1:0] wgt_in_step, wgt_out_step;
  logic [13:0]    jleft_m1;
  logic [DXW-1:0] dst_in_group [R+1];
  logic [13:0]    jleft_group [R+1];
  logic [AAW:0]   diff_in_step, diff_out_step;
  logic [AAW:0]   diff_group [R+1];
  assign diff_in_step  = diff_q + diff_fi_q;
  assign diff_out_step = diff_out_q + diff_fo_q;
  vta_add #(.W(DXW)) u_dst_in (.a_i(dst_in_q), .b_i(DXW'(dst_fi)), .cin_i(1'b0), .sum_o(dst_in_step));
  vta_add #(.W(SXW)) u_src_in (.a_i(src_in_q), .b_i(SXW'(src_fi)), .cin_i(1'b0), .sum_o(src_in_step));
  vta_add #(.W(WXW)) u_wgt_in (.a_i(wgt_in_q), .b_i(WXW'(wgt_fi)), .cin_i(1'b0), .sum_o(wgt_in_step));
  vta_add #(.W(DXW)) u_dst_out (.a_i(dst_out_q), .b_i(DXW'(dst_fo)), .cin_i(1'b0), .sum_o(dst_out_step));
  vta_add #(.W(SXW)) u_src_out (.a_i(src_out_q), .b_i(SXW'(src_fo)), .cin_i(1'b0), .sum_o(src_out_step));
  vta_add #(.W(WXW)) u_wgt_out (.a_i(wgt_out_q), .b_i(WXW'(wgt_fo)), .cin_i(1'b0), .sum_o(wgt_out_step));
  assign jleft_m1 = jleft_q - 14'd1;
  for (genvar n = 0; n <= R; n++) begin : g_group_step
    if (n < 2) begin : g_none
      assign dst_in_group[n] = dst_in_q;
      assign jleft_group[n]  = jleft_q;
      assign diff_group[n]   = diff_q;
    end else begin : g_step
      vta_add #(.W(DXW)) u_dst_group (.a_i(dst_in_q), .b_i(DXW'(n)), .cin_i(1'b0), .sum_o(dst_in_group[n]));
      assign jleft_group[n] = jleft_q - 14'(n);
      assign diff_group[n]  = diff_q - (AAW + 1)'(n);  // the destination n rows on, the source where it was
    end
  end

  // loop counters: each test against a value fixed at the start (its bound less one)
  logic last_k, last_j, last_i;
  logic [UAW:0] k_last_m1_q;  // the last micro-op's index less one
  logic [13:0]  i_last_q;
  // last_k (k_q is the last micro-op's) is a register, kept up as k_q moves: every loop register's
  // update waits on it, and a compare of k_q would put an equality tree before them
  logic last_k_q, one_k_q;    // one_k_q: the kernel has one micro-op
  logic one_k_start;          // the starting instruction's kernel has one (uop_bgn + 1 == uop_end, no add)
  vta_sum_eq #(.W(UAW + 1)) u_one_k (.a_i((UAW + 1)'(start_insn.uop_bgn)), .b_i((UAW + 1)'(1)),
                                     .w_i((UAW + 1)'(start_insn.uop_end)), .eq_o(one_k_start));
  assign last_k = last_k_q;
  assign last_j = s0_group ? left_le_room : (s0_left == 14'd1);  // s0_n is all that is left
  assign last_i = (i_q == i_last_q);

  // The loop's position and running offsets: every instruction starts them afresh, so they need no reset.
  always_ff @(posedge clk_i) begin
    if (start_i) begin
      k_q <= (UAW + 1)'(start_insn.uop_bgn);
      k_last_m1_q <= (UAW + 1)'(start_insn.uop_end) - (UAW + 1)'(2);
      last_k_q <= one_k_start;
      one_k_q  <= one_k_start;
      i_q <= '0;
      i_last_q <= start_insn.iter_out - 14'd1;
      jleft_q <= start_insn.iter_in;
      dst_out_q <= '0;
      dst_in_q  <= '0;
      src_out_q <= '0;
      src_in_q  <= '0;
      wgt_out_q <= '0;
      wgt_in_q  <= '0;
      diff_q     <= diff0_i;
      diff_out_q <= diff0_i;
      diff_fi_q  <= (AAW + 1)'(start_alu.src_factor_in) - (AAW + 1)'(start_alu.dst_factor_in);
      diff_fo_q  <= (AAW + 1)'(start_alu.src_factor_out) - (AAW + 1)'(start_alu.dst_factor_out);
    end else if (s0_issue) begin
      if (!last_k) begin
        k_q <= k_q + (UAW + 1)'(1);
        last_k_q <= (k_q == k_last_m1_q);
      end else begin
        k_q <= (UAW + 1)'(uop_bgn);
        last_k_q <= one_k_q;
        if (!last_j) begin
          jleft_q  <= s0_group ? jleft_group[s0_span] : jleft_m1;
          dst_in_q <= s0_group ? dst_in_group[s0_span] : dst_in_step;
          diff_q   <= s0_group ? diff_group[s0_span] : diff_in_step;
          if (!s0_group) begin
            src_in_q <= src_in_step;
            wgt_in_q <= wgt_in_step;
          end
        end else begin
          jleft_q   <= iter_in;
          i_q       <= i_q + 14'd1;
          dst_out_q <= dst_out_step;
          src_out_q <= src_out_step;
          wgt_out_q <= wgt_out_step;
          dst_in_q  <= dst_out_step;
          src_in_q  <= src_out_step;
          wgt_in_q  <= wgt_out_step;
          diff_q     <= diff_out_step;
          diff_out_q <= diff_out_step;
        end
      end
    end
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) loop_active_q <= 1'b0;
    else if (start_i) loop_active_q <= 1'b1;
    else if (s0_issue && last_k && last_j && last_i) loop_active_q <= 1'b0;
  end

  // pipeline registers
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      sa_valid_q <= 1'b0;
      sa_n_q     <= NW'(1);
      sa_dst_base_q <= '0;
      sa_src_base_q <= '0;
      sa_wgt_base_q <= '0;
      s1_valid_q <= 1'b0;
      s1_phase_q <= 1'b0;
      s1_n_q     <= NW'(1);
      s1_dst_x_q <= '0;
      s1_src_x_q <= '0;
      s1_wgt_x_q <= '0;
      s1_rows_q  <= '0;
      s2_valid_q <= 1'b0;
      s2_group_q <= 1'b0;
      s2_dst_q   <= '0;
      s2_rows_q  <= '0;
      s2p_valid_q <= 1'b0;
      s2p_dst_q   <= '0;
      s2p_rows_q  <= '0;
      s2p_group_q <= 1'b0;
      s2x_valid_q <= 1'b0;
      s2y_valid_q <= 1'b0;
      s2y_dst_q   <= '0;
      s2y_rows_q  <= '0;
      s2y_group_q <= 1'b0;
      s2_reset_q  <= 1'b0;
      s2p_reset_q <= 1'b0;
      s2y_reset_q <= 1'b0;
      s2x_reset_q <= 1'b0;
      s2x_dst_q   <= '0;
      s2x_rows_q  <= '0;
      s2x_group_q <= 1'b0;
      s3_valid_q <= 1'b0;
      s3_word_q  <= '0;
      s3_rows_q  <= '0;
      s3_first_q <= '0;
      s3_group_q <= 1'b0;
    end else begin
      // S0 -> SA
      if (s0_issue) begin
        sa_valid_q    <= 1'b1;
        sa_n_q        <= s0_n;
        sa_dst_base_q <= dst_in_q;
        sa_src_base_q <= src_in_q;
        sa_wgt_base_q <= wgt_in_q;
      end else if (sa_move) begin
        sa_valid_q <= 1'b0;
      end
      // SA -> S1
      if (sa_move) begin
        s1_valid_q <= 1'b1;
        s1_phase_q <= 1'b0;
        s1_n_q     <= sa_n_q;
        s1_dst_x_q <= sa_dst_x;
        s1_src_x_q <= sa_src_x;
        s1_wgt_x_q <= sa_wgt_x;
        s1_rows_q  <= sa_rows;
      end else if (s1_move) begin
        s1_valid_q <= 1'b0;
      end else if (s1_valid_q && s1_reads_src && !hazard) begin
        s1_phase_q <= 1'b1;  // ACC[src] read issued; read ACC[dst] next
      end
      // S1 -> S2
      s2_valid_q <= s1_move;
      if (s1_move) begin
        s2_reset_q <= reset_f;
        s2_dst_q   <= s1_dst;
        s2_rows_q  <= s1_rows_q;
        s2_group_q <= (s1_n_q != NW'(1));
      end
      // S2 -> S2P -> S2Y (all), -> S2X (GEMM, ALU MUL)
      s2p_valid_q <= s2_valid_q;
      if (s2_valid_q) begin
        s2p_dst_q   <= s2_dst_q;
        s2p_rows_q  <= s2_rows_q;
        s2p_group_q <= s2_group_q;
        s2p_reset_q <= s2_reset_q;
      end
      s2y_valid_q <= s2p_valid_q;
      if (s2p_valid_q) begin
        s2y_dst_q   <= s2p_dst_q;
        s2y_rows_q  <= s2p_rows_q;
        s2y_group_q <= s2p_group_q;
        s2y_reset_q <= s2p_reset_q;
      end
      s2x_valid_q <= (GEMM || mul_path) && s2y_valid_q;
      if ((GEMM || mul_path) && s2y_valid_q) begin
        s2x_dst_q   <= s2y_dst_q;
        s2x_rows_q  <= s2y_rows_q;
        s2x_group_q <= s2y_group_q;
        s2x_reset_q <= s2y_reset_q;
      end
      // -> S3
      s3_valid_q <= pre3_valid;
      if (pre3_valid) begin
        s3_word_q  <= pre3_dst[AAW-1:LR];
        s3_first_q <= pre3_dst[LR-1:0];
        s3_group_q <= pre3_group;
        s3_rows_q  <= pre3_rows;
      end
    end
  end

  // S1's hazard bits: loaded as a micro-op enters, shifted one place further ahead while it stays (the
  // places past the window are empty); the kept operand stays kept unless S3 writes it
  logic [K:1] hz_window;
  assign hz_window = GEMM ? K'(2'b11) : mul_path ? '1 : K'(4'b1111);  // GEMM two places, ALU four, MUL K
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      hz_dst_q  <= '0;
      hz_src_q  <= '0;
      s1_kept_q <= 1'b0;
    end else if (sa_move) begin
      hz_dst_q  <= hz_dst_new;
      hz_src_q  <= hz_src_new;
      s1_kept_q <= s1_kept_new;
    end else begin
      hz_dst_q  <= {hz_dst_q[K-1:1], 1'b0} & hz_window;
      hz_src_q  <= {hz_src_q[K-1:1], 1'b0} & hz_window;
      s1_kept_q <= s1_kept_q && !kept_clear;
    end
  end

  // the vector ALU operand: ACC[src] is on the read port in the cycle of the second phase (kept when the
  // micro-op reuses it)
  // (an immediate instruction's operand is put there the cycle after it starts, from the held instruction,
  // long before its first micro-op reaches S2: the lanes then take their operand from a register either
  // way)
  logic started_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) started_q <= 1'b0;
    else started_q <= start_i;
  end
  always_ff @(posedge clk_i) begin
    if (!GEMM && started_q && use_imm) begin
      s2_src_q <= {LANES{imm}};
    end else if (s1_move && two_reads && s1_phase_q) begin
      s2_src_q <= acc_rdata_i[s1_src_acc[LR-1:0] * ELEM +: ELEM];
    end
  end
  // per-instruction state, forgotten at every instruction start: a micro-op issued (groups may follow),
  // the kept vector operand (only this engine writes the ACC bank it is in while it runs)
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      issued_q       <= 1'b0;
      src_kept_q     <= 1'b0;
      src_kept_idx_q <= '0;
    end else if (start_i) begin
      issued_q   <= 1'b0;
      src_kept_q <= 1'b0;
    end else begin
      // a lent port shows another micro-op next: the next issue reads ours again before a group
      if (hold_i) issued_q <= 1'b0;
      else if (s0_issue) issued_q <= 1'b1;
      if (acc_re_o && s1_reads_src) begin
        src_kept_q     <= 1'b1;
        src_kept_idx_q <= s1_src_acc;
      end else if (kept_clear) begin
        src_kept_q <= 1'b0;
      end
    end
  end

  // ---- execute (ALU: S2 to S2Y, GEMM and ALU MUL: S2 to S2X) ----
  // The products (GEMM) and MUL's partial products go through two registers, S2's and S2P's, with nothing
  // between them and the multiply, so synthesis puts them in the DSP48's M and P registers; both hold
  // while their stage is empty or runs no multiply.
  logic mul_m, mul_p;
  assign mul_m = s2_valid_q && (GEMM ? !s2_reset_q : mul_path);
  assign mul_p = s2p_valid_q && (GEMM ? !s2p_reset_q : mul_path);
  // a reset micro-op (or group) writes zeros in S3
  logic s3_reset_q;
  always_ff @(posedge clk_i) begin
    if (pre3_valid) s3_reset_q <= pre3_reset;
  end
  logic [ELEM-1:0] acc_row;
  // the micro-op's row of the word it read, in the stage after the read (ALU: S2, GEMM: S2X)
  // (a case of constant selections: a simulator copies one row instead of shifting the whole word)
  logic [LR-1:0] acc_row_sel;
  assign acc_row_sel = GEMM ? s2x_dst_q[LR-1:0] : s2_dst_q[LR-1:0];
  always_comb begin
    acc_row = acc_rdata_i[0 +: ELEM];
    for (int unsigned r = 1; r < R; r++) begin
      if (acc_row_sel == LR'(r)) acc_row = acc_rdata_i[r * ELEM +: ELEM];
    end
  end

  if (GEMM) begin : g_mac_array
    logic [ELEM-1:0] s3_gemm;  // S3's row
`ifdef VTA_SIM_ARITH
    logic [ELEM-1:0] gemm_res, s3_gemm_q;
    // A simulator computes a row's BOUT dot products where synthesis has the products (S2: the DSP48s'
    // M registers), carries them through S2P and S2Y, and adds the accumulator in S2X: the same stages,
    // enables and sums as below. The dot products come from C (vta_sim_gemm_dots,
    // simulator/tsim/src/gemm_dots.cpp, vectorized): as BOUT x BIN multiplies of bit fields in
    // the model they were a third of tsim's time. tests/hardware/synth_forms proves the synthesis form's
    // arithmetic equal to these sums (vta_mac_pair, vta_csa_tree, the offsets), tsim.synth_arith runs
    // programs on it, and the function has a unit test against a per-bit sum (tsim_gemm_dots_test).
    // (not `pure`: SystemVerilog allows no output argument there)
    import "DPI-C" function void vta_sim_gemm_dots(input int bin, input int bout, input int inp_w,
                                                   input int wgt_w, input int acc_w,
                                                   input bit [BIN*INP_W-1:0] inp,
                                                   input bit [BOUT*BIN*WGT_W-1:0] wgt,
                                                   output bit [BOUT*ACC_W-1:0] dots);
    for (genvar b = 0; b < BATCH; b++) begin : g_batch
      logic [BOUT*ACC_W-1:0] dot_m, dot_p, dot_y;
      always_ff @(posedge clk_i) begin
        if (mul_m) begin
          automatic logic [BOUT*ACC_W-1:0] dots;
          vta_sim_gemm_dots(BIN, BOUT, INP_W, WGT_W, ACC_W, inp_rdata_i[b * BIN * INP_W +: BIN * INP_W],
                            wgt_rdata_i, dots);
          dot_m <= dots;
        end
        if (mul_p) dot_p <= dot_m;
        if (s2y_valid_q && !s2y_reset_q) dot_y <= dot_p;
      end
      for (genvar o = 0; o < BOUT; o++) begin : g_out
        assign gemm_res[(b * BOUT + o) * ACC_W +: ACC_W] = acc_row[(b * BOUT + o) * ACC_W +: ACC_W] +
                                                           dot_y[o * ACC_W +: ACC_W];
      end
    end
    always_ff @(posedge clk_i) begin
      if (pre3_valid && !pre3_reset) s3_gemm_q <= gemm_res;
    end
    assign s3_gemm = s3_gemm_q;
`else
    // Two products per DSP48 (vta_mac_pair) where vta_pkg::GEMM_PACK says they fit, else one; either
    // way in offset binary (product + 2^(PW-1), as unsigned: the top bit inverted). The sums go in two
    // stages: S2Y reduces each output's BIN products to two by a carry-save tree (vta_csa_tree); S2X
    // adds those two, the accumulator and the offsets' total back out, with one carry-propagate add.
    localparam bit          PACK = vta_pkg::GEMM_PACK != 0;
    localparam int unsigned PW   = INP_W + WGT_W;
    localparam int unsigned TW   = PW + $clog2(BIN);  // BIN products of PW bits, unsigned
    localparam logic [ACC_W-1:0] OFFSETS = ACC_W'(BIN) << (PW - 1);
    logic cs_en;
    assign cs_en = s2y_valid_q && !s2y_reset_q;

    for (genvar b = 0; b < BATCH; b++) begin : g_batch
      logic [BIN*TW-1:0] prod [BOUT];  // S2Y: product of output o, input x, plus 2^(PW-1), at prod[o][x*TW +: TW]
      if (PACK) begin : g_packed
        for (genvar o = 0; o < BOUT; o += 2) begin : g_pair
          for (genvar x = 0; x < BIN; x++) begin : g_mac
            logic [PW-1:0] lo, hi;
            vta_mac_pair #(.INP_W(INP_W), .WGT_W(WGT_W)) u_dsp (
              .clk_i, .m_en_i(mul_m), .p_en_i(mul_p),
              .x_i(inp_rdata_i[(b * BIN + x) * INP_W +: INP_W]),
              .w_lo_i(wgt_rdata_i[(o * BIN + x) * WGT_W +: WGT_W]),
              .w_hi_i(wgt_rdata_i[((o + 1) * BIN + x) * WGT_W +: WGT_W]),
              .lo_o(lo), .hi_o(hi));
            assign prod[o][x * TW +: TW]     = TW'(lo);
            assign prod[o + 1][x * TW +: TW] = TW'(hi);
          end
        end
      end else begin : g_plain
        for (genvar o = 0; o < BOUT; o++) begin : g_out
          for (genvar x = 0; x < BIN; x++) begin : g_mac
            logic signed [PW-1:0] p_m, p_p;
            always_ff @(posedge clk_i) begin
              if (mul_m) p_m <= $signed(inp_rdata_i[(b * BIN + x) * INP_W +: INP_W]) *
                                $signed(wgt_rdata_i[(o * BIN + x) * WGT_W +: WGT_W]);
              if (mul_p) p_p <= p_m;
            end
            assign prod[o][x * TW +: TW] = TW'({~p_p[PW-1], p_p[PW-2:0]});
          end
        end
      end
      for (genvar o = 0; o < BOUT; o++) begin : g_sum
        logic [TW-1:0] cs_s, cs_c, cs_s_q, cs_c_q;  // S2Y's two, registered for S2X
        vta_csa_tree #(.N(BIN), .W(TW)) u_tree (.ops_i(prod[o]), .sum_o(cs_s), .carry_o(cs_c));
        always_ff @(posedge clk_i) begin
          if (cs_en) begin
            cs_s_q <= cs_s;
            cs_c_q <= cs_c;
          end
        end
        // S2X: accumulator + the two - the offsets, to two in one LUT level (vta_csa_3k), registered as
        // two for S3, whose one add feeds the ACC write: the add's carry chain after a register, not
        // after the ACC read, its row select and the tree (S3's output is the write data either way)
        logic [ACC_W-1:0] f_s, f_c, f_s_q, f_c_q;
        vta_csa_3k #(.W(ACC_W), .K(-OFFSETS)) u_final (
          .a_i(acc_row[(b * BOUT + o) * ACC_W +: ACC_W]), .b_i(ACC_W'(cs_s_q)), .c_i(ACC_W'(cs_c_q)),
          .sum_o(f_s), .carry_o(f_c));
        always_ff @(posedge clk_i) begin
          if (pre3_valid && !pre3_reset) begin
            f_s_q <= f_s;
            f_c_q <= f_c;
          end
        end
        vta_add #(.W(ACC_W)) u_sum (.a_i(f_s_q), .b_i(f_c_q), .cin_i(1'b0),
                                    .sum_o(s3_gemm[(b * BOUT + o) * ACC_W +: ACC_W]));
      end
    end
`endif
    // S3's rows: zeros (reset) or the GEMM row (the write enable picks its row)
    for (genvar r = 0; r < R; r++) begin : g_row
      assign s3_res[r * ELEM +: ELEM] = s3_reset_q ? '0 : s3_gemm;
    end
    logic unused_alu;
    assign unused_alu = ^{s2_src_q, imm, s3_first_q, s3_group_q, use_imm, s1_rd_acc, s1_rd_addr, hazard, locked, mul_path};
  end else begin : g_lanes
    logic [ACC_W*LANES-1:0] alu_b, alu_b_q;
    logic [R*ELEM-1:0] s3_alu;  // the lane sets' registered results
    assign alu_b = s2_src_q;  // the vector operand, or the immediate (see s2_src_q)
    // S2 registers it for S2P (the next micro-op's may replace s2_src_q as this one leaves S2)
    always_ff @(posedge clk_i) begin
      if (s2_valid_q && !reset_f && !mul_path) alu_b_q <= alu_b;
    end
    // and SHR's amount decoded (direction, amount, the saturations), so that S2P's path is the shift alone
    logic [LANES-1:0]     sh_left_q, sh_fill_q, sh_zero_q;
    logic [LANES*SHW-1:0] sh_amt_q;
    for (genvar l = 0; l < LANES; l++) begin : g_sh_decode
      logic [ACC_W-1:0] b;
      assign b = alu_b[l * ACC_W +: ACC_W];
      always_ff @(posedge clk_i) begin
        if (s2_valid_q && !reset_f && !mul_path) begin
          // a negative amount shifts left by its magnitude; amounts of ACC_W or more saturate
          sh_left_q[l] <= b[ACC_W-1];
          sh_fill_q[l] <= !b[ACC_W-1] && (|b[ACC_W-2:SHW]);
          sh_zero_q[l] <= b[ACC_W-1] && (!(&b[ACC_W-1:SHW]) || b[SHW-1:0] == '0);
          sh_amt_q[l * SHW +: SHW] <= b[ACC_W-1] ? SHW'(-b[SHW-1:0]) : b[SHW-1:0];
        end
      end
    end
`ifndef VTA_SIM_ARITH
    // and inverted, for the comparison's a - b (no inverter before its carry chain)
    logic [ACC_W*LANES-1:0] alu_nb_q;
    always_ff @(posedge clk_i) begin
      if (s2_valid_q && !reset_f && !mul_path) alu_nb_q <= ~alu_b;
    end
`endif
    // A lane set per row: the first takes the micro-op's row (a group's first), set r > 0 row r of the
    // word (a group's later rows). Groups never multiply (see `groupable`), so only the first set has
    // multipliers: more sets of 32-bit multipliers would take the DSPs past a PYNQ-class part's.
    // MUL keeps the low ACC_W bits of a x b: the sum of the partial products of a's 17-bit and b's
    // 16-bit pieces (a DSP48's unsigned 17 x 16) that land below bit ACC_W, each cut to the bits that do
    // (at 32 bits: a0 x b0, a1 x b0 mod 2^15, a0 x b1 mod 2^16). With 24-bit pieces of b the third was
    // an 8 x 8 product that Yosys left to LUTs (eleven cells from the ACC read, the core's longest path);
    // now every one is wide enough for a DSP48 (16 more). Each partial product goes through two
    // registers with nothing between (S2, S2P: the DSP48's M and P), the sum is S2Y's and S2X's.
    localparam int unsigned MA = 17, MB = 16;
    localparam int unsigned NPA = (ACC_W + MA - 1) / MA, NPB = (ACC_W + MB - 1) / MB;
    // Each lane computes where it is registered, enabled only when an ALU micro-op (set 0) or group (the
    // other sets) is in the stage: the same logic for synthesis, and a simulator skips the lanes when idle.
    for (genvar l = 0; l < R * LANES; l++) begin : g_alu
      localparam int unsigned SET = l / LANES;
      logic [ACC_W-1:0] a, r_q, mul_res;
      if (SET == 0) begin : g_first
        logic [ACC_W-1:0] bv;  // MUL's operand, in S2
        assign a  = acc_row[l * ACC_W +: ACC_W];
        assign bv = alu_b[(l % LANES) * ACC_W +: ACC_W];
        logic [ACC_W-1:0] part [NPA * NPB];  // S2X: partial product (i, j) at its place, 0 if above ACC_W
        for (genvar i = 0; i < NPA; i++) begin : g_pa
          for (genvar j = 0; j < NPB; j++) begin : g_pb
            localparam int unsigned OFF = i * MA + j * MB;
            if (OFF < ACC_W) begin : g_part
              // the bits of the product that land below ACC_W, from as many bits of each piece
              localparam int unsigned KW  = ACC_W - OFF;
              localparam int unsigned WA  = (ACC_W - i * MA < MA) ? ACC_W - i * MA : MA;
              localparam int unsigned WB  = (ACC_W - j * MB < MB) ? ACC_W - j * MB : MB;
              localparam int unsigned UA  = WA < KW ? WA : KW;
              localparam int unsigned UB  = WB < KW ? WB : KW;
              logic [UA-1:0] pa;
              logic [UB-1:0] pb;
              logic [KW-1:0] m_q, p_q;
              assign pa = a[i * MA +: UA];
`ifdef VTA_SIM_ARITH
              assign pb = bv[j * MB +: UB];
`else
              // (gated by the op: a register straight into the multiplier would be taken into the DSP48
              // as its B register, with the S1 move's deep enable as its clock enable)
              assign pb = bv[j * MB +: UB] & {UB{mul_path}};
`endif
              always_ff @(posedge clk_i) begin
                if (mul_m) m_q <= KW'(pa * pb);
                if (mul_p) p_q <= m_q;
              end
              assign part[i * NPB + j] = ACC_W'(p_q) << OFF;
            end else begin : g_none
              assign part[i * NPB + j] = '0;
            end
          end
        end
        // their sum: a carry-save tree to two in S2Y, one carry-select add in S2X
        logic [ACC_W-1:0] mul_s, mul_c, mul_s_q, mul_c_q;
        logic [NPA*NPB*ACC_W-1:0] parts;
        for (genvar k = 0; k < NPA * NPB; k++) begin : g_flat
          assign parts[k * ACC_W +: ACC_W] = part[k];
        end
        vta_csa_tree #(.N(NPA * NPB), .W(ACC_W)) u_mul_tree (.ops_i(parts), .sum_o(mul_s), .carry_o(mul_c));
        always_ff @(posedge clk_i) begin
          if (s2y_valid_q && mul_path) begin
            mul_s_q <= mul_s;
            mul_c_q <= mul_c;
          end
        end
        vta_add #(.W(ACC_W)) u_mul_sum (.a_i(mul_s_q), .b_i(mul_c_q), .cin_i(1'b0), .sum_o(mul_res));
      end else begin : g_later
        assign a = acc_rdata_i[l * ACC_W +: ACC_W];
        assign mul_res = '0;
      end
      // The other ops in three stages, each from registers: S2 registers the operands (the row of the
      // word read), S2P computes the sum, the comparison's pick (MIN, MAX; the operand itself for the
      // ops that pass it) and the shift, S2Y selects the op's. Synthesis gets the sum and the signed
      // comparison (the sign of a - b at one bit more) as carry-select adds; a simulator computes them
      // inside the enabled register updates (continuous adds would be evaluated whenever their
      // operands change).
      logic [ACC_W-1:0] a_q, bq, add_q, pick_q, shr_q;
      logic s2_on, s2p_on, s2y_on;
      assign s2_on  = s2_valid_q && !reset_f && !mul_path && (SET == 0 || s2_group_q);
      assign s2p_on = s2p_valid_q && !reset_f && !mul_path && (SET == 0 || s2p_group_q);
      assign s2y_on = s2y_valid_q && !reset_f && !mul_path && (SET == 0 || s2y_group_q);
      assign bq = alu_b_q[(l % LANES) * ACC_W +: ACC_W];
`ifndef VTA_SIM_ARITH
      logic [ACC_W-1:0] add_res;
      logic             a_lt_b;
      logic [ACC_W:0]   a_minus_b;
      vta_add #(.W(ACC_W)) u_add (.a_i(a_q), .b_i(bq), .cin_i(1'b0), .sum_o(add_res));
      logic [ACC_W-1:0] nbq;
      assign nbq = alu_nb_q[(l % LANES) * ACC_W +: ACC_W];
      vta_add #(.W(ACC_W + 1)) u_cmp (.a_i({a_q[ACC_W-1], a_q}), .b_i({nbq[ACC_W-1], nbq}), .cin_i(1'b1), .sum_o(a_minus_b));
      assign a_lt_b = a_minus_b[ACC_W];
`endif
      // MIN and MAX use the same comparison (equal operands give the same result either way; synthesis
      // merges the two), and SHR's saturation tests and left amount look at the amount's bits instead of
      // negating it: 420 LUTs a lane of the later sets instead of 538 (Yosys, xc7; equal by a SAT proof).
      always_ff @(posedge clk_i) begin
        if (s2_on) a_q <= a;
        if (s2p_on) begin
`ifdef VTA_SIM_ARITH
          add_q <= a_q + bq;
          pick_q <= (alu_op == 3'(vta_pkg::ALU_OP_MIN)) ? (($signed(a_q) < $signed(bq)) ? a_q : bq) :
                    (alu_op == 3'(vta_pkg::ALU_OP_MAX)) ? (($signed(a_q) < $signed(bq)) ? bq : a_q) : a_q;
`else
          add_q <= add_res;
          pick_q <= (alu_op == 3'(vta_pkg::ALU_OP_MIN)) ? (a_lt_b ? a_q : bq) :
                    (alu_op == 3'(vta_pkg::ALU_OP_MAX)) ? (a_lt_b ? bq : a_q) : a_q;
`endif
          // arithmetic right shift, a negative amount's left shift, or a saturation (decoded in S2)
          shr_q <= sh_zero_q[l % LANES] ? '0 :
                   sh_fill_q[l % LANES] ? {ACC_W{a_q[ACC_W-1]}} :
                   sh_left_q[l % LANES] ? a_q << sh_amt_q[(l % LANES) * SHW +: SHW] :
                                          ACC_W'($signed(a_q) >>> sh_amt_q[(l % LANES) * SHW +: SHW]);
        end
        if (SET == 0 && s2x_valid_q && mul_path) begin
          r_q <= mul_res;
        end else if (s2y_on) begin
          r_q <= (alu_op == 3'(vta_pkg::ALU_OP_ADD)) ? add_q : (alu_op == 3'(vta_pkg::ALU_OP_SHR)) ? shr_q : pick_q;
        end
      end
      assign s3_alu[l * ACC_W +: ACC_W] = r_q;
    end
    // zeros (reset), else a single micro-op's result goes to every row (the write enable picks its row);
    // a group's first row comes from the first lane set, its later rows from their own
    for (genvar r = 0; r < R; r++) begin : g_row
      logic own;
      assign own = s3_group_q && (LR'(r) != s3_first_q);
      assign s3_res[r * ELEM +: ELEM] = s3_reset_q ? '0 : own ? s3_alu[r * ELEM +: ELEM] : s3_alu[0 +: ELEM];
    end
    logic unused_gemm;
    assign unused_gemm = ^{inp_rdata_i, wgt_rdata_i, wgt_fo, wgt_fi, s1_wgt};
  end

  // ---- ACC write: S3's rows of the word ----
  assign acc_we_o    = s3_valid_q ? s3_rows_q : '0;
  assign acc_waddr_o = s3_word_q;
  assign acc_wdata_o = s3_res;

  assign busy_o = loop_active_q || sa_valid_q || s1_valid_q || s2_valid_q || s2p_valid_q || s2y_valid_q || s2x_valid_q ||
                  s3_valid_q;
  assign can_start_o = !loop_active_q && !sa_valid_q && !s1_valid_q;
  assign gemm_uop_o = s0_issue && is_gemm && !reset_f;
  assign alu_uop_o  = s0_issue && is_alu;
  assign alu_rows_o = s0_n;
  assign hazard_stall_o = hazard || locked;

`ifndef SYNTHESIS
  // rows of word `w` a pending write in S2/S3 still has to write, among `rows`
  function automatic logic pending_in(input logic [AWW-1:0] dst_word, input logic [R-1:0] wrows,
                                      input logic [AWW-1:0] w, input logic [R-1:0] rows);
    pending_in = (dst_word == w) && ((wrows & rows) != '0);
  endfunction
  /* verilator lint_off SYNCASYNCNET */
  // read-after-write: an ACC row is never read while an older micro-op has still to write it (any stage
  // after the read, S3 included: it writes in the read's cycle)
  logic [R-1:0] rd_rows;
  assign rd_rows = GEMM ? s2y_rows_q : s1_rd_rows;
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      AccReadAfterWrite: assert (!acc_re_o ||
          !((!GEMM && s2_valid_q && pending_in(s2_dst_q[AAW-1:LR], s2_rows_q, acc_raddr_o, rd_rows)) ||
            (!GEMM && s2p_valid_q && pending_in(s2p_dst_q[AAW-1:LR], s2p_rows_q, acc_raddr_o, rd_rows)) ||
            (!GEMM && s2y_valid_q && pending_in(s2y_dst_q[AAW-1:LR], s2y_rows_q, acc_raddr_o, rd_rows)) ||
            (s2x_valid_q && pending_in(s2x_dst_q[AAW-1:LR], s2x_rows_q, acc_raddr_o, rd_rows)) ||
            (s3_valid_q && pending_in(s3_word_q, s3_rows_q, acc_raddr_o, rd_rows))))
        else $error("vta_compute_pipe: ACC word %0d read before an older micro-op wrote it", acc_raddr_o);
      // an out-of-range micro-op never leaves S1, so no index wraps around a buffer
      NoWrappedIndex: assert (!s1_move || !s1_oob)
        else $error("vta_compute_pipe: an out-of-range micro-op reached the buffers");
      // a locked bank is neither read nor given to S2
      LockedBankUntouched: assert (!s1_move || !lock_i[s1_dst[AAW-1 -: LB]])
        else $error("vta_compute_pipe: a micro-op entered a locked ACC bank");
    end
  end
  /* verilator lint_on SYNCASYNCNET */
`endif
endmodule
