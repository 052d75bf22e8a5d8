// The JIT command queue: instruction stream construction, dependency tokens, the micro-op kernel cache
// (DRAM arena + on-chip residency) and the run on synchronize(). See docs/runtime.md.
#include "vta/runtime/command_queue.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>

#include <fmt/format.h>

#include "vta/driver/program_trace.h"
#include "vta/isa/error.h"
#include "vta/isa/instruction_codec.h"

namespace vta::runtime {

namespace {

constexpr uint32_t kMaxSize = (1u << isa::FixedFieldWidths::kSize) - 1;      // x_size, y_size
constexpr uint32_t kMaxStride = (1u << isa::FixedFieldWidths::kStride) - 1;  // x_stride
constexpr uint32_t kMaxPad = (1u << isa::FixedFieldWidths::kPad) - 1;        // each pad
constexpr uint32_t kMaxLoopExtent = (1u << isa::FixedFieldWidths::kLoopIter) - 1;
constexpr uint64_t kMaxDramElem = (uint64_t{1} << isa::FixedFieldWidths::kDramAddress) - 1;
constexpr uint64_t kArenaChunkBytes = 64 * 1024;
constexpr uint64_t kMinInsnBufferBytes = 4096;
constexpr uint64_t kInsnBytes = isa::FixedFieldWidths::kInstructionBits / 8;

// Stage slot in pipeline order (load 0, compute 1, store 2), matching isa::Module.
constexpr size_t kLoadSlot = 0, kComputeSlot = 1, kStoreSlot = 2;

const char* stage_name(size_t slot) {
  switch (slot) {
    case kLoadSlot: return "load";
    case kComputeSlot: return "compute";
    default: return "store";
  }
}

size_t stage_slot(Stage s) {
  const int v = static_cast<int>(s);
  if (v < static_cast<int>(Stage::kLoad) || v > static_cast<int>(Stage::kStore)) {
    throw Error(fmt::format("invalid pipeline stage {} (expected 1 = load, 2 = compute, 3 = store)", v));
  }
  return static_cast<size_t>(v - 1);
}

size_t slot_of(const isa::Instruction& insn) { return static_cast<size_t>(isa::module_of(insn)); }

bool is_valid_type(isa::MemoryType t) { return static_cast<uint32_t>(t) <= static_cast<uint32_t>(isa::MemoryType::kOut); }

std::string type_name(isa::MemoryType t) {
  if (!is_valid_type(t)) return fmt::format("<invalid memory type {}>", static_cast<uint32_t>(t));
  return std::string(isa::to_string(t));
}

void store_le64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

struct WordsHash {
  size_t operator()(const std::vector<uint32_t>& words) const {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t w : words) {
      h ^= w;
      h *= 0x100000001b3ull;
    }
    return static_cast<size_t>(h ^ words.size());
  }
};

// A byte range of one device buffer touched by the pending program.
struct Touched {
  driver::DeviceBuffer buffer;
  uint64_t lo = 0, hi = 0;
};

void touch(std::map<uint64_t, Touched>& map, const driver::DeviceBuffer& buffer, uint64_t lo, uint64_t hi) {
  auto [it, inserted] = map.try_emplace(buffer.device_address, Touched{buffer, lo, hi});
  if (!inserted) {
    it->second.buffer = buffer;
    it->second.lo = std::min(it->second.lo, lo);
    it->second.hi = std::max(it->second.hi, hi);
  }
}

}  // namespace

struct CommandQueue::Impl {
  Impl(driver::Device& dev, CommandQueueOptions opts)
      : device(dev), options(std::move(opts)), config(dev.config()), codec(config) {}

  driver::Device& device;
  CommandQueueOptions options;
  isa::HwConfig config;
  isa::InstructionCodec codec;

  // ---- the pending program ----
  std::vector<isa::Instruction> insns;
  std::array<std::optional<size_t>, 3> last_insn;  // index in insns of each stage's last instruction
  std::array<isa::DepFlags, 3> pending_pop;        // pops waiting for the stage's next instruction
  std::map<uint64_t, Touched> load_sources, store_targets;

  // ---- kernel cache: micro-op content -> location in the DRAM arena ----
  struct ArenaChunk {
    driver::DeviceBuffer buffer;
    uint64_t used = 0;  // bytes
  };
  struct KernelEntry {
    uint64_t dram_elem = 0;  // device address / 4 (micro-op elements)
    uint32_t count = 0;
  };
  std::vector<ArenaChunk> arena;
  std::vector<KernelEntry> entries;
  std::unordered_map<std::vector<uint32_t>, size_t, WordsHash> cache;
  uint64_t hits = 0, misses = 0;

  // ---- on-chip micro-op buffer residency (ring allocator, FIFO eviction) ----
  struct Span {
    uint32_t length = 0;
    size_t entry = 0;
  };
  std::map<uint32_t, Span> resident_spans;         // start -> span
  std::unordered_map<size_t, uint32_t> resident_at;  // entry -> start
  uint32_t uop_next = 0;

  // ---- instruction buffer and tracing ----
  driver::DeviceBuffer insn_buffer;
  uint32_t run_index = 0;

  // ---------------------------------------------------------------------------------------------
  void emit(isa::Instruction insn) {
    const size_t slot = slot_of(insn);
    isa::DepFlags& dep = isa::dep_flags(insn);
    dep.pop_prev = dep.pop_prev || pending_pop[slot].pop_prev;
    dep.pop_next = dep.pop_next || pending_pop[slot].pop_next;
    pending_pop[slot] = {};
    insns.push_back(std::move(insn));
    last_insn[slot] = insns.size() - 1;
  }

  // A token-only instruction on `slot`: LOAD INP (load), LOAD UOP (compute), STORE OUT (store), x_size 0.
  void emit_noop(size_t slot) {
    isa::MemInsn m;
    m.opcode = slot == kStoreSlot ? isa::Opcode::kStore : isa::Opcode::kLoad;
    m.memory_type = slot == kLoadSlot ? isa::MemoryType::kInp
                    : slot == kComputeSlot ? isa::MemoryType::kUop
                                           : isa::MemoryType::kOut;
    emit(m);
  }

  bool has_pending_pop(size_t slot) const { return pending_pop[slot].pop_prev || pending_pop[slot].pop_next; }

  static void check_pair(Stage from, Stage to, const char* what) {
    const size_t f = stage_slot(from), t = stage_slot(to);
    if (f == t || (f > t ? f - t : t - f) != 1) {
      throw Error(fmt::format("{}({} -> {}): dependency tokens only flow between adjacent stages "
                              "(load<->compute, compute<->store)",
                              what, stage_name(f), stage_name(t)));
    }
  }

  void dep_push(Stage from, Stage to) {
    check_pair(from, to, "dep_push");
    const size_t f = stage_slot(from), t = stage_slot(to);
    // A pop still waiting for this stage must happen before the push: commit it on a no-op first.
    if (has_pending_pop(f)) emit_noop(f);
    auto flag = [&](isa::Instruction& insn) -> bool& {
      isa::DepFlags& d = isa::dep_flags(insn);
      return t > f ? d.push_next : d.push_prev;
    };
    if (!last_insn[f] || flag(insns[*last_insn[f]])) emit_noop(f);
    flag(insns[*last_insn[f]]) = true;
  }

  void dep_pop(Stage from, Stage to) {
    check_pair(from, to, "dep_pop");
    const size_t f = stage_slot(from), t = stage_slot(to);
    bool& pending = f < t ? pending_pop[t].pop_prev : pending_pop[t].pop_next;
    // Two pops of the same queue before an instruction: the first goes on a no-op of its own.
    if (pending) emit_noop(t);
    pending = true;
  }

  // ---------------------------------------------------------------------------------------------
  void check_dram(const driver::DeviceBuffer& buffer, isa::MemoryType type, uint64_t elem_offset, uint32_t x_size,
                  uint32_t y_size, uint32_t x_stride, uint64_t* dram_elem, uint64_t* lo, uint64_t* hi) const {
    const uint32_t elem_bytes = config.buffer(type).element_bytes;
    if (!buffer) throw Error(fmt::format("{}: null device buffer", type_name(type)));
    if (buffer.device_address % elem_bytes != 0) {
      throw Error(fmt::format("{}: buffer device address {:#x} is not aligned to the {}-byte {} element "
                              "(allocate with alignment >= {})",
                              type_name(type), buffer.device_address, elem_bytes, type_name(type), elem_bytes));
    }
    const uint64_t base = buffer.device_address / elem_bytes + elem_offset;
    const uint64_t last_row = uint64_t{y_size - 1} * x_stride;
    const uint64_t end_elem = elem_offset + last_row + x_size;  // exclusive, relative to the buffer
    if (end_elem * elem_bytes > buffer.size) {
      throw Error(fmt::format("{}: DRAM access [{}, {}) elements of {} bytes runs past the end of the "
                              "{}-byte buffer at {:#x}",
                              type_name(type), elem_offset, end_elem, elem_bytes, buffer.size, buffer.device_address));
    }
    if (base + last_row + x_size - 1 > kMaxDramElem) {
      throw Error(fmt::format("{}: DRAM element address {:#x} does not fit the 32-bit dram_base field",
                              type_name(type), base + last_row + x_size - 1));
    }
    *dram_elem = base;
    *lo = elem_offset * elem_bytes;
    *hi = end_elem * elem_bytes;
  }

  static void check_sizes(const char* what, uint32_t x_size, uint32_t y_size, uint32_t x_stride) {
    if (x_size == 0 || y_size == 0) {
      throw Error(fmt::format("{}: empty transfer (x_size {}, y_size {}); sizes must be >= 1", what, x_size, y_size));
    }
    if (x_size > kMaxSize || y_size > kMaxSize) {
      throw Error(fmt::format("{}: x_size {} / y_size {} exceed the 16-bit field (max {})", what, x_size, y_size,
                              kMaxSize));
    }
    if (x_stride > kMaxStride) {
      throw Error(fmt::format("{}: x_stride {} exceeds the 16-bit field (max {})", what, x_stride, kMaxStride));
    }
    if (y_size > 1 && x_stride < x_size) {
      throw Error(fmt::format("{}: x_stride {} is smaller than x_size {}", what, x_stride, x_size));
    }
  }

  void load_2d(const driver::DeviceBuffer& buffer, uint64_t elem_offset, uint32_t x_size, uint32_t y_size,
               uint32_t x_stride, uint32_t x_pad_before, uint32_t y_pad_before, uint32_t x_pad_after,
               uint32_t y_pad_after, uint32_t sram_index, isa::MemoryType type) {
    if (!is_valid_type(type) || type == isa::MemoryType::kOut) {
      throw Error(fmt::format("load_2d: cannot LOAD memory type {} (expected uop, wgt, inp or acc)",
                              type_name(type)));
    }
    const std::string what = fmt::format("load_2d({})", type_name(type));
    check_sizes(what.c_str(), x_size, y_size, x_stride);
    if (x_pad_before > kMaxPad || y_pad_before > kMaxPad || x_pad_after > kMaxPad || y_pad_after > kMaxPad) {
      throw Error(fmt::format("{}: pads (x {}+{}, y {}+{}) must each be <= {} (4-bit fields)", what, x_pad_before,
                              x_pad_after, y_pad_before, y_pad_after, kMaxPad));
    }
    const isa::BufferGeometry& g = config.buffer(type);
    const uint64_t tile = uint64_t{y_pad_before + y_size + y_pad_after} * (x_pad_before + x_size + x_pad_after);
    if (sram_index >= g.depth || sram_index + tile > g.depth) {
      throw Error(fmt::format("{}: on-chip range [{}, {}) exceeds the {} buffer depth {}", what, sram_index,
                              sram_index + tile, type_name(type), g.depth));
    }
    uint64_t dram_elem = 0, lo = 0, hi = 0;
    check_dram(buffer, type, elem_offset, x_size, y_size, x_stride, &dram_elem, &lo, &hi);
    touch(load_sources, buffer, lo, hi);
    if (type == isa::MemoryType::kUop) evict_uops(sram_index, static_cast<uint32_t>(tile));

    isa::MemInsn m;
    m.opcode = isa::Opcode::kLoad;
    m.memory_type = type;
    m.sram_base = sram_index;
    m.dram_base = static_cast<uint32_t>(dram_elem);
    m.x_size = x_size;
    m.y_size = y_size;
    m.x_stride = x_stride;
    m.x_pad_0 = x_pad_before;
    m.x_pad_1 = x_pad_after;
    m.y_pad_0 = y_pad_before;
    m.y_pad_1 = y_pad_after;
    emit(m);
  }

  void store_2d(uint32_t sram_index, isa::MemoryType type, const driver::DeviceBuffer& buffer, uint64_t elem_offset,
                uint32_t x_size, uint32_t y_size, uint32_t x_stride) {
    if (type != isa::MemoryType::kOut) {
      throw Error(fmt::format("store_2d: cannot STORE memory type {} (only out)", type_name(type)));
    }
    check_sizes("store_2d(out)", x_size, y_size, x_stride);
    const isa::BufferGeometry& g = config.out();
    const uint64_t count = uint64_t{x_size} * y_size;
    if (sram_index >= g.depth || sram_index + count > g.depth) {
      throw Error(fmt::format("store_2d(out): on-chip range [{}, {}) exceeds the out buffer depth {}", sram_index,
                              sram_index + count, g.depth));
    }
    uint64_t dram_elem = 0, lo = 0, hi = 0;
    check_dram(buffer, type, elem_offset, x_size, y_size, x_stride, &dram_elem, &lo, &hi);
    touch(store_targets, buffer, lo, hi);

    isa::MemInsn m;
    m.opcode = isa::Opcode::kStore;
    m.memory_type = type;
    m.sram_base = sram_index;
    m.dram_base = static_cast<uint32_t>(dram_elem);
    m.x_size = x_size;
    m.y_size = y_size;
    m.x_stride = x_stride;
    emit(m);
  }

  // ---------------------------------------------------------------------------------------------
  void validate_kernel(const UopKernel& k) const {
    const bool gemm = k.mode == KernelMode::kGemm;
    const char* what = gemm ? "push_gemm" : "push_alu";
    if (k.uops.empty()) throw Error(fmt::format("{}: empty kernel", what));
    if (k.uops.size() > config.uop().depth) {
      throw Error(fmt::format("{}: kernel has {} micro-ops, more than the micro-op buffer depth {}", what,
                              k.uops.size(), config.uop().depth));
    }
    if (k.loops.size() > 2) throw Error(fmt::format("{}: kernel has {} loops (at most 2)", what, k.loops.size()));
    if (!gemm && static_cast<uint32_t>(k.alu_opcode) >= isa::kAluOpcodeCount) {
      throw Error(fmt::format("push_alu: unknown ALU opcode {}", static_cast<uint32_t>(k.alu_opcode)));
    }
    if (!gemm && k.use_imm && (k.imm < -32768 || k.imm > 32767)) {
      throw Error(fmt::format("push_alu: immediate {} does not fit in signed 16 bits", k.imm));
    }
    const uint32_t acc_depth = config.acc().depth;
    const uint32_t src_depth = gemm ? config.inp().depth : acc_depth;
    const uint32_t wgt_depth = config.wgt().depth;
    const char* src_name = gemm ? "inp" : "acc";
    uint64_t dst_reach = 0, src_reach = 0, wgt_reach = 0;
    for (const UopLoop& l : k.loops) {
      if (l.extent == 0 || l.extent > kMaxLoopExtent) {
        throw Error(fmt::format("{}: loop extent {} out of range [1, {}]", what, l.extent, kMaxLoopExtent));
      }
      if (l.dst_factor >= acc_depth || l.src_factor >= src_depth || (gemm && l.wgt_factor >= wgt_depth)) {
        throw Error(fmt::format("{}: loop factors (dst {}, src {}, wgt {}) must be below the buffer depths "
                                "(acc {}, {} {}, wgt {})",
                                what, l.dst_factor, l.src_factor, l.wgt_factor, acc_depth, src_name, src_depth,
                                wgt_depth));
      }
      dst_reach += uint64_t{l.extent - 1} * l.dst_factor;
      src_reach += uint64_t{l.extent - 1} * l.src_factor;
      wgt_reach += uint64_t{l.extent - 1} * l.wgt_factor;
    }
    for (size_t i = 0; i < k.uops.size(); ++i) {
      const isa::MicroOp& u = k.uops[i];
      if (u.dst_idx + dst_reach >= acc_depth) {
        throw Error(fmt::format("{}: micro-op {} reaches acc index {} (dst {} + loops), beyond depth {}", what, i,
                                u.dst_idx + dst_reach, u.dst_idx, acc_depth));
      }
      if (k.reset || (!gemm && k.use_imm)) {
        // src/wgt are unused by a reset or an immediate ALU op; they only need to fit their fields.
        if (u.src_idx >= (1ull << config.uop_src_bits()) || u.wgt_idx >= (1ull << config.uop_wgt_bits())) {
          throw Error(fmt::format("{}: micro-op {} src/wgt index does not fit its field", what, i));
        }
        continue;
      }
      if (u.src_idx + src_reach >= src_depth) {
        throw Error(fmt::format("{}: micro-op {} reaches {} index {} (src {} + loops), beyond depth {}", what, i,
                                src_name, u.src_idx + src_reach, u.src_idx, src_depth));
      }
      if (gemm && u.wgt_idx + wgt_reach >= wgt_depth) {
        throw Error(fmt::format("{}: micro-op {} reaches wgt index {} (wgt {} + loops), beyond depth {}", what, i,
                                u.wgt_idx + wgt_reach, u.wgt_idx, wgt_depth));
      }
      if (!gemm && u.wgt_idx >= (1ull << config.uop_wgt_bits())) {
        throw Error(fmt::format("{}: micro-op {} wgt index {} does not fit its field", what, i, u.wgt_idx));
      }
    }
  }

  // Returns the kernel-cache entry for the micro-ops, uploading them to the DRAM arena on a miss.
  size_t lookup_or_upload(const std::vector<isa::MicroOp>& uops) {
    std::vector<uint32_t> words;
    words.reserve(uops.size());
    for (const isa::MicroOp& u : uops) words.push_back(codec.encode_uop(u));
    if (auto it = cache.find(words); it != cache.end()) {
      ++hits;
      return it->second;
    }
    ++misses;
    const uint64_t bytes = uint64_t{words.size()} * 4;
    if (arena.empty() || arena.back().buffer.size - arena.back().used < bytes) {
      const uint64_t size = std::max(kArenaChunkBytes, (bytes + 63) / 64 * 64);
      arena.push_back(ArenaChunk{device.allocate(size, 64), 0});
    }
    ArenaChunk& chunk = arena.back();
    uint8_t* dst = chunk.buffer.host + chunk.used;
    for (size_t i = 0; i < words.size(); ++i) store_le32(dst + 4 * i, words[i]);
    device.flush(chunk.buffer, chunk.used, bytes);
    KernelEntry e;
    e.dram_elem = (chunk.buffer.device_address + chunk.used) / 4;
    e.count = static_cast<uint32_t>(words.size());
    if (e.dram_elem + e.count - 1 > kMaxDramElem) {
      throw Error("kernel arena: micro-op DRAM address does not fit the 32-bit dram_base field");
    }
    chunk.used += bytes;
    entries.push_back(e);
    const size_t id = entries.size() - 1;
    cache.emplace(std::move(words), id);
    return id;
  }

  // Drops residency of every kernel overlapping [start, start + length) of the micro-op buffer.
  void evict_uops(uint32_t start, uint32_t length) {
    const uint64_t end = uint64_t{start} + length;
    for (auto it = resident_spans.begin(); it != resident_spans.end();) {
      const uint64_t s = it->first, e = s + it->second.length;
      if (s < end && start < e) {
        resident_at.erase(it->second.entry);
        it = resident_spans.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Makes the kernel resident in the micro-op buffer (emitting a LOAD UOP if needed); returns its start.
  uint32_t ensure_resident(size_t id) {
    if (auto it = resident_at.find(id); it != resident_at.end()) return it->second;
    const KernelEntry& e = entries[id];
    if (uint64_t{uop_next} + e.count > config.uop().depth) uop_next = 0;  // wrap: oldest kernels get evicted
    const uint32_t start = uop_next;
    evict_uops(start, e.count);
    isa::MemInsn m;
    m.opcode = isa::Opcode::kLoad;
    m.memory_type = isa::MemoryType::kUop;
    m.sram_base = start;
    m.dram_base = static_cast<uint32_t>(e.dram_elem);
    m.y_size = 1;
    m.x_size = e.count;
    m.x_stride = e.count;
    emit(m);
    resident_spans[start] = Span{e.count, id};
    resident_at[id] = start;
    uop_next = start + e.count;
    return start;
  }

  void push_kernel(const UopKernel& k) {
    validate_kernel(k);
    const size_t id = lookup_or_upload(k.uops);
    const uint32_t start = ensure_resident(id);

    isa::LoopNest loop;
    loop.reset = k.reset;
    loop.uop_bgn = start;
    loop.uop_end = start + static_cast<uint32_t>(k.uops.size());
    loop.iter_out = k.loops.size() > 0 ? k.loops[0].extent : 1;
    loop.iter_in = k.loops.size() > 1 ? k.loops[1].extent : 1;
    const UopLoop none{};
    const UopLoop& out = k.loops.size() > 0 ? k.loops[0] : none;
    const UopLoop& in = k.loops.size() > 1 ? k.loops[1] : none;
    loop.dst_factor_out = out.dst_factor;
    loop.dst_factor_in = in.dst_factor;
    loop.src_factor_out = out.src_factor;
    loop.src_factor_in = in.src_factor;
    if (k.mode == KernelMode::kGemm) {
      isa::GemmInsn g;
      g.loop = loop;
      g.wgt_factor_out = out.wgt_factor;
      g.wgt_factor_in = in.wgt_factor;
      emit(g);
    } else {
      isa::AluInsn a;
      a.loop = loop;
      a.alu_opcode = k.alu_opcode;
      a.use_imm = k.use_imm;
      a.imm = k.use_imm ? k.imm : 0;
      emit(a);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Ends the program: commits pending pops, makes FINISH wait for the load and store modules (VTA's
  // barrier: each active stage pushes to compute, compute pops before FINISH), appends FINISH.
  void finalize() {
    if (has_pending_pop(kLoadSlot)) emit_noop(kLoadSlot);
    if (has_pending_pop(kStoreSlot)) emit_noop(kStoreSlot);
    if (last_insn[kLoadSlot]) {
      dep_push(Stage::kLoad, Stage::kCompute);
      dep_pop(Stage::kLoad, Stage::kCompute);
    }
    if (last_insn[kStoreSlot]) {
      dep_push(Stage::kStore, Stage::kCompute);
      dep_pop(Stage::kStore, Stage::kCompute);
    }
    if (has_pending_pop(kComputeSlot)) emit_noop(kComputeSlot);
    emit(isa::FinishInsn{});
  }

  void reset_program() {
    insns.clear();
    last_insn = {};
    pending_pop = {};
    load_sources.clear();
    store_targets.clear();
    // Residency is not trusted across runs: another queue, a trace replay or a failed run may have
    // overwritten the micro-op buffer, and each recorded trace must be self-contained.
    resident_spans.clear();
    resident_at.clear();
    uop_next = 0;
  }

  void ensure_insn_capacity(uint64_t bytes) {
    if (insn_buffer && insn_buffer.size >= bytes) return;
    uint64_t size = std::max(kMinInsnBufferBytes, insn_buffer ? insn_buffer.size * 2 : 0);
    while (size < bytes) size *= 2;
    driver::DeviceBuffer fresh = device.allocate(size, 64);
    if (insn_buffer) device.free(insn_buffer);
    insn_buffer = fresh;
  }

  isa::ExecutionCounters synchronize(std::chrono::milliseconds timeout) {
    struct Guard {
      Impl* self;
      ~Guard() { self->reset_program(); }
    } guard{this};

    finalize();
    const uint64_t count = insns.size();
    ensure_insn_capacity(count * kInsnBytes);
    for (uint64_t i = 0; i < count; ++i) {
      const isa::RawInstruction raw = codec.encode(insns[i]);
      store_le64(insn_buffer.host + i * kInsnBytes, raw.lo);
      store_le64(insn_buffer.host + i * kInsnBytes + 8, raw.hi);
    }
    device.flush(insn_buffer, 0, count * kInsnBytes);
    for (const auto& [addr, t] : load_sources) device.flush(t.buffer, t.lo, t.hi - t.lo);
    for (const auto& [addr, t] : store_targets) device.flush(t.buffer, t.lo, t.hi - t.lo);

    std::optional<driver::TraceRecorder> recorder;
    if (options.trace_dir) {
      recorder.emplace(*options.trace_dir / fmt::format("run{:03d}", run_index));
      recorder->before_run(device, insn_buffer.device_address, static_cast<uint32_t>(count));
    }
    ++run_index;
    const driver::RunResult result =
        device.run(insn_buffer.device_address, static_cast<uint32_t>(count), timeout);
    if (recorder) recorder->after_run(device, result);
    if (!result.ok()) {
      const char* status = result.status == driver::RunStatus::kTimeout ? "timed out" : "failed";
      throw Error(fmt::format("VTA run on device '{}' {} ({} instructions): {}", device.name(), status, count,
                              result.message.empty() ? "(no message)" : result.message));
    }
    for (const auto& [addr, t] : store_targets) device.invalidate(t.buffer, t.lo, t.hi - t.lo);
    return result.counters;
  }
};

CommandQueue::CommandQueue(driver::Device& device, CommandQueueOptions options)
    : device_(device), impl_(std::make_unique<Impl>(device, std::move(options))) {}

CommandQueue::~CommandQueue() {
  // Never throw from a destructor: a device that refuses to free is not worth a terminate().
  try {
    if (impl_->insn_buffer) device_.free(impl_->insn_buffer);
  } catch (...) {
  }
  for (const auto& chunk : impl_->arena) {
    try {
      device_.free(chunk.buffer);
    } catch (...) {
    }
  }
}

void CommandQueue::load_2d(const driver::DeviceBuffer& buffer, uint64_t elem_offset, uint32_t x_size,
                           uint32_t y_size, uint32_t x_stride, uint32_t x_pad_before, uint32_t y_pad_before,
                           uint32_t x_pad_after, uint32_t y_pad_after, uint32_t sram_index, isa::MemoryType type) {
  impl_->load_2d(buffer, elem_offset, x_size, y_size, x_stride, x_pad_before, y_pad_before, x_pad_after, y_pad_after,
                 sram_index, type);
}

void CommandQueue::store_2d(uint32_t sram_index, isa::MemoryType type, const driver::DeviceBuffer& buffer,
                            uint64_t elem_offset, uint32_t x_size, uint32_t y_size, uint32_t x_stride) {
  impl_->store_2d(sram_index, type, buffer, elem_offset, x_size, y_size, x_stride);
}

void CommandQueue::push_gemm(const UopKernel& kernel) {
  if (kernel.mode != KernelMode::kGemm) throw Error("push_gemm: the kernel was built for the ALU");
  impl_->push_kernel(kernel);
}

void CommandQueue::push_alu(const UopKernel& kernel) {
  if (kernel.mode != KernelMode::kAlu) throw Error("push_alu: the kernel was built for GEMM");
  impl_->push_kernel(kernel);
}

void CommandQueue::dep_push(Stage from, Stage to) { impl_->dep_push(from, to); }
void CommandQueue::dep_pop(Stage from, Stage to) { impl_->dep_pop(from, to); }

isa::ExecutionCounters CommandQueue::synchronize() { return impl_->synchronize(impl_->options.timeout); }
isa::ExecutionCounters CommandQueue::synchronize(std::chrono::milliseconds timeout) {
  return impl_->synchronize(timeout);
}

const std::vector<isa::Instruction>& CommandQueue::pending() const { return impl_->insns; }
uint64_t CommandQueue::kernel_cache_hits() const { return impl_->hits; }
uint64_t CommandQueue::kernel_cache_misses() const { return impl_->misses; }

}  // namespace vta::runtime
