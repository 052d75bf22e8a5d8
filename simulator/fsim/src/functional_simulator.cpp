// fsim front end: instruction fetch and decode, routing to the three modules, dependency-token queues
// (optionally with the core's token and command queue depths), deadlock and leftover-token detection,
// counters. Shared by both kernels; the arithmetic lives in reference_kernel.cpp and fast_kernel.cpp.
#include "vta/fsim/functional_simulator.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "kernel.h"
#include "vta/isa/disassembler.h"
#include "vta/isa/error.h"
#include "vta/isa/instruction_codec.h"

namespace vta::fsim {
namespace {

using isa::AluInsn;
using isa::FinishInsn;
using isa::GemmInsn;
using isa::MemInsn;
using isa::MemoryType;
using isa::Module;
using isa::Opcode;

constexpr uint64_t kInsnBytes = 16;

// The four dependency-token queues, named by direction.
enum TokenQueue : uint8_t { kLoadToCompute = 0, kComputeToLoad = 1, kComputeToStore = 2, kStoreToCompute = 3 };
constexpr std::array<const char*, 4> kQueueNames = {"load->compute", "compute->load", "compute->store",
                                                     "store->compute"};
constexpr uint8_t kNoQueue = 0xff;

// Which queue each flag of an instruction of a given module pops or pushes (kNoQueue: flag not allowed).
struct ModuleQueues {
  uint8_t pop_prev, pop_next, push_prev, push_next;
};
constexpr std::array<ModuleQueues, 3> kModuleQueues = {{
    // load: pop_next from compute, push_next to compute
    {kNoQueue, kComputeToLoad, kNoQueue, kLoadToCompute},
    // compute: pop_prev from load, pop_next from store, push_prev to load, push_next to store
    {kLoadToCompute, kStoreToCompute, kComputeToLoad, kComputeToStore},
    // store: pop_prev from compute, push_prev to compute
    {kComputeToStore, kNoQueue, kStoreToCompute, kNoQueue},
}};

// Token traffic of one instruction in the order the RTL performs it (hardware/rtl/vta_compute.sv): pop
// prev, pop next, execute, push prev, push next. kNoQueue for a flag that is not set.
struct TokenUse {
  std::array<uint8_t, 2> pops{kNoQueue, kNoQueue};
  std::array<uint8_t, 2> pushes{kNoQueue, kNoQueue};
};
// A module's progress through its current instruction: steps 0-1 pop, 2 executes, 3-4 push.
constexpr uint8_t kExecuteStep = 2;
constexpr uint8_t kSteps = 5;

void check_widths(const isa::HwConfig& config) {
  const auto ok = [](uint32_t w) { return w == 8 || w == 16 || w == 32; };
  if (!ok(config.inp_width()))
    throw ConfigError("LOG_INP_WIDTH", "fsim supports 8, 16 or 32-bit inputs, got " + std::to_string(config.inp_width()));
  if (!ok(config.wgt_width()))
    throw ConfigError("LOG_WGT_WIDTH", "fsim supports 8, 16 or 32-bit weights, got " + std::to_string(config.wgt_width()));
  if (!ok(config.acc_width()))
    throw ConfigError("LOG_ACC_WIDTH",
                      "fsim supports 8, 16 or 32-bit accumulators, got " + std::to_string(config.acc_width()));
}

}  // namespace

struct FunctionalSimulator::Impl {
  Impl(const isa::HwConfig& cfg, sim::DeviceMemory& mem, Options opts)
      : config(cfg), memory(mem), options(opts), codec(cfg) {
    check_widths(config);
    kernel = options.kernel == Kernel::kReference ? detail::make_reference_kernel(config, memory)
                                                  : detail::make_fast_kernel(config, memory, options.simd);
  }

  isa::HwConfig config;
  sim::DeviceMemory& memory;
  Options options;
  isa::InstructionCodec codec;
  std::unique_ptr<detail::ExecKernel> kernel;
  isa::ExecutionCounters counters;
  std::vector<std::string> warnings;

  // Budgets of the current run (see Options::work_limit and run()).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  uint64_t work_done = 0;        // lane operations of the GEMM/ALU instructions run so far
  uint64_t work_at_check = 0;    // work_done when the clock was last read
  uint64_t insns_at_check = 0;   // instructions executed since then

  // The decoded program of the current run and the module of each instruction.
  std::vector<isa::Instruction> program;
  std::vector<Module> modules;
  // The bytes `program` was decoded from, once it passed check_structure(): a run of the same bytes
  // (the runtime runs one Program per inference) skips decoding, which costs more than a small layer's
  // arithmetic.
  std::vector<uint8_t> decoded_bytes;

  void fetch(uint64_t insn_address, uint32_t insn_count);
  void check_structure() const;
  void execute(uint64_t index);
  void charge(uint64_t index, const isa::LoopNest& loop, uint64_t lanes_per_uop);
  void check_deadline(uint64_t index);
  void run_serial();
  void run_concurrent();
  [[noreturn]] void deadlock(const std::array<std::vector<uint32_t>, 3>& queue, const std::vector<TokenUse>& use,
                             const std::array<size_t, 3>& next, const std::array<uint8_t, 3>& step,
                             const std::array<size_t, 3>& dispatched, size_t dispatch_next) const;
  std::string describe(uint64_t index) const;
};

void FunctionalSimulator::Impl::fetch(uint64_t insn_address, uint32_t insn_count) {
  const uint64_t bytes = uint64_t{insn_count} * kInsnBytes;
  const uint8_t* data = nullptr;
  try {
    data = memory.at(insn_address, bytes);
  } catch (const MemoryError& e) {
    throw MemoryError(std::string("instruction stream of ") + std::to_string(insn_count) +
                      " instructions: " + e.what());
  }
  if (bytes > 0 && decoded_bytes.size() == bytes && std::memcmp(decoded_bytes.data(), data, bytes) == 0) return;
  decoded_bytes.clear();
  program.clear();
  modules.clear();
  program.reserve(insn_count);
  modules.reserve(insn_count);
  for (uint32_t i = 0; i < insn_count; ++i) {
    const uint8_t* p = data + uint64_t{i} * kInsnBytes;
    isa::RawInstruction raw;
    for (int b = 7; b >= 0; --b) raw.lo = (raw.lo << 8) | p[b];
    for (int b = 15; b >= 8; --b) raw.hi = (raw.hi << 8) | p[b];
    try {
      program.push_back(codec.decode(raw));
    } catch (const ProgramError& e) {
      char hex[40];
      std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(raw.hi),
                    static_cast<unsigned long long>(raw.lo));
      throw ProgramError(std::string("cannot decode 0x") + hex + ": " + e.what(), i);
    }
    modules.push_back(isa::module_of(program.back()));
  }
}

// FINISH must exist and be the last instruction.
void FunctionalSimulator::Impl::check_structure() const {
  if (program.empty()) throw ProgramError("empty instruction stream: a program must end with FINISH");
  for (size_t i = 0; i + 1 < program.size(); ++i) {
    if (std::holds_alternative<FinishInsn>(program[i]))
      throw ProgramError("FINISH before the end of the stream (" + std::to_string(program.size()) +
                             " instructions); FINISH must be the last instruction",
                         i);
  }
  if (!std::holds_alternative<FinishInsn>(program.back()))
    throw ProgramError("the stream does not end with FINISH (last instruction: " + describe(program.size() - 1) + ")",
                       program.size() - 1);
}

std::string FunctionalSimulator::Impl::describe(uint64_t index) const {
  return isa::disassemble(program[index]);
}

// Charges a GEMM/ALU's lane operations to the run's work budget before it starts, so one instruction
// asking for hours of work is refused instead of run.
void FunctionalSimulator::Impl::charge(uint64_t index, const isa::LoopNest& loop, uint64_t lanes_per_uop) {
  const uint64_t uops = loop.uop_end > loop.uop_bgn
                            ? uint64_t{loop.iter_out} * loop.iter_in * (loop.uop_end - loop.uop_bgn)
                            : 0;  // the kernel reports a reversed range
  const uint64_t work = uops * lanes_per_uop;  // < 2^43 * 2^21: no overflow for any config
  if (options.work_limit != 0 && work > options.work_limit - std::min(work_done, options.work_limit))
    throw TimeoutError("instruction " + std::to_string(index) + " (" + describe(index) + ", " +
                       std::to_string(uops) + " micro-ops) would take the run to " +
                       std::to_string(work_done + work) + " lane operations, past fsim's work limit of " +
                       std::to_string(options.work_limit) +
                       " per run (VTA_FSIM_WORK_LIMIT raises it; 0 = unlimited)");
  work_done += work;
}

// Reads the clock every 256 instructions or 2^24 lane operations (a few milliseconds), not per instruction.
void FunctionalSimulator::Impl::check_deadline(uint64_t index) {
  if (deadline == std::chrono::steady_clock::time_point::max()) return;
  if (++insns_at_check < 256 && work_done - work_at_check < (uint64_t{1} << 24)) return;
  insns_at_check = 0;
  work_at_check = work_done;
  if (std::chrono::steady_clock::now() > deadline)
    throw TimeoutError("run stopped at the timeout, before instruction " + std::to_string(index) + " (" +
                       describe(index) + ")");
}

// Executes one instruction on the kernel and counts it. Counters only change once it completed.
void FunctionalSimulator::Impl::execute(uint64_t index) {
  check_deadline(index);
  const isa::Instruction& insn = program[index];
  if (const auto* m = std::get_if<MemInsn>(&insn)) {
    const uint64_t elements = uint64_t{m->x_size} * m->y_size;
    if (m->opcode == Opcode::kLoad) {
      if (m->x_size != 0) {
        if (m->memory_type == MemoryType::kOut)
          throw ProgramError("LOAD of memory type OUT (OUT is written only by STORE from the ACC buffer)", index);
        kernel->load(*m, index);
        const uint64_t nbytes = elements * config.buffer(m->memory_type).element_bytes;
        switch (m->memory_type) {
          case MemoryType::kInp: counters.inp_load_nbytes += nbytes; break;
          case MemoryType::kWgt: counters.wgt_load_nbytes += nbytes; break;
          case MemoryType::kAcc: counters.acc_load_nbytes += nbytes; break;
          case MemoryType::kUop: counters.uop_load_nbytes += nbytes; break;
          case MemoryType::kOut: break;
        }
      }
    } else {
      if (m->x_size != 0) {
        if (m->memory_type != MemoryType::kOut)
          throw ProgramError(std::string("STORE of memory type ") + std::string(isa::to_string(m->memory_type)) +
                                 " (only OUT can be stored)",
                             index);
        kernel->store(*m, index);
        counters.out_store_nbytes += elements * config.out().element_bytes;
      }
    }
  } else if (const auto* g = std::get_if<GemmInsn>(&insn)) {
    charge(index, g->loop, uint64_t{config.batch()} * config.block_in() * config.block_out());
    kernel->gemm(*g, index);
    if (!g->loop.reset)
      counters.gemm_counter += uint64_t{g->loop.iter_out} * g->loop.iter_in * (g->loop.uop_end - g->loop.uop_bgn);
  } else if (const auto* a = std::get_if<AluInsn>(&insn)) {
    charge(index, a->loop, uint64_t{config.batch()} * config.block_out());
    kernel->alu(*a, index);
    // Like Apache VTA's simulator, every ALU instruction counts (reset or not).
    counters.alu_counter += uint64_t{a->loop.iter_out} * a->loop.iter_in * (a->loop.uop_end - a->loop.uop_bgn);
  }
  switch (modules[index]) {
    case Module::kLoad: ++counters.load_insn_count; break;
    case Module::kCompute: ++counters.compute_insn_count; break;
    case Module::kStore: ++counters.store_insn_count; break;
  }
}

void FunctionalSimulator::Impl::run_serial() {
  for (uint64_t i = 0; i < program.size(); ++i) execute(i);
}

void FunctionalSimulator::Impl::run_concurrent() {
  const size_t n = program.size();
  // Token use per instruction; flags a module cannot have are rejected before anything runs.
  std::vector<TokenUse> use(n);
  std::array<std::vector<uint32_t>, 3> queue;  // instruction indices per module, in program order
  for (size_t i = 0; i < n; ++i) {
    const auto module = static_cast<size_t>(modules[i]);
    const ModuleQueues& q = kModuleQueues[module];
    const isa::DepFlags& dep = isa::dep_flags(program[i]);
    const auto flag = [&](bool set, uint8_t target, const char* name, uint8_t& slot) {
      if (!set) return;
      if (target == kNoQueue)
        throw ProgramError(std::string(name) + " is set on a " + std::string(isa::to_string(modules[i])) +
                               "-module instruction, which has no such queue (" + describe(i) + ")",
                           i);
      slot = target;
    };
    flag(dep.pop_prev, q.pop_prev, "pop_prev", use[i].pops[0]);
    flag(dep.pop_next, q.pop_next, "pop_next", use[i].pops[1]);
    flag(dep.push_prev, q.push_prev, "push_prev", use[i].pushes[0]);
    flag(dep.push_next, q.push_next, "push_next", use[i].pushes[1]);
    queue[module].push_back(static_cast<uint32_t>(i));
  }

  // Each module is a sequential process over its instructions and every queue between them is FIFO, so
  // how far each module gets does not depend on the interleaving: running each one greedily until it
  // blocks reaches the state the core reaches, deadlocks included, also with finite queues.
  const uint64_t token_depth = options.token_queue_depth;  // 0: unbounded
  const uint64_t command_depth = options.command_queue_depth;
  std::array<uint64_t, 4> tokens{};
  std::array<size_t, 3> next{};   // position in each module's queue
  std::array<uint8_t, 3> step{};  // progress through that instruction
  // Dispatch in program order into the command queues. A module holds the instruction it runs (taken
  // from its queue as soon as it is idle); the ones behind it wait in the queue, at most command_depth.
  std::array<size_t, 3> dispatched{};  // per module
  size_t dispatch_next = 0;            // program order
  const auto dispatch = [&] {
    if (command_depth == 0) {
      for (size_t m = 0; m < 3; ++m) dispatched[m] = queue[m].size();
      dispatch_next = n;
      return;
    }
    while (dispatch_next < n) {
      const auto m = static_cast<size_t>(modules[dispatch_next]);
      const size_t waiting = dispatched[m] > next[m] ? dispatched[m] - next[m] - 1 : 0;
      if (waiting >= command_depth) return;
      ++dispatched[m];
      ++dispatch_next;
    }
  };

  for (;;) {
    bool progress = false;
    bool all_done = true;
    dispatch();
    // Each module runs greedily until it blocks on a token queue (empty for a pop, full for a push) or
    // on dispatch, or runs out of instructions.
    for (size_t m = 0; m < 3; ++m) {
      while (next[m] < dispatched[m]) {
        const uint32_t i = queue[m][next[m]];
        uint8_t& st = step[m];
        if (st < kExecuteStep) {
          const uint8_t q = use[i].pops[st];
          if (q != kNoQueue) {
            if (tokens[q] == 0) break;
            --tokens[q];
          }
        } else if (st == kExecuteStep) {
          execute(i);
        } else {
          const uint8_t q = use[i].pushes[st - kExecuteStep - 1];
          if (q != kNoQueue) {
            if (token_depth != 0 && tokens[q] >= token_depth) break;
            ++tokens[q];
          }
        }
        progress = true;
        if (++st == kSteps) {
          st = 0;
          ++next[m];
          dispatch();
        }
      }
      if (next[m] < queue[m].size()) all_done = false;
    }
    if (all_done) break;
    if (!progress) deadlock(queue, use, next, step, dispatched, dispatch_next);
  }

  std::string leftover;
  for (uint8_t qi = 0; qi < 4; ++qi) {
    if (tokens[qi] == 0) continue;
    if (!leftover.empty()) leftover += ", ";
    leftover += std::to_string(tokens[qi]) + (tokens[qi] == 1 ? " token" : " tokens") + " in the " +
                kQueueNames[qi] + " queue";
  }
  if (leftover.empty()) return;
  if (!options.allow_leftover_tokens)
    throw ProgramError("dependency tokens left after the last instruction completed: " + leftover);
  warnings.push_back("dependency tokens left after the last instruction completed: " + leftover);
}

// No module can move: names each module's state, the full token queues first (the RTL waits on a full
// queue, so an overflow shows up as this deadlock), and the stalled dispatch. The error's index is the
// lowest instruction stalled on a token, as the core reports it (ERROR_INDEX).
void FunctionalSimulator::Impl::deadlock(const std::array<std::vector<uint32_t>, 3>& queue,
                                         const std::vector<TokenUse>& use, const std::array<size_t, 3>& next, const std::array<uint8_t, 3>& step,
                                         const std::array<size_t, 3>& dispatched, size_t dispatch_next) const {
  std::string overflow, modules_text;
  uint64_t first = program.size();
  for (size_t m = 0; m < 3; ++m) {
    if (!modules_text.empty()) modules_text += "; ";
    const auto module_name = std::string(isa::to_string(static_cast<Module>(m)));
    if (next[m] >= queue[m].size()) {
      modules_text += module_name + " module finished";
      continue;
    }
    const uint32_t i = queue[m][next[m]];
    if (next[m] >= dispatched[m]) {
      modules_text += module_name + " module waiting for instruction " + std::to_string(i) + " (" + describe(i) +
                      "), not yet dispatched";
      continue;
    }
    if (i < first) first = i;
    modules_text += module_name + " module stalled at instruction " + std::to_string(i) + " (" + describe(i) + ")";
    if (step[m] < kExecuteStep) {
      const uint8_t q = use[i].pops[step[m]];
      modules_text += std::string(" waiting on the empty ") + kQueueNames[q] + " queue";
    } else {
      const uint8_t q = use[i].pushes[step[m] - kExecuteStep - 1];
      modules_text += std::string(" waiting for room in the full ") + kQueueNames[q] + " queue";
      overflow += std::string("token queue ") + kQueueNames[q] + " would overflow (depth " +
                  std::to_string(options.token_queue_depth) + ") at instruction " + std::to_string(i) + "; ";
    }
  }
  std::string msg = "deadlock: " + overflow + modules_text;
  if (dispatch_next < program.size()) {
    const uint32_t d = static_cast<uint32_t>(dispatch_next);
    msg += "; dispatch stalled at instruction " + std::to_string(d) + " (" + describe(d) + "): the " +
           std::string(isa::to_string(modules[d])) + " command queue is full (depth " +
           std::to_string(options.command_queue_depth) + ")";
    if (first == program.size()) first = d;
  }
  throw ProgramError(msg, first);
}

FunctionalSimulator::FunctionalSimulator(const isa::HwConfig& config, sim::DeviceMemory& memory, Options options)
    : impl_(std::make_unique<Impl>(config, memory, options)) {}

FunctionalSimulator::~FunctionalSimulator() = default;

void FunctionalSimulator::run(uint64_t insn_address, uint32_t insn_count,
                              std::chrono::steady_clock::time_point deadline) {
  impl_->counters = isa::ExecutionCounters{};
  impl_->warnings.clear();
  impl_->deadline = deadline;
  impl_->work_done = impl_->work_at_check = 0;
  impl_->insns_at_check = 255;  // the first instruction reads the clock
  impl_->fetch(insn_address, insn_count);
  if (impl_->decoded_bytes.empty()) {
    impl_->check_structure();
    const uint8_t* data = impl_->memory.at(insn_address, uint64_t{insn_count} * kInsnBytes);
    impl_->decoded_bytes.assign(data, data + uint64_t{insn_count} * kInsnBytes);
  }
  if (impl_->options.schedule == Schedule::kSerial)
    impl_->run_serial();
  else
    impl_->run_concurrent();
}

const isa::ExecutionCounters& FunctionalSimulator::counters() const { return impl_->counters; }

const std::vector<std::string>& FunctionalSimulator::warnings() const { return impl_->warnings; }

void FunctionalSimulator::clear_buffers() { impl_->kernel->clear(); }

const isa::HwConfig& FunctionalSimulator::config() const { return impl_->config; }

const Options& FunctionalSimulator::options() const { return impl_->options; }

}  // namespace vta::fsim
