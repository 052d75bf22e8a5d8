// The instruction-stream builder shared by ProgramBuilder and CommandQueue. See stream_builder.h and
// docs/runtime.md.
#include "stream_builder.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "vta/isa/error.h"

namespace vta::runtime::detail {

namespace {

constexpr uint32_t kMaxSize = (1u << isa::FixedFieldWidths::kSize) - 1;      // x_size, y_size
constexpr uint32_t kMaxStride = (1u << isa::FixedFieldWidths::kStride) - 1;  // x_stride
constexpr uint32_t kMaxPad = (1u << isa::FixedFieldWidths::kPad) - 1;        // each pad
constexpr uint32_t kMaxLoopExtent = (1u << isa::FixedFieldWidths::kLoopIter) - 1;
constexpr uint64_t kMaxDramElem = (uint64_t{1} << isa::FixedFieldWidths::kDramAddress) - 1;
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

bool is_valid_type(isa::MemoryType t) {
  return static_cast<uint32_t>(t) <= static_cast<uint32_t>(isa::MemoryType::kOut);
}

std::string type_name(isa::MemoryType t) {
  if (!is_valid_type(t)) return fmt::format("<invalid memory type {}>", static_cast<uint32_t>(t));
  return std::string(isa::to_string(t));
}

void store_le64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

void widen(std::map<BufferId, StreamBuilder::Stream::Range>& map, BufferId id, StreamBuilder::Stream::Range r) {
  auto [it, inserted] = map.try_emplace(id, r);
  if (!inserted) {
    it->second.lo = std::min(it->second.lo, r.lo);
    it->second.hi = std::max(it->second.hi, r.hi);
  }
}

void check_pair(Stage from, Stage to, const char* what) {
  const size_t f = stage_slot(from), t = stage_slot(to);
  if (f == t || (f > t ? f - t : t - f) != 1) {
    throw Error(fmt::format("{}({} -> {}): dependency tokens only flow between adjacent stages "
                            "(load<->compute, compute<->store)",
                            what, stage_name(f), stage_name(t)));
  }
}

void check_sizes(const char* what, uint32_t x_size, uint32_t y_size, uint32_t x_stride) {
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

}  // namespace

size_t StreamBuilder::WordsHash::operator()(const std::vector<uint32_t>& words) const {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint32_t w : words) {
    h ^= w;
    h *= 0x100000001b3ull;
  }
  return static_cast<size_t>(h ^ words.size());
}

StreamBuilder::StreamBuilder(const isa::HwConfig& config, KernelStore store)
    : config_(config), codec_(config_), store_(std::move(store)) {}

BufferId StreamBuilder::add_buffer(uint64_t bytes, uint64_t alignment, std::optional<uint64_t> device_address) {
  buffers_.push_back(BufferInfo{bytes, std::max<uint64_t>(alignment, 1), device_address});
  return static_cast<BufferId>(buffers_.size() - 1);
}

void StreamBuilder::resize_buffer(BufferId id, uint64_t bytes, std::optional<uint64_t> device_address) {
  BufferInfo& b = buffers_.at(id);
  b.bytes = bytes;
  b.device_address = device_address;
}

// ---------------------------------------------------------------------------------------------------
void StreamBuilder::emit(isa::Instruction insn, std::optional<BufferId> relocate) {
  const size_t slot = slot_of(insn);
  isa::DepFlags& dep = isa::dep_flags(insn);
  dep.pop_prev = dep.pop_prev || pending_pop_[slot].pop_prev;
  dep.pop_next = dep.pop_next || pending_pop_[slot].pop_next;
  pending_pop_[slot] = {};
  insns_.push_back(std::move(insn));
  last_insn_[slot] = insns_.size() - 1;
  if (relocate) relocs_.push_back(Relocation{static_cast<uint32_t>(insns_.size() - 1), *relocate});
}

// A token-only instruction on `slot`: LOAD INP (load), LOAD UOP (compute), STORE OUT (store), x_size 0.
void StreamBuilder::emit_noop(size_t slot) {
  isa::MemInsn m;
  m.opcode = slot == kStoreSlot ? isa::Opcode::kStore : isa::Opcode::kLoad;
  m.memory_type = slot == kLoadSlot      ? isa::MemoryType::kInp
                  : slot == kComputeSlot ? isa::MemoryType::kUop
                                         : isa::MemoryType::kOut;
  emit(m);
}

bool StreamBuilder::has_pending_pop(size_t slot) const {
  return pending_pop_[slot].pop_prev || pending_pop_[slot].pop_next;
}

void StreamBuilder::dep_push(Stage from, Stage to) {
  check_pair(from, to, "dep_push");
  const size_t f = stage_slot(from), t = stage_slot(to);
  // A pop still waiting for this stage must happen before the push: commit it on a no-op first.
  if (has_pending_pop(f)) emit_noop(f);
  auto flag = [&](isa::Instruction& insn) -> bool& {
    isa::DepFlags& d = isa::dep_flags(insn);
    return t > f ? d.push_next : d.push_prev;
  };
  if (!last_insn_[f] || flag(insns_[*last_insn_[f]])) emit_noop(f);
  flag(insns_[*last_insn_[f]]) = true;
}

void StreamBuilder::dep_pop(Stage from, Stage to) {
  check_pair(from, to, "dep_pop");
  const size_t f = stage_slot(from), t = stage_slot(to);
  bool& pending = f < t ? pending_pop_[t].pop_prev : pending_pop_[t].pop_next;
  // Two pops of the same queue before an instruction: the first goes on a no-op of its own.
  if (pending) emit_noop(t);
  pending = true;
}

// ---------------------------------------------------------------------------------------------------
// Checks a DRAM access against its buffer; returns the dram_base to encode (absolute for a buffer with a
// device address, the element offset within the buffer for a symbolic one) and the byte range touched.
uint64_t StreamBuilder::check_dram(BufferId id, isa::MemoryType type, uint64_t elem_offset, uint32_t x_size,
                                   uint32_t y_size, uint32_t x_stride, Stream::Range* range) {
  if (id >= buffers_.size()) throw Error(fmt::format("{}: unknown buffer {}", type_name(type), id));
  BufferInfo& buffer = buffers_[id];
  const uint32_t elem_bytes = config_.buffer(type).element_bytes;
  if (buffer.device_address && *buffer.device_address % elem_bytes != 0) {
    throw Error(fmt::format("{}: buffer device address {:#x} is not aligned to the {}-byte {} element "
                            "(allocate with alignment >= {})",
                            type_name(type), *buffer.device_address, elem_bytes, type_name(type), elem_bytes));
  }
  buffer.alignment = std::max<uint64_t>(buffer.alignment, elem_bytes);
  const uint64_t last_row = uint64_t{y_size - 1} * x_stride;
  const uint64_t end_elem = elem_offset + last_row + x_size;  // exclusive, relative to the buffer
  if (end_elem * elem_bytes > buffer.bytes) {
    throw Error(fmt::format("{}: DRAM access [{}, {}) elements of {} bytes runs past the end of the "
                            "{}-byte buffer{}",
                            type_name(type), elem_offset, end_elem, elem_bytes, buffer.bytes,
                            buffer.device_address ? fmt::format(" at {:#x}", *buffer.device_address) : ""));
  }
  const uint64_t base = (buffer.device_address ? *buffer.device_address / elem_bytes : 0) + elem_offset;
  if (base + last_row + x_size - 1 > kMaxDramElem) {
    throw Error(fmt::format("{}: DRAM element address {:#x} does not fit the 32-bit dram_base field",
                            type_name(type), base + last_row + x_size - 1));
  }
  range->lo = elem_offset * elem_bytes;
  range->hi = end_elem * elem_bytes;
  return base;
}

void StreamBuilder::load_2d(BufferId buffer, uint64_t elem_offset, uint32_t x_size, uint32_t y_size,
                            uint32_t x_stride, uint32_t x_pad_before, uint32_t y_pad_before, uint32_t x_pad_after,
                            uint32_t y_pad_after, uint32_t sram_index, isa::MemoryType type) {
  if (!is_valid_type(type) || type == isa::MemoryType::kOut) {
    throw Error(
        fmt::format("load_2d: cannot LOAD memory type {} (expected uop, wgt, inp or acc)", type_name(type)));
  }
  const std::string what = fmt::format("load_2d({})", type_name(type));
  check_sizes(what.c_str(), x_size, y_size, x_stride);
  if (x_pad_before > kMaxPad || y_pad_before > kMaxPad || x_pad_after > kMaxPad || y_pad_after > kMaxPad) {
    throw Error(fmt::format("{}: pads (x {}+{}, y {}+{}) must each be <= {} (4-bit fields)", what, x_pad_before,
                            x_pad_after, y_pad_before, y_pad_after, kMaxPad));
  }
  const isa::BufferGeometry& g = config_.buffer(type);
  const uint64_t tile = uint64_t{y_pad_before + y_size + y_pad_after} * (x_pad_before + x_size + x_pad_after);
  if (sram_index >= g.depth || sram_index + tile > g.depth) {
    throw Error(fmt::format("{}: on-chip range [{}, {}) exceeds the {} buffer depth {}", what, sram_index,
                            sram_index + tile, type_name(type), g.depth));
  }
  Stream::Range range;
  const uint64_t dram = check_dram(buffer, type, elem_offset, x_size, y_size, x_stride, &range);
  widen(reads_, buffer, range);
  if (type == isa::MemoryType::kUop) {
    evict_uops(sram_index, static_cast<uint32_t>(tile));
    if (!loading_kernel_) kernels_hoistable_ = false;
  }

  emit(isa::make_mem(isa::Opcode::kLoad, type, sram_index, static_cast<uint32_t>(dram), y_size, x_size, x_stride,
                     y_pad_before, y_pad_after, x_pad_before, x_pad_after),
       relocation_for(buffer));
}

void StreamBuilder::store_2d(uint32_t sram_index, isa::MemoryType type, BufferId buffer, uint64_t elem_offset,
                             uint32_t x_size, uint32_t y_size, uint32_t x_stride) {
  if (type != isa::MemoryType::kOut) {
    throw Error(fmt::format("store_2d: cannot STORE memory type {} (only out)", type_name(type)));
  }
  check_sizes("store_2d(out)", x_size, y_size, x_stride);
  const isa::BufferGeometry& g = config_.out();
  const uint64_t count = uint64_t{x_size} * y_size;
  if (sram_index >= g.depth || sram_index + count > g.depth) {
    throw Error(fmt::format("store_2d(out): on-chip range [{}, {}) exceeds the out buffer depth {}", sram_index,
                            sram_index + count, g.depth));
  }
  Stream::Range range;
  const uint64_t dram = check_dram(buffer, type, elem_offset, x_size, y_size, x_stride, &range);
  widen(writes_, buffer, range);
  emit(isa::make_mem(isa::Opcode::kStore, type, sram_index, static_cast<uint32_t>(dram), y_size, x_size, x_stride),
       relocation_for(buffer));
}

// ---------------------------------------------------------------------------------------------------
void StreamBuilder::validate_kernel(const UopKernel& k) const {
  const bool gemm = k.mode == KernelMode::kGemm;
  const char* what = gemm ? "push_gemm" : "push_alu";
  if (k.uops.empty()) throw Error(fmt::format("{}: empty kernel", what));
  if (k.uops.size() > config_.uop().depth) {
    throw Error(fmt::format("{}: kernel has {} micro-ops, more than the micro-op buffer depth {}", what,
                            k.uops.size(), config_.uop().depth));
  }
  if (k.loops.size() > 2) throw Error(fmt::format("{}: kernel has {} loops (at most 2)", what, k.loops.size()));
  if (!gemm && static_cast<uint32_t>(k.alu_opcode) >= isa::kAluOpcodeCount) {
    throw Error(fmt::format("push_alu: unknown ALU opcode {}", static_cast<uint32_t>(k.alu_opcode)));
  }
  if (!gemm && k.use_imm && (k.imm < -32768 || k.imm > 32767)) {
    throw Error(fmt::format("push_alu: immediate {} does not fit in signed 16 bits", k.imm));
  }
  const uint32_t acc_depth = config_.acc().depth;
  const uint32_t src_depth = gemm ? config_.inp().depth : acc_depth;
  const uint32_t wgt_depth = config_.wgt().depth;
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
      if (u.src_idx >= (1ull << config_.uop_src_bits()) || u.wgt_idx >= (1ull << config_.uop_wgt_bits())) {
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
    if (!gemm && u.wgt_idx >= (1ull << config_.uop_wgt_bits())) {
      throw Error(fmt::format("{}: micro-op {} wgt index {} does not fit its field", what, i, u.wgt_idx));
    }
  }
}

// Returns the kernel-cache entry for the micro-ops, handing them to the KernelStore on a miss.
size_t StreamBuilder::lookup_or_store(const std::vector<isa::MicroOp>& uops) {
  std::vector<uint32_t> words;
  words.reserve(uops.size());
  for (const isa::MicroOp& u : uops) words.push_back(codec_.encode_uop(u));
  if (auto it = cache_.find(words); it != cache_.end()) {
    ++hits_;
    return it->second;
  }
  ++misses_;
  KernelEntry e;
  e.location = store_(words);
  e.count = static_cast<uint32_t>(words.size());
  entries_.push_back(e);
  const size_t id = entries_.size() - 1;
  cache_.emplace(std::move(words), id);
  return id;
}

// Drops residency of every kernel overlapping [start, start + length) of the micro-op buffer.
void StreamBuilder::evict_uops(uint32_t start, uint32_t length) {
  const uint64_t end = uint64_t{start} + length;
  for (auto it = resident_spans_.begin(); it != resident_spans_.end();) {
    const uint64_t s = it->first, e = s + it->second.length;
    if (s < end && start < e) {
      resident_at_.erase(it->second.entry);
      it = resident_spans_.erase(it);
    } else {
      ++it;
    }
  }
}

// Makes the kernel resident in the micro-op buffer (emitting a LOAD UOP if needed); returns its start.
uint32_t StreamBuilder::ensure_resident(size_t id) {
  if (auto it = resident_at_.find(id); it != resident_at_.end()) return it->second;
  const KernelEntry& e = entries_[id];
  if (uint64_t{uop_next_} + e.count > config_.uop().depth) {
    uop_next_ = 0;  // wrap: oldest kernels get evicted
    kernels_hoistable_ = false;
  }
  const uint32_t start = uop_next_;
  loading_kernel_ = true;
  load_2d(e.location.buffer, e.location.elem_offset, e.count, 1, e.count, 0, 0, 0, 0, start, isa::MemoryType::kUop);
  loading_kernel_ = false;
  kernel_loads_.push_back(insns_.size() - 1);
  resident_spans_[start] = Span{e.count, id};
  resident_at_[id] = start;
  uop_next_ = start + e.count;
  return start;
}

void StreamBuilder::push_kernel(const UopKernel& k) {
  validate_kernel(k);
  const size_t id = lookup_or_store(k.uops);
  const uint32_t start = ensure_resident(id);

  isa::LoopNest loop;
  loop.reset = k.reset;
  loop.uop_bgn = start;
  loop.uop_end = start + static_cast<uint32_t>(k.uops.size());
  // A single loop is the inner one: the core takes two inner iterations a cycle when they are a pair of
  // ACC rows (a one-micro-op ALU or reset kernel stepping its destination by one).
  const UopLoop none{};
  const UopLoop& out = k.loops.size() > 1 ? k.loops[0] : none;
  const UopLoop& in = k.loops.size() > 1 ? k.loops[1] : k.loops.size() == 1 ? k.loops[0] : none;
  loop.iter_out = k.loops.size() > 1 ? out.extent : 1;
  loop.iter_in = k.loops.empty() ? 1 : in.extent;
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

// ---------------------------------------------------------------------------------------------------
// Ends the program: commits pending pops, makes FINISH wait for the load and store modules (VTA's
// barrier: each active stage pushes to compute, compute pops before FINISH), appends FINISH.
void StreamBuilder::finalize() {
  if (has_pending_pop(kLoadSlot)) emit_noop(kLoadSlot);
  if (has_pending_pop(kStoreSlot)) emit_noop(kStoreSlot);
  if (last_insn_[kLoadSlot]) {
    dep_push(Stage::kLoad, Stage::kCompute);
    dep_pop(Stage::kLoad, Stage::kCompute);
  }
  if (last_insn_[kStoreSlot]) {
    dep_push(Stage::kStore, Stage::kCompute);
    dep_pop(Stage::kStore, Stage::kCompute);
  }
  if (has_pending_pop(kComputeSlot)) emit_noop(kComputeSlot);
  emit(isa::FinishInsn{});
}

// Moves every kernel load to the start of the stream, merging loads that continue each other in DRAM
// and on chip (one LOAD UOP for a whole compiled layer). A LOAD UOP runs in the compute module: in the
// stream it stalls the GEMMs behind it while it waits for memory, behind whatever the load and store
// modules have queued there; at the start it overlaps the first input loads. Only when every kernel
// keeps its place for the whole stream; a load carrying dependency flags leaves a no-op with them.
void StreamBuilder::hoist_kernel_loads() {
  if (!kernels_hoistable_ || kernel_loads_.empty()) return;
  std::vector<std::optional<BufferId>> reloc_of(insns_.size());
  for (const Relocation& r : relocs_) reloc_of[r.insn] = r.buffer;
  struct Hoisted {
    isa::MemInsn load;
    std::optional<BufferId> reloc;
  };
  std::vector<Hoisted> front;
  std::vector<bool> is_kernel_load(insns_.size(), false);
  for (size_t i : kernel_loads_) {
    is_kernel_load[i] = true;
    isa::MemInsn m = std::get<isa::MemInsn>(insns_[i]);
    m.dep = {};
    if (!front.empty()) {
      isa::MemInsn& last = front.back().load;
      if (front.back().reloc == reloc_of[i] && m.sram_base == last.sram_base + last.x_size &&
          m.dram_base == last.dram_base + last.x_size && last.x_size + m.x_size <= kMaxSize) {
        last.x_size += m.x_size;
        last.x_stride = last.x_size;
        continue;
      }
    }
    front.push_back(Hoisted{m, reloc_of[i]});
  }
  std::vector<isa::Instruction> out;
  std::vector<Relocation> relocs;
  out.reserve(insns_.size() + front.size());
  for (const Hoisted& h : front) {
    if (h.reloc) relocs.push_back(Relocation{static_cast<uint32_t>(out.size()), *h.reloc});
    out.emplace_back(h.load);
  }
  for (size_t i = 0; i < insns_.size(); ++i) {
    if (is_kernel_load[i]) {
      const isa::DepFlags d = std::get<isa::MemInsn>(insns_[i]).dep;
      if (d.pop_prev || d.pop_next || d.push_prev || d.push_next) {
        isa::MemInsn noop;
        noop.opcode = isa::Opcode::kLoad;
        noop.memory_type = isa::MemoryType::kUop;
        noop.dep = d;
        out.emplace_back(noop);
      }
      continue;
    }
    if (reloc_of[i]) relocs.push_back(Relocation{static_cast<uint32_t>(out.size()), *reloc_of[i]});
    out.push_back(std::move(insns_[i]));
  }
  // The load module's first LOAD waits for the kernels (a compute->load token): started together, the
  // kernels' narrow bursts queue in DRAM behind the first tiles' long ones (ResNet-18 C6: 21k cycles for
  // 4 KB of micro-ops, C3 11k for 2 KB); alone they take a few hundred cycles. On tsim (32-cycle latency)
  // this saves 0.5-2.5k cycles on each of the eight bigger layers and costs 60-220 on C4, C7, C10.
  for (isa::Instruction& insn : out) {
    if (isa::module_of(insn) != isa::Module::kLoad) continue;
    isa::DepFlags& first_load = std::get<isa::MemInsn>(insn).dep;
    if (!first_load.pop_next) {
      first_load.pop_next = true;
      std::get<isa::MemInsn>(out[front.size() - 1]).dep.push_prev = true;
    }
    break;
  }
  insns_ = std::move(out);
  relocs_ = std::move(relocs);
}

void StreamBuilder::reset_stream() {
  insns_.clear();
  relocs_.clear();
  last_insn_ = {};
  pending_pop_ = {};
  reads_.clear();
  writes_.clear();
  // Residency is not trusted across runs: another queue, a trace replay or a failed run may have
  // overwritten the micro-op buffer, and each program must be self-contained.
  resident_spans_.clear();
  resident_at_.clear();
  uop_next_ = 0;
  kernel_loads_.clear();
  kernels_hoistable_ = true;
  loading_kernel_ = false;
}

StreamBuilder::Stream StreamBuilder::finish() {
  struct Guard {
    StreamBuilder* self;
    ~Guard() { self->reset_stream(); }
  } guard{this};
  finalize();
  hoist_kernel_loads();
  Stream s;
  s.instructions = std::move(insns_);
  s.relocations = std::move(relocs_);
  s.reads = std::move(reads_);
  s.writes = std::move(writes_);
  return s;
}

// ---------------------------------------------------------------------------------------------------
std::vector<uint8_t> encode_relocated(const isa::HwConfig& config, const std::vector<isa::Instruction>& insns,
                                      const std::vector<Relocation>& relocations,
                                      const std::vector<uint64_t>& device_address) {
  const isa::InstructionCodec codec(config);
  std::vector<uint8_t> bytes(insns.size() * kInsnBytes);
  size_t r = 0;
  for (size_t i = 0; i < insns.size(); ++i) {
    isa::Instruction insn = insns[i];
    for (; r < relocations.size() && relocations[r].insn == i; ++r) {
      auto* m = std::get_if<isa::MemInsn>(&insn);
      if (!m) throw Error(fmt::format("relocation of instruction {}: not a LOAD or STORE", i));
      const BufferId b = relocations[r].buffer;
      if (b >= device_address.size()) throw Error(fmt::format("relocation of instruction {}: unknown buffer {}", i, b));
      const uint32_t elem_bytes = config.buffer(m->memory_type).element_bytes;
      if (device_address[b] % elem_bytes != 0) {
        throw Error(fmt::format("instruction {}: buffer {} at {:#x} is not aligned to the {}-byte {} element", i, b,
                                device_address[b], elem_bytes, type_name(m->memory_type)));
      }
      const uint64_t base = device_address[b] / elem_bytes + m->dram_base;
      const uint64_t rows = m->y_size > 0 ? uint64_t{m->y_size - 1} * m->x_stride : 0;
      if (base + rows + m->x_size > kMaxDramElem + 1) {
        throw Error(fmt::format("instruction {}: DRAM element address {:#x} does not fit the 32-bit dram_base field",
                                i, base + rows + m->x_size - 1));
      }
      m->dram_base = static_cast<uint32_t>(base);
    }
    const isa::RawInstruction raw = codec.encode(insn);
    store_le64(bytes.data() + i * kInsnBytes, raw.lo);
    store_le64(bytes.data() + i * kInsnBytes + 8, raw.hi);
  }
  return bytes;
}

}  // namespace vta::runtime::detail
