// The load module: executes LOADs of INP and WGT tiles. Per instruction: pop a compute->load token if
// pop_next, run the load (x_size == 0: token-only no-op), then push a load->compute token if push_next.
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
  output logic                          blocked_o,    // waiting for a token
  output logic [31:0]                   cur_idx_o,
  output logic                          error_o,      // one-cycle pulse
  output logic [7:0]                    error_code_o,
  output logic [3:0]                    error_info_o, // out-of-range index: the buffer (vta_pkg::IDX_*)
  output logic [31:0]                   error_addr_o, // ... and the index
  // counter events
  output logic                          insn_done_o,
  output logic                          inp_elem_o,
  output logic                          wgt_elem_o
);
  typedef enum logic [2:0] {S_IDLE, S_POP, S_START, S_RUN, S_PUSH} state_e;
  state_e state_q, state_d;

  logic [vta_pkg::INSN_BITS-1:0] insn_q;
  logic [31:0] idx_q;
  logic [2:0]  mem_type;
  logic [15:0] x_size;
  logic        is_wgt, pop_next, push_next, bad_dep;
  /* verilator lint_off UNUSEDSIGNAL */  // a typed view: the module reads only some fields
  vta_pkg::mem_insn_t mi;
  /* verilator lint_on UNUSEDSIGNAL */
  assign mi        = insn_q;
  assign mem_type  = mi.memory_type;
  assign x_size    = mi.x_size;
  assign pop_next  = mi.pop_next;
  assign push_next = mi.push_next;
  assign bad_dep   = mi.pop_prev || mi.push_prev;
  assign is_wgt    = (mem_type == 3'(vta_pkg::MEM_TYPE_WGT));

  // ---- the two load units; only the one of the current memory type runs ----
  logic inp_start, wgt_start, inp_busy, wgt_busy;
  logic inp_arvalid, wgt_arvalid;
  logic [ADDR_W-1:0] inp_araddr, wgt_araddr;
  logic [7:0] inp_arlen, wgt_arlen;

  // the tile must fit its buffer (checked on the whole sram_base field; a tile that does not fit is
  // reported and never started, so nothing wraps around the buffer)
  logic        oob;
  logic [31:0] oob_last;
  // rows x cols of the instruction on the command queue in IDLE (M stays put in POP, which copies it to P);
  // START checks it
  /* verilator lint_off UNUSEDSIGNAL */  // a typed view: only the tile's sizes are read
  vta_pkg::mem_insn_t cmd_mi;
  /* verilator lint_on UNUSEDSIGNAL */
  assign cmd_mi = cmd_insn_i;
  vta_tile_check u_bounds (
    .clk_i, .mul_en_i(state_q == S_IDLE && cmd_valid_i), .hold_en_i(state_q == S_POP),
    .rows_i(17'(cmd_mi.y_pad_0) + 17'(cmd_mi.y_size) + 17'(cmd_mi.y_pad_1)),
    .cols_i(17'(cmd_mi.x_pad_0) + 17'(cmd_mi.x_size) + 17'(cmd_mi.x_pad_1)),
    .sram_base_i(mi.sram_base),
    .depth_i(is_wgt ? 32'(vta_pkg::WGT_DEPTH) : 32'(vta_pkg::INP_DEPTH)),
    .oob_o(oob), .last_o(oob_last)
  );
  logic bad_index;
  assign bad_index = (x_size != '0) && oob;

  assign inp_start = (state_q == S_START) && !is_wgt && (x_size != '0) && !bad_index;
  assign wgt_start = (state_q == S_START) && is_wgt && (x_size != '0) && !bad_index;

  vta_load_unit #(
    .ELEM_BITS(vta_pkg::INP_ELEM_BITS), .SRAM_AW(vta_pkg::LOG_INP_DEPTH), .BUS_W(BUS_W), .ADDR_W(ADDR_W)
  ) u_inp (
    .clk_i, .rst_ni, .start_i(inp_start), .insn_i(insn_q), .busy_o(inp_busy),
    .arvalid_o(inp_arvalid), .arready_i(arready_i && !is_wgt), .araddr_o(inp_araddr), .arlen_o(inp_arlen),
    .rvalid_i(rvalid_i && !is_wgt), .rdata_i,
    .we_o(inp_we_o), .waddr_o(inp_waddr_o), .wdata_o(inp_wdata_o), .elem_loaded_o(inp_elem_o)
  );

  vta_load_unit #(
    .ELEM_BITS(vta_pkg::WGT_ELEM_BITS), .SRAM_AW(vta_pkg::LOG_WGT_DEPTH), .BUS_W(BUS_W), .ADDR_W(ADDR_W)
  ) u_wgt (
    .clk_i, .rst_ni, .start_i(wgt_start), .insn_i(insn_q), .busy_o(wgt_busy),
    .arvalid_o(wgt_arvalid), .arready_i(arready_i && is_wgt), .araddr_o(wgt_araddr), .arlen_o(wgt_arlen),
    .rvalid_i(rvalid_i && is_wgt), .rdata_i,
    .we_o(wgt_we_o), .waddr_o(wgt_waddr_o), .wdata_o(wgt_wdata_o), .elem_loaded_o(wgt_elem_o)
  );

  assign arvalid_o = is_wgt ? wgt_arvalid : inp_arvalid;
  assign araddr_o  = is_wgt ? wgt_araddr : inp_araddr;
  assign arlen_o   = is_wgt ? wgt_arlen : inp_arlen;

  // ---- control ----
  logic pop_adv, pop_blk, push_adv, push_blk;
  vta_token_step u_pop (.active_i(state_q == S_POP), .want_i(pop_next), .ready_i(pop_next_ready_i),
                        .fire_o(pop_next_o), .advance_o(pop_adv), .blocked_o(pop_blk));
  vta_token_step u_push (.active_i(state_q == S_PUSH), .want_i(push_next), .ready_i(push_next_ready_i),
                         .fire_o(push_next_o), .advance_o(push_adv), .blocked_o(push_blk));

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
      S_START: state_d = S_RUN;
      S_RUN: if (!inp_busy && !wgt_busy) state_d = S_PUSH;
      S_PUSH: begin
        if (push_adv) begin
          state_d     = S_IDLE;
          insn_done_o = 1'b1;
        end
      end
      default: state_d = S_IDLE;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= S_IDLE;
      insn_q  <= '0;
      idx_q   <= '0;
    end else begin
      state_q <= state_d;
      if (state_q == S_IDLE && cmd_valid_i) begin
        insn_q <= cmd_insn_i;
        idx_q  <= cmd_idx_i;
      end
    end
  end

  assign idle_o       = (state_q == S_IDLE);
  assign blocked_o    = pop_blk || push_blk;
  assign cur_idx_o    = idx_q;
  assign error_o      = (state_q == S_START) && (bad_dep || bad_index);
  assign error_code_o = bad_dep ? vta_pkg::ERR_DEP_FLAGS : vta_pkg::ERR_INDEX;
  assign error_info_o = is_wgt ? vta_pkg::IDX_WGT : vta_pkg::IDX_INP;
  assign error_addr_o = oob_last;
endmodule
