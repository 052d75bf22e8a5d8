// Token-only programs at the edges of the core's queue depths (isa::CoreQueueDepths): each one either
// just fits the hardware's token and command queues or needs one entry more, which deadlocks the core.
// Shared by the fsim-strict tests (tests/fsim) and the fsim-strict vs tsim test (tests/hardware), so the
// queue model is checked against the RTL itself. Without queue limits every one of them runs to the end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"

namespace vta::test {

struct QueueDepthProgram {
  std::string name;
  std::vector<isa::Instruction> program;  // ends with FINISH
  // The instruction a deadlock is reported at (the lowest one stalled on a token), or none when the
  // program fits the queues.
  std::optional<uint32_t> deadlock_index;
  // Parts of fsim's deadlock message.
  std::vector<std::string> message;
};

// Token-only no-ops of each module (x_size 0): LOAD INP runs on load, LOAD UOP on compute, STORE on store.
inline isa::MemInsn token_noop(isa::Module m) {
  switch (m) {
    case isa::Module::kLoad: return isa::make_mem(isa::Opcode::kLoad, isa::MemoryType::kInp, 0, 0, 0, 0, 0);
    case isa::Module::kCompute: return isa::make_mem(isa::Opcode::kLoad, isa::MemoryType::kUop, 0, 0, 0, 0, 0);
    case isa::Module::kStore: break;
  }
  return isa::make_mem(isa::Opcode::kStore, isa::MemoryType::kOut, 0, 0, 0, 0, 0);
}

// `count` tokens in flight both ways between two neighbouring modules: the first pushes `count` tokens
// while the second pushes `count` back, then each pops the other's. Program order alternates the two
// modules, so the command queues never fill. Tokens in flight: `count` per queue.
inline std::vector<isa::Instruction> token_exchange(isa::Module first, uint32_t count) {
  const isa::Module second = first == isa::Module::kLoad ? isa::Module::kCompute : isa::Module::kStore;
  std::vector<isa::Instruction> prog;
  for (uint32_t k = 0; k < count; ++k) {
    isa::MemInsn a = token_noop(first), b = token_noop(second);
    a.dep.push_next = true;
    b.dep.push_prev = true;
    prog.push_back(a);
    prog.push_back(b);
  }
  for (uint32_t k = 0; k < count; ++k) {
    isa::MemInsn a = token_noop(first), b = token_noop(second);
    a.dep.pop_next = true;
    b.dep.pop_prev = true;
    prog.push_back(a);
    prog.push_back(b);
  }
  prog.push_back(isa::FinishInsn{});
  return prog;
}

// The load module waits on a compute->load token that the compute instruction after `queued` further
// loads pushes: dispatch (in program order) can only reach it while those loads fit the load command queue.
inline std::vector<isa::Instruction> blocked_dispatch(uint32_t queued) {
  std::vector<isa::Instruction> prog;
  isa::MemInsn wait = token_noop(isa::Module::kLoad);
  wait.dep.pop_next = true;
  prog.push_back(wait);
  for (uint32_t k = 0; k < queued; ++k) prog.push_back(token_noop(isa::Module::kLoad));
  isa::MemInsn release = token_noop(isa::Module::kCompute);
  release.dep.push_prev = true;
  prog.push_back(release);
  prog.push_back(isa::FinishInsn{});
  return prog;
}

inline std::vector<QueueDepthProgram> queue_depth_programs() {
  const uint32_t tokens = isa::CoreQueueDepths::kToken, commands = isa::CoreQueueDepths::kCommand;
  const std::string depth = "(depth " + std::to_string(tokens) + ")";
  const auto at = [](uint32_t i) { return " at instruction " + std::to_string(i); };
  std::vector<QueueDepthProgram> out;
  out.push_back({"load_compute_tokens_fit", token_exchange(isa::Module::kLoad, tokens), std::nullopt, {}});
  // The (tokens + 1)-th push of each module is the pair at 2 * tokens.
  out.push_back({"load_compute_tokens_overflow",
                 token_exchange(isa::Module::kLoad, tokens + 1),
                 2 * tokens,
                 {"token queue load->compute would overflow " + depth + at(2 * tokens),
                  "token queue compute->load would overflow " + depth + at(2 * tokens + 1),
                  "load module stalled" + at(2 * tokens)}});
  out.push_back({"compute_store_tokens_fit", token_exchange(isa::Module::kCompute, tokens), std::nullopt, {}});
  out.push_back({"compute_store_tokens_overflow",
                 token_exchange(isa::Module::kCompute, tokens + 1),
                 2 * tokens,
                 {"token queue compute->store would overflow " + depth + at(2 * tokens),
                  "token queue store->compute would overflow " + depth + at(2 * tokens + 1)}});
  out.push_back({"command_queue_fits", blocked_dispatch(commands), std::nullopt, {}});
  // Instruction 0 holds the load module; 1..commands fill its queue; commands + 1 cannot be dispatched.
  out.push_back({"command_queue_full",
                 blocked_dispatch(commands + 1),
                 0,
                 {"load module stalled at instruction 0", "waiting on the empty compute->load queue",
                  "dispatch stalled" + at(commands + 1),
                  "the load command queue is full (depth " + std::to_string(commands) + ")",
                  "compute module waiting for instruction " + std::to_string(commands + 2)}});
  return out;
}

}  // namespace vta::test
