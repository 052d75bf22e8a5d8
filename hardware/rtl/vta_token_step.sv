// One step of the dependency-token handshake, the rule every module follows for every token queue it
// pops or pushes: while the module is at this step (active_i), a token the instruction does not ask for
// (!want_i) is skipped at once; one it asks for is taken (pop) or given (push) in the cycle its queue is
// ready, and until then the module is blocked. Load and store have one step per phase, compute two (prev,
// then next), so an instruction's handshakes cost the same cycles in every module.
module vta_token_step (
  input  logic active_i,   // the module's FSM is at this step
  input  logic want_i,     // the instruction's pop/push flag for this queue
  input  logic ready_i,    // pop: a token is there; push: the queue has room
  output logic fire_o,     // the pop/push strobe to the queue
  output logic advance_o,  // the step is over this cycle
  output logic blocked_o   // waiting on the queue (counted as token stall)
);
  assign fire_o    = active_i && want_i && ready_i;
  assign advance_o = active_i && (!want_i || ready_i);
  assign blocked_o = active_i && want_i && !ready_i;
endmodule
