#include "vta/runtime/program_builder.h"

#include <algorithm>
#include <unordered_set>

#include <fmt/format.h>

#include "stream_builder.h"
#include "vta/isa/error.h"

namespace vta::runtime {

namespace {
constexpr uint64_t kDefaultAlignment = 64;
constexpr const char* kMicroOpBuffer = "uops";
}  // namespace

struct ProgramBuilder::Impl {
  explicit Impl(const isa::HwConfig& config)
      : stream(config, [this](const std::vector<uint32_t>& words) { return store_kernel(words); }) {}

  detail::StreamBuilder stream;
  std::vector<ProgramBuffer> buffers;  // indexed like the stream's buffers
  std::unordered_set<std::string> names;
  std::optional<BufferId> uop_buffer;
  bool finished = false;

  BufferId add(ProgramBuffer b) {
    if (finished) throw Error("ProgramBuilder: the program was already finished");
    if (b.name.empty()) throw Error("ProgramBuilder: buffers need a name");
    if (!names.insert(b.name).second) throw Error(fmt::format("ProgramBuilder: duplicate buffer name '{}'", b.name));
    if (b.bytes == 0) throw Error(fmt::format("ProgramBuilder: buffer '{}' is empty", b.name));
    const BufferId id = stream.add_buffer(b.bytes, b.alignment, std::nullopt);
    buffers.push_back(std::move(b));
    return id;
  }

  // Micro-op kernels append to the program's one micro-op buffer (grown as kernels arrive).
  detail::KernelLocation store_kernel(const std::vector<uint32_t>& words) {
    if (!uop_buffer) {
      ProgramBuffer b;
      b.name = kMicroOpBuffer;
      b.role = BufferRole::kMicroOps;
      b.bytes = 4;  // placeholder; grows below
      b.alignment = kDefaultAlignment;
      uop_buffer = add(std::move(b));
    }
    ProgramBuffer& b = buffers[*uop_buffer];
    const uint64_t offset_words = b.data.size() / 4;
    for (uint32_t w : words) {
      for (int i = 0; i < 4; ++i) b.data.push_back(static_cast<uint8_t>(w >> (8 * i)));
    }
    b.bytes = b.data.size();
    stream.resize_buffer(*uop_buffer, b.bytes, std::nullopt);
    return detail::KernelLocation{*uop_buffer, offset_words};
  }

  void check_live() const {
    if (finished) throw Error("ProgramBuilder: the program was already finished");
  }
};

ProgramBuilder::ProgramBuilder(const isa::HwConfig& config) : impl_(std::make_unique<Impl>(config)) {}
ProgramBuilder::~ProgramBuilder() = default;

const isa::HwConfig& ProgramBuilder::config() const { return impl_->stream.config(); }

BufferId ProgramBuilder::add_buffer(std::string name, BufferRole role, uint64_t bytes) {
  if (role == BufferRole::kMicroOps) throw Error("ProgramBuilder: the micro-op buffer is managed by the builder");
  if (role == BufferRole::kConstant) throw Error("ProgramBuilder: use add_constant() for constant buffers");
  ProgramBuffer b;
  b.name = std::move(name);
  b.role = role;
  b.bytes = bytes;
  b.alignment = kDefaultAlignment;
  return impl_->add(std::move(b));
}

BufferId ProgramBuilder::add_constant(std::string name, std::vector<uint8_t> data) {
  ProgramBuffer b;
  b.name = std::move(name);
  b.role = BufferRole::kConstant;
  b.bytes = data.size();
  b.alignment = kDefaultAlignment;
  b.data = std::move(data);
  return impl_->add(std::move(b));
}

void ProgramBuilder::load_2d(BufferId buffer, uint64_t elem_offset, uint32_t x_size, uint32_t y_size,
                             uint32_t x_stride, uint32_t x_pad_before, uint32_t y_pad_before, uint32_t x_pad_after,
                             uint32_t y_pad_after, uint32_t sram_index, isa::MemoryType type) {
  impl_->check_live();
  impl_->stream.load_2d(buffer, elem_offset, x_size, y_size, x_stride, x_pad_before, y_pad_before, x_pad_after,
                        y_pad_after, sram_index, type);
}

void ProgramBuilder::store_2d(uint32_t sram_index, isa::MemoryType type, BufferId buffer, uint64_t elem_offset,
                              uint32_t x_size, uint32_t y_size, uint32_t x_stride) {
  impl_->check_live();
  impl_->stream.store_2d(sram_index, type, buffer, elem_offset, x_size, y_size, x_stride);
}

void ProgramBuilder::push_gemm(const UopKernel& kernel) {
  impl_->check_live();
  if (kernel.mode != KernelMode::kGemm) throw Error("push_gemm: the kernel was built for the ALU");
  impl_->stream.push_kernel(kernel);
}

void ProgramBuilder::push_alu(const UopKernel& kernel) {
  impl_->check_live();
  if (kernel.mode != KernelMode::kAlu) throw Error("push_alu: the kernel was built for GEMM");
  impl_->stream.push_kernel(kernel);
}

void ProgramBuilder::dep_push(Stage from, Stage to) {
  impl_->check_live();
  impl_->stream.dep_push(from, to);
}
void ProgramBuilder::dep_pop(Stage from, Stage to) {
  impl_->check_live();
  impl_->stream.dep_pop(from, to);
}

const std::vector<isa::Instruction>& ProgramBuilder::pending() const { return impl_->stream.pending(); }

Program ProgramBuilder::finish() {
  impl_->check_live();
  detail::StreamBuilder::Stream s = impl_->stream.finish();
  impl_->finished = true;
  Program p;
  p.config = impl_->stream.config();
  p.buffers = std::move(impl_->buffers);
  for (size_t i = 0; i < p.buffers.size(); ++i) {
    p.buffers[i].alignment = impl_->stream.buffer_alignment(static_cast<BufferId>(i));
    if (auto it = s.reads.find(static_cast<BufferId>(i)); it != s.reads.end()) {
      p.buffers[i].read_lo = it->second.lo;
      p.buffers[i].read_hi = it->second.hi;
    }
    if (auto it = s.writes.find(static_cast<BufferId>(i)); it != s.writes.end()) {
      p.buffers[i].write_lo = it->second.lo;
      p.buffers[i].write_hi = it->second.hi;
    }
  }
  p.instructions = std::move(s.instructions);
  p.relocations = std::move(s.relocations);
  p.kernel_cache_hits = impl_->stream.kernel_cache_hits();
  p.kernel_cache_misses = impl_->stream.kernel_cache_misses();
  return p;
}

}  // namespace vta::runtime
