// The JIT command queue: a StreamBuilder over the caller's device buffers, the micro-op kernel arena in
// device memory (kept across runs, so the kernel cache is too) and the run on synchronize(). See
// docs/runtime.md.
#include "vta/runtime/command_queue.h"

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>

#include <fmt/format.h>

#include "device_run.h"
#include "stream_builder.h"
#include "vta/isa/error.h"

namespace vta::runtime {

namespace {

constexpr uint64_t kArenaChunkBytes = 64 * 1024;
constexpr uint64_t kMinInsnBufferBytes = 4096;

void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

struct CommandQueue::Impl {
  Impl(driver::Device& dev, CommandQueueOptions opts)
      : device(dev),
        options(std::move(opts)),
        stream(dev.config(), [this](const std::vector<uint32_t>& words) { return store_kernel(words); }) {}

  driver::Device& device;
  CommandQueueOptions options;
  detail::StreamBuilder stream;

  // Device buffers the stream addresses, by id; ids are reused for the same device address.
  std::vector<driver::DeviceBuffer> bound;
  std::unordered_map<uint64_t, BufferId> id_of_address;

  // Micro-op kernels live in arena chunks of device memory, registered as buffers of the stream.
  struct ArenaChunk {
    BufferId id = 0;
    uint64_t used = 0;  // bytes
  };
  std::vector<ArenaChunk> arena;

  driver::DeviceBuffer insn_buffer;
  uint32_t run_index = 0;

  BufferId id_for(const driver::DeviceBuffer& buffer, const char* what) {
    if (!buffer) throw Error(fmt::format("{}: null device buffer", what));
    auto [it, inserted] = id_of_address.try_emplace(buffer.device_address, 0);
    if (inserted) {
      it->second = stream.add_buffer(buffer.size, 1, buffer.device_address);
      bound.push_back(buffer);
    } else {
      bound[it->second] = buffer;  // a new allocation at a freed address may differ in size
      stream.resize_buffer(it->second, buffer.size, buffer.device_address);
    }
    return it->second;
  }

  detail::KernelLocation store_kernel(const std::vector<uint32_t>& words) {
    const uint64_t bytes = uint64_t{words.size()} * 4;
    if (arena.empty() || bound[arena.back().id].size - arena.back().used < bytes) {
      const uint64_t size = std::max(kArenaChunkBytes, (bytes + 63) / 64 * 64);
      const driver::DeviceBuffer chunk = device.allocate(size, 64);
      arena.push_back(ArenaChunk{id_for(chunk, "kernel arena"), 0});
    }
    ArenaChunk& chunk = arena.back();
    const driver::DeviceBuffer& buffer = bound[chunk.id];
    for (size_t i = 0; i < words.size(); ++i) store_le32(buffer.host + chunk.used + 4 * i, words[i]);
    device.flush(buffer, chunk.used, bytes);
    const detail::KernelLocation at{chunk.id, chunk.used / 4};
    chunk.used += bytes;
    return at;
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
    const detail::StreamBuilder::Stream s = stream.finish();
    std::vector<uint64_t> addresses(bound.size());
    for (size_t i = 0; i < bound.size(); ++i) addresses[i] = bound[i].device_address;
    const std::vector<uint8_t> code =
        detail::encode_relocated(stream.config(), s.instructions, s.relocations, addresses);
    ensure_insn_capacity(code.size());
    std::copy(code.begin(), code.end(), insn_buffer.host);
    device.flush(insn_buffer, 0, code.size());
    for (const auto& [id, r] : s.reads) device.flush(bound[id], r.lo, r.hi - r.lo);
    for (const auto& [id, r] : s.writes) device.flush(bound[id], r.lo, r.hi - r.lo);

    std::optional<std::filesystem::path> trace;
    if (options.trace_dir) trace = *options.trace_dir / fmt::format("run{:03d}", run_index);
    ++run_index;
    const driver::RunResult result = detail::run_on_device(
        device, insn_buffer.device_address, static_cast<uint32_t>(s.instructions.size()), timeout, trace);
    for (const auto& [id, r] : s.writes) device.invalidate(bound[id], r.lo, r.hi - r.lo);
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
      device_.free(impl_->bound[chunk.id]);
    } catch (...) {
    }
  }
}

void CommandQueue::load_2d(const driver::DeviceBuffer& buffer, uint64_t elem_offset, uint32_t x_size,
                           uint32_t y_size, uint32_t x_stride, uint32_t x_pad_before, uint32_t y_pad_before,
                           uint32_t x_pad_after, uint32_t y_pad_after, uint32_t sram_index, isa::MemoryType type) {
  const BufferId id = impl_->id_for(buffer, "load_2d");
  impl_->stream.load_2d(id, elem_offset, x_size, y_size, x_stride, x_pad_before, y_pad_before, x_pad_after,
                        y_pad_after, sram_index, type);
}

void CommandQueue::store_2d(uint32_t sram_index, isa::MemoryType type, const driver::DeviceBuffer& buffer,
                            uint64_t elem_offset, uint32_t x_size, uint32_t y_size, uint32_t x_stride) {
  const BufferId id = impl_->id_for(buffer, "store_2d");
  impl_->stream.store_2d(sram_index, type, id, elem_offset, x_size, y_size, x_stride);
}

void CommandQueue::push_gemm(const UopKernel& kernel) {
  if (kernel.mode != KernelMode::kGemm) throw Error("push_gemm: the kernel was built for the ALU");
  impl_->stream.push_kernel(kernel);
}

void CommandQueue::push_alu(const UopKernel& kernel) {
  if (kernel.mode != KernelMode::kAlu) throw Error("push_alu: the kernel was built for GEMM");
  impl_->stream.push_kernel(kernel);
}

void CommandQueue::dep_push(Stage from, Stage to) { impl_->stream.dep_push(from, to); }
void CommandQueue::dep_pop(Stage from, Stage to) { impl_->stream.dep_pop(from, to); }

isa::ExecutionCounters CommandQueue::synchronize() { return impl_->synchronize(impl_->options.timeout); }
isa::ExecutionCounters CommandQueue::synchronize(std::chrono::milliseconds timeout) {
  return impl_->synchronize(timeout);
}

const std::vector<isa::Instruction>& CommandQueue::pending() const { return impl_->stream.pending(); }
uint64_t CommandQueue::kernel_cache_hits() const { return impl_->stream.kernel_cache_hits(); }
uint64_t CommandQueue::kernel_cache_misses() const { return impl_->stream.kernel_cache_misses(); }

}  // namespace vta::runtime
