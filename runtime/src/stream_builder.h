// Internal: builds an instruction stream against numbered DRAM buffers, shared by the ProgramBuilder
// (symbolic buffers, compiled ahead of time) and the CommandQueue (device buffers, JIT). It owns the
// dependency-token rules, the checks of every operand, the micro-op kernel cache (content -> DRAM
// location, where a KernelStore decides that location) and the on-chip micro-op residency.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"
#include "vta/isa/instruction_codec.h"
#include "vta/runtime/command_queue.h"
#include "vta/runtime/program.h"
#include "vta/runtime/uop_kernel.h"

namespace vta::runtime::detail {

// Where a kernel's micro-op words live: a buffer and an element (4-byte word) offset in it.
struct KernelLocation {
  BufferId buffer = 0;
  uint64_t elem_offset = 0;
};

class StreamBuilder {
 public:
  // Called on a kernel-cache miss with the encoded words; returns where they were placed.
  using KernelStore = std::function<KernelLocation(const std::vector<uint32_t>& words)>;

  StreamBuilder(const isa::HwConfig& config, KernelStore store);

  const isa::HwConfig& config() const { return config_; }
  const isa::InstructionCodec& codec() const { return codec_; }

  // Buffers the stream may address. `device_address`, when known, is checked for alignment and for the
  // 32-bit dram_base range at emit time; a symbolic buffer instead gets its alignment raised.
  BufferId add_buffer(uint64_t bytes, uint64_t alignment, std::optional<uint64_t> device_address);
  void resize_buffer(BufferId id, uint64_t bytes, std::optional<uint64_t> device_address);
  uint64_t buffer_alignment(BufferId id) const { return buffers_.at(id).alignment; }
  size_t buffer_count() const { return buffers_.size(); }

  void load_2d(BufferId buffer, uint64_t elem_offset, uint32_t x_size, uint32_t y_size, uint32_t x_stride,
               uint32_t x_pad_before, uint32_t y_pad_before, uint32_t x_pad_after, uint32_t y_pad_after,
               uint32_t sram_index, isa::MemoryType type);
  void store_2d(uint32_t sram_index, isa::MemoryType type, BufferId buffer, uint64_t elem_offset, uint32_t x_size,
                uint32_t y_size, uint32_t x_stride);
  void push_kernel(const UopKernel& kernel);
  void dep_push(Stage from, Stage to);
  void dep_pop(Stage from, Stage to);

  // The pending instructions (without the final barrier and FINISH).
  const std::vector<isa::Instruction>& pending() const { return insns_; }

  struct Stream {
    std::vector<isa::Instruction> instructions;  // ends with FINISH
    std::vector<Relocation> relocations;
    struct Range {
      uint64_t lo = 0, hi = 0;
    };
    std::map<BufferId, Range> reads, writes;  // byte ranges per buffer
  };
  // Appends the end-of-program barrier and FINISH and hands the stream over; the builder starts a new
  // stream (the kernel cache survives, on-chip residency does not).
  Stream finish();

  uint64_t kernel_cache_hits() const { return hits_; }
  uint64_t kernel_cache_misses() const { return misses_; }

 private:
  struct BufferInfo {
    uint64_t bytes = 0;
    uint64_t alignment = 64;
    std::optional<uint64_t> device_address;
  };
  struct WordsHash {
    size_t operator()(const std::vector<uint32_t>& words) const;
  };
  struct Span {
    uint32_t length = 0;
    size_t entry = 0;
  };
  struct KernelEntry {
    KernelLocation location;
    uint32_t count = 0;
  };

  void emit(isa::Instruction insn, std::optional<BufferId> relocate = std::nullopt);
  // Symbolic buffers need a relocation; buffers with a device address are encoded absolute.
  std::optional<BufferId> relocation_for(BufferId id) const {
    return buffers_.at(id).device_address ? std::nullopt : std::optional<BufferId>(id);
  }
  void emit_noop(size_t slot);
  bool has_pending_pop(size_t slot) const;
  uint64_t check_dram(BufferId buffer, isa::MemoryType type, uint64_t elem_offset, uint32_t x_size, uint32_t y_size,
                      uint32_t x_stride, Stream::Range* range);
  void validate_kernel(const UopKernel& k) const;
  size_t lookup_or_store(const std::vector<isa::MicroOp>& uops);
  void evict_uops(uint32_t start, uint32_t length);
  uint32_t ensure_resident(size_t id);
  void finalize();
  void hoist_kernel_loads();
  void reset_stream();

  isa::HwConfig config_;
  isa::InstructionCodec codec_;
  KernelStore store_;
  std::vector<BufferInfo> buffers_;

  std::vector<isa::Instruction> insns_;
  std::vector<Relocation> relocs_;
  std::array<std::optional<size_t>, 3> last_insn_;  // index in insns_ of each stage's last instruction
  std::array<isa::DepFlags, 3> pending_pop_;        // pops waiting for the stage's next instruction
  std::map<BufferId, Stream::Range> reads_, writes_;

  std::vector<KernelEntry> entries_;
  std::unordered_map<std::vector<uint32_t>, size_t, WordsHash> cache_;
  uint64_t hits_ = 0, misses_ = 0;

  std::map<uint32_t, Span> resident_spans_;          // start -> span
  std::unordered_map<size_t, uint32_t> resident_at_;  // entry -> start
  uint32_t uop_next_ = 0;
  // The stream's kernel loads (indices in insns_), and whether they may all move to its start: no kernel
  // was evicted (every one stays where it was loaded) and the program loaded no micro-ops itself.
  std::vector<size_t> kernel_loads_;
  bool kernels_hoistable_ = true;
  bool loading_kernel_ = false;
};

// Encodes the stream with every relocated dram_base made absolute: `device_address[b]` is buffer b's
// address. Throws vta::Error when an address does not fit the 32-bit dram_base field or is misaligned.
std::vector<uint8_t> encode_relocated(const isa::HwConfig& config, const std::vector<isa::Instruction>& insns,
                                      const std::vector<Relocation>& relocations,
                                      const std::vector<uint64_t>& device_address);

}  // namespace vta::runtime::detail
