// The JIT command queue: builds an instruction stream and micro-op kernels for one Device, caches
// kernels by content, and runs the stream on synchronize().
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "vta/driver/device.h"
#include "vta/isa/instruction.h"
#include "vta/runtime/uop_kernel.h"

namespace vta::runtime {

// Pipeline stages as VTA's runtime numbers them in DepPush/DepPop.
enum class Stage : int { kLoad = 1, kCompute = 2, kStore = 3 };

struct CommandQueueOptions {
  std::chrono::milliseconds timeout{60000};
  // When set, every synchronize() writes its run as a trace directory under this path
  // (run000, run001, ...), replayable with `vta exec`.
  std::optional<std::filesystem::path> trace_dir;
};

class CommandQueue {
 public:
  explicit CommandQueue(driver::Device& device, CommandQueueOptions options = {});
  ~CommandQueue();
  CommandQueue(const CommandQueue&) = delete;
  CommandQueue& operator=(const CommandQueue&) = delete;

  driver::Device& device() { return device_; }
  const isa::HwConfig& config() const { return device_.config(); }

  // 2D load of `y_size` rows of `x_size` elements of `type` from `buffer` (element offset, element
  // stride) into on-chip index `sram_index`, with zero padding on each side.
  void load_2d(const driver::DeviceBuffer& buffer, uint64_t elem_offset, uint32_t x_size, uint32_t y_size,
               uint32_t x_stride, uint32_t x_pad_before, uint32_t y_pad_before, uint32_t x_pad_after,
               uint32_t y_pad_after, uint32_t sram_index, isa::MemoryType type);
  // 2D store of OUT elements from on-chip index `sram_index` to `buffer`.
  void store_2d(uint32_t sram_index, isa::MemoryType type, const driver::DeviceBuffer& buffer,
                uint64_t elem_offset, uint32_t x_size, uint32_t y_size, uint32_t x_stride);

  // Pushes a GEMM (or ALU) instruction running `kernel`; the kernel's micro-ops are uploaded to DRAM
  // once (cached by content) and loaded into the micro-op buffer when not already resident.
  void push_gemm(const UopKernel& kernel);
  void push_alu(const UopKernel& kernel);

  // Dependency tokens between adjacent stages: push marks the last instruction of `from`, pop marks the
  // next instruction of `to` (VTA runtime semantics).
  void dep_push(Stage from, Stage to);
  void dep_pop(Stage from, Stage to);

  // Appends FINISH, flushes, runs on the device and waits. Throws vta::Error with the device's message
  // if the run fails or times out. Returns the run's counters.
  isa::ExecutionCounters synchronize();
  // Same, with a timeout for this run instead of options.timeout (used by VTASynchronize).
  isa::ExecutionCounters synchronize(std::chrono::milliseconds timeout);

  // The instructions queued since the last synchronize (for inspection and tests).
  const std::vector<isa::Instruction>& pending() const;
  // Kernel cache statistics.
  uint64_t kernel_cache_hits() const;
  uint64_t kernel_cache_misses() const;

 private:
  struct Impl;
  driver::Device& device_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vta::runtime
