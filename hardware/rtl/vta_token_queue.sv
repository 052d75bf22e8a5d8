// A dependency-token queue. Tokens carry no data, so the queue is an occupancy counter of up to
// DEPTH - 1 tokens. A push while full waits (push_ready_o low); a pop needs a token (pop_ready_o high).
// A simultaneous push and pop leave the count unchanged. The modules only push when push_ready_o and
// only pop when pop_ready_o (assertions below): a token is never lost to overflow nor made up.
module vta_token_queue #(
  parameter int unsigned DEPTH = 256,
  localparam int unsigned CW = $clog2(DEPTH)
) (
  input  logic          clk_i,
  input  logic          rst_ni,
  input  logic          clear_i,
  input  logic          push_i,
  output logic          push_ready_o,
  input  logic          pop_i,
  output logic          pop_ready_o,
  output logic [CW-1:0] count_o
);
  logic [CW-1:0] count_q;
  logic do_push, do_pop;
  // not full / not empty as registers beside the count (the modules' token handshakes start from them)
  logic notfull_q, nonempty_q;

  assign push_ready_o = notfull_q;
  assign pop_ready_o  = nonempty_q;
  assign do_push      = push_i && push_ready_o;
  assign do_pop       = pop_i && pop_ready_o;
  assign count_o      = count_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      count_q    <= '0;
      notfull_q  <= 1'b1;
      nonempty_q <= 1'b0;
    end else if (clear_i) begin
      count_q    <= '0;
      notfull_q  <= 1'b1;
      nonempty_q <= 1'b0;
    end else begin
      unique case ({do_push, do_pop})
        2'b10: begin
          count_q    <= count_q + 1'b1;
          notfull_q  <= (count_q != {{(CW - 1){1'b1}}, 1'b0});
          nonempty_q <= 1'b1;
        end
        2'b01: begin
          count_q    <= count_q - 1'b1;
          notfull_q  <= 1'b1;
          nonempty_q <= (count_q != CW'(1));
        end
        default: count_q <= count_q;
      endcase
    end
  end

`ifndef SYNTHESIS
  /* verilator lint_off SYNCASYNCNET */
  // The core's assertions are immediate assertions in a clocked block: at the edge they read the values
  // the flops held before it, as a concurrent property samples them, but Verilator need not copy every
  // sampled signal in each evaluation (which cost 8 % of tsim's speed, docs/hardware.md).
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      TokenNoOverflow: assert (!push_i || push_ready_o)
        else $error("vta_token_queue: push on a full queue (%0d tokens)", count_q);
      TokenNoUnderflow: assert (!pop_i || pop_ready_o)
        else $error("vta_token_queue: pop on an empty queue");
    end
  end
  /* verilator lint_on SYNCASYNCNET */
`endif
endmodule
