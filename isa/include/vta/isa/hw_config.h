// The hardware config: Apache VTA's JSON keys, parsed once and validated, with every width, depth and
// instruction-field width derived from it. Every layer reads its constants from a HwConfig value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "vta/isa/memory_type.h"

namespace vta::isa {

// Timing knobs that VTA leaves implicit; they live under the optional "timing" object.
struct TimingConfig {
  double clock_mhz = 100.0;
  uint32_t dram_latency_cycles = 64;
  uint32_t dram_bytes_per_cycle = 8;
};

// Geometry of one on-chip buffer, derived from the config.
struct BufferGeometry {
  uint32_t element_bits = 0;   // bits of one addressable element
  uint32_t element_bytes = 0;  // element_bits / 8
  uint32_t depth = 0;          // number of elements
  uint32_t log_depth = 0;      // index bits
  uint64_t size_bytes = 0;     // depth * element_bytes
};

// Bit widths of instruction fields that do not depend on the config (VTA 0.0.2).
struct FixedFieldWidths {
  static constexpr uint32_t kInstructionBits = 128;
  static constexpr uint32_t kMicroOpBits = 32;
  static constexpr uint32_t kOpcode = 3;
  static constexpr uint32_t kMemoryType = 3;
  static constexpr uint32_t kSramAddress = 16;
  static constexpr uint32_t kDramAddress = 32;
  static constexpr uint32_t kSize = 16;
  static constexpr uint32_t kStride = 16;
  static constexpr uint32_t kPad = 4;
  static constexpr uint32_t kLoopIter = 14;
  static constexpr uint32_t kAluOpcode = 3;
  static constexpr uint32_t kAluImmediate = 16;
};

// Queue capacities of this implementation's core. VTA 0.0.2 leaves them to the implementation, so they
// are not config keys; vta-rtlgen writes them into vta_pkg (hardware/rtl/vta_top.sv sizes its queues
// from there) and fsim-strict models the same limits, so both read this one definition.
struct CoreQueueDepths {
  // Tokens one dependency queue (load->compute, ...) holds; a push on a full queue waits.
  static constexpr uint32_t kToken = 255;
  // Instructions waiting in one module's command queue (the module holds one more, the one it runs).
  // Dispatch is in program order: an instruction for a full queue holds back every later one.
  static constexpr uint32_t kCommand = 32;
  // The RTL's token queue is a counter that saturates at all ones; its FIFOs need a power-of-two depth.
  static_assert(((kToken + 1) & kToken) == 0, "token queue depth + 1 must be a power of two");
  static_assert((kCommand & (kCommand - 1)) == 0, "command queue depth must be a power of two");
};

class HwConfig {
 public:
  // Parses and validates; throws ConfigError naming the key on any problem.
  static HwConfig from_json(const nlohmann::json& j);
  static HwConfig from_file(const std::filesystem::path& path);
  static HwConfig from_string(const std::string& text);
  // Apache VTA's default config (1x16_i8w8a32_15_15_18_17).
  static HwConfig default_config();

  // The config as VTA JSON keys (plus "timing"); from_json(to_json()) round-trips.
  nlohmann::json to_json() const;
  // Every derived value, for `vta info`.
  nlohmann::json derived_json() const;
  // VTA's name for the config, e.g. "1x16_i8w8a32_15_15_18_17".
  std::string name() const;
  // Short content hash (hex) of the keys that affect hardware; used to cache builds per config.
  std::string hash() const;

  // --- raw keys ---
  const std::string& target() const { return target_; }
  const std::string& hw_ver() const { return hw_ver_; }
  uint32_t log_inp_width() const { return log_inp_width_; }
  uint32_t log_wgt_width() const { return log_wgt_width_; }
  uint32_t log_acc_width() const { return log_acc_width_; }
  uint32_t log_out_width() const { return log_inp_width_; }
  uint32_t log_batch() const { return log_batch_; }
  uint32_t log_block_in() const { return log_block_in_; }
  uint32_t log_block_out() const { return log_block_out_; }
  uint32_t log_uop_buff_size() const { return log_uop_buff_size_; }
  uint32_t log_inp_buff_size() const { return log_inp_buff_size_; }
  uint32_t log_wgt_buff_size() const { return log_wgt_buff_size_; }
  uint32_t log_acc_buff_size() const { return log_acc_buff_size_; }
  const TimingConfig& timing() const { return timing_; }

  // --- derived ---
  uint32_t inp_width() const { return 1u << log_inp_width_; }
  uint32_t wgt_width() const { return 1u << log_wgt_width_; }
  uint32_t acc_width() const { return 1u << log_acc_width_; }
  uint32_t out_width() const { return inp_width(); }
  uint32_t batch() const { return 1u << log_batch_; }
  uint32_t block_in() const { return 1u << log_block_in_; }
  uint32_t block_out() const { return 1u << log_block_out_; }

  // Geometry of the buffer behind a memory type (OUT shares the ACC depth and index).
  const BufferGeometry& buffer(MemoryType type) const;
  const BufferGeometry& uop() const { return uop_; }
  const BufferGeometry& inp() const { return inp_; }
  const BufferGeometry& wgt() const { return wgt_; }
  const BufferGeometry& acc() const { return acc_; }
  const BufferGeometry& out() const { return out_; }

  // Micro-op field widths: dst = acc index, src = max(acc, inp) index, wgt = wgt index.
  uint32_t uop_dst_bits() const { return acc_.log_depth; }
  uint32_t uop_src_bits() const { return acc_.log_depth > inp_.log_depth ? acc_.log_depth : inp_.log_depth; }
  uint32_t uop_wgt_bits() const { return wgt_.log_depth; }

  bool operator==(const HwConfig& other) const;

 private:
  HwConfig() = default;
  void derive_and_validate();

  std::string target_ = "sim";
  std::string hw_ver_ = "0.0.2";
  uint32_t log_inp_width_ = 3, log_wgt_width_ = 3, log_acc_width_ = 5;
  uint32_t log_batch_ = 0, log_block_in_ = 4, log_block_out_ = 4;
  uint32_t log_uop_buff_size_ = 15, log_inp_buff_size_ = 15, log_wgt_buff_size_ = 18, log_acc_buff_size_ = 17;
  TimingConfig timing_;
  BufferGeometry uop_, inp_, wgt_, acc_, out_;
};

}  // namespace vta::isa
