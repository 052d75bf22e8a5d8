// Builds a device-independent Program: the same calls as the JIT CommandQueue (2D loads with padding,
// stores, cached micro-op kernels, GEMM/ALU pushes, dependency tokens), but DRAM operands name symbolic
// buffers, so compiling needs no device and the result can be printed, saved and bound to any Device.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vta/isa/hw_config.h"
#include "vta/runtime/command_queue.h"
#include "vta/runtime/program.h"
#include "vta/runtime/uop_kernel.h"

namespace vta::runtime {

class ProgramBuilder {
 public:
  explicit ProgramBuilder(const isa::HwConfig& config);
  ~ProgramBuilder();
  ProgramBuilder(const ProgramBuilder&) = delete;
  ProgramBuilder& operator=(const ProgramBuilder&) = delete;

  const isa::HwConfig& config() const;

  // A buffer of `bytes` bytes; its alignment grows to the element size of whatever addresses it.
  // Names are unique (vta::Error otherwise); kMicroOps is reserved for the builder's own kernels.
  BufferId add_buffer(std::string name, BufferRole role, uint64_t bytes);
  // A constant buffer holding `data`.
  BufferId add_constant(std::string name, std::vector<uint8_t> data);

  void load_2d(BufferId buffer, uint64_t elem_offset, uint32_t x_size, uint32_t y_size, uint32_t x_stride,
               uint32_t x_pad_before, uint32_t y_pad_before, uint32_t x_pad_after, uint32_t y_pad_after,
               uint32_t sram_index, isa::MemoryType type);
  void store_2d(uint32_t sram_index, isa::MemoryType type, BufferId buffer, uint64_t elem_offset, uint32_t x_size,
                uint32_t y_size, uint32_t x_stride);
  void push_gemm(const UopKernel& kernel);
  void push_alu(const UopKernel& kernel);
  void dep_push(Stage from, Stage to);
  void dep_pop(Stage from, Stage to);

  // The instructions so far (no final barrier or FINISH).
  const std::vector<isa::Instruction>& pending() const;

  // Ends the stream (barrier + FINISH) and returns the Program. The builder is spent afterwards.
  Program finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vta::runtime
