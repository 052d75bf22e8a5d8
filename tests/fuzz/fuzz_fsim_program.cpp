// Harness fsim_program: random programs on the functional simulator in strict mode (leftover tokens are
// an error). Input: u8 config (index into config/*.json), u8 flags, u16 instruction count, u32 data
// address, the instructions (16 bytes each), then the data bytes (mapped at the data address, rounded
// down to 64). The program is bounded: at most 1024 instructions, 256 KiB of data, and fsim's work limit
// (Options::work_limit) set to 2^22 lane operations, so a GEMM/ALU asking for up to 2^43 micro-ops must end
// in a TimeoutError before it starts, on both kernels alike.
// Every run must end with counters or a vta::Error (deadlocks are ProgramErrors). Flag bit 0 also runs
// the reference kernel on a copy of memory and requires the same outcome, memory and counters; flag bit 1
// allows leftover tokens (as Apache VTA's untuned programs need), for deeper differential runs.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "fuzz_common.h"
#include "vta/fsim/functional_simulator.h"
#include "vta/isa/instruction_codec.h"
#include "vta/sim/device_memory.h"

namespace vta::fuzz {
namespace {

constexpr uint32_t kMaxInstructions = 1024;
constexpr size_t kMaxDataBytes = 256 * 1024;
constexpr uint64_t kInsnAddress = uint64_t{1} << 40;  // above every data address (dram_base is 32-bit)
constexpr uint64_t kWorkLimit = uint64_t{1} << 22;

struct Outcome {
  bool ok = false;
  std::string error;
  isa::ExecutionCounters counters;
};

Outcome run(const isa::HwConfig& config, sim::DeviceMemory& memory, fsim::Kernel kernel, uint32_t count,
            bool strict) {
  fsim::Options options;
  options.kernel = kernel;
  options.allow_leftover_tokens = !strict;
  options.work_limit = kWorkLimit;
  fsim::FunctionalSimulator sim(config, memory, options);
  Outcome out;
  out.ok = accepts([&] { sim.run(kInsnAddress, count); });
  out.counters = sim.counters();
  return out;
}

}  // namespace

void fsim_program(Bytes data) {
  ByteReader in(data);
  const auto& configs = shipped_configs();
  const isa::HwConfig& config = configs[in.u8() % configs.size()];
  const uint8_t flags = in.u8();
  const uint32_t wanted = in.u16();
  const uint64_t data_address = in.u32() & ~uint64_t{63};
  const auto count = static_cast<uint32_t>(std::min({uint64_t{wanted}, uint64_t{kMaxInstructions}, uint64_t{in.remaining() / 16}}));
  const Bytes insn_bytes = in.take(uint64_t{count} * 16);
  std::vector<uint8_t> program(insn_bytes.begin(), insn_bytes.end());
  const Bytes data_bytes = in.take(kMaxDataBytes);

  const auto setup = [&](sim::DeviceMemory& memory) {
    if (count > 0) {
      memory.map(kInsnAddress, program.size());
      memory.write(kInsnAddress, program.data(), program.size());
    }
    if (!data_bytes.empty()) {
      memory.map(data_address, data_bytes.size());
      memory.write(data_address, data_bytes.data(), data_bytes.size());
    }
  };
  sim::DeviceMemory fast_memory;
  setup(fast_memory);
  const Outcome fast = run(config, fast_memory, fsim::Kernel::kFast, count, !(flags & 2));
  if (!(flags & 1)) return;

  sim::DeviceMemory ref_memory;
  setup(ref_memory);
  const Outcome ref = run(config, ref_memory, fsim::Kernel::kReference, count, !(flags & 2));
  VTA_FUZZ_CHECK(fast.ok == ref.ok, fmt::format("fast kernel {} but reference kernel {}", fast.ok ? "ran" : "failed",
                                                ref.ok ? "ran" : "failed"));
  if (!fast.ok) return;
  VTA_FUZZ_CHECK(fast.counters == ref.counters, "fast and reference counters differ");
  if (!data_bytes.empty()) {
    VTA_FUZZ_CHECK(std::memcmp(fast_memory.at(data_address, data_bytes.size()),
                               ref_memory.at(data_address, data_bytes.size()), data_bytes.size()) == 0,
                   "fast and reference kernels left different memory");
  }
}

}  // namespace vta::fuzz
