// Helpers for the runtime tests: a device + queue harness, packed-layout helpers, and plain CPU
// references (written here, independent of fsim) for LOAD padding, GEMM, ALU and matrix multiply.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "vta/driver/device.h"
#include "vta/isa/hw_config.h"
#include "vta/runtime/command_queue.h"
#include "vta/runtime/uop_kernel.h"

namespace vta::rtest {

using runtime::CommandQueue;
using runtime::KernelMode;
using runtime::Stage;
using runtime::UopKernel;
using runtime::UopKernelBuilder;

inline isa::HwConfig load_config(const std::string& name) {
  return isa::HwConfig::from_file(std::filesystem::path(VTA_CONFIG_DIR) / (name + ".json"));
}

inline std::vector<std::string> all_config_names() {
  return {"default", "batch2", "block8", "block32", "in16_out32"};
}

// Lanes per element of each memory type.
struct Geo {
  explicit Geo(const isa::HwConfig& c)
      : batch(c.batch()), bin(c.block_in()), bout(c.block_out()), inp_lanes(batch * bin), wgt_lanes(bout * bin),
        acc_lanes(batch * bout) {}
  uint32_t batch, bin, bout;
  uint32_t inp_lanes, wgt_lanes, acc_lanes;
};

// One device and one command queue; buffers allocated here are freed on destruction.
class Harness {
 public:
  Harness(const std::string& target, const isa::HwConfig& config, runtime::CommandQueueOptions options = {})
      : device_(driver::open_device(target, config)),
        queue_(std::make_unique<CommandQueue>(*device_, std::move(options))),
        geo_(device_->config()) {
    const auto& c = device_->config();
    // The helpers below store values as int8 (inp/wgt/out) and int32 (acc).
    EXPECT_EQ(c.inp_width(), 8u);
    EXPECT_EQ(c.wgt_width(), 8u);
    EXPECT_EQ(c.acc_width(), 32u);
  }
  ~Harness() {
    queue_.reset();
    for (const auto& b : buffers_) device_->free(b);
  }

  driver::Device& dev() { return *device_; }
  CommandQueue& q() { return *queue_; }
  const isa::HwConfig& cfg() const { return device_->config(); }
  const Geo& geo() const { return geo_; }

  // A zeroed buffer aligned for every element type.
  driver::DeviceBuffer alloc(uint64_t bytes) {
    uint64_t align = 64;
    for (isa::MemoryType t : isa::kAllMemoryTypes) align = std::max<uint64_t>(align, cfg().buffer(t).element_bytes);
    driver::DeviceBuffer b = device_->allocate(std::max<uint64_t>(bytes, 1), align);
    std::memset(b.host, 0, b.size);
    buffers_.push_back(b);
    return b;
  }
  template <typename T>
  driver::DeviceBuffer alloc_with(const std::vector<T>& values) {
    driver::DeviceBuffer b = alloc(values.size() * sizeof(T));
    std::memcpy(b.host, values.data(), values.size() * sizeof(T));
    return b;
  }
  template <typename T>
  std::vector<T> read(const driver::DeviceBuffer& b, size_t count) const {
    std::vector<T> v(count);
    std::memcpy(v.data(), b.host, count * sizeof(T));
    return v;
  }

 private:
  std::unique_ptr<driver::Device> device_;
  std::unique_ptr<CommandQueue> queue_;
  Geo geo_;
  std::vector<driver::DeviceBuffer> buffers_;
};

template <typename T>
std::vector<T> random_values(size_t n, uint32_t seed, int64_t lo, int64_t hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(dist(rng));
  return v;
}

inline std::vector<int8_t> random_i8(size_t n, uint32_t seed) { return random_values<int8_t>(n, seed, -128, 127); }
inline std::vector<int32_t> random_i32(size_t n, uint32_t seed, int64_t lo = INT32_MIN, int64_t hi = INT32_MAX) {
  return random_values<int32_t>(n, seed, lo, hi);
}

// ---- CPU reference of LOAD: a dense padded tile from a DRAM array of `lanes`-lane elements ----
template <typename T>
std::vector<T> ref_load(const std::vector<T>& dram, uint32_t lanes, uint64_t elem_offset, uint32_t x_size,
                        uint32_t y_size, uint32_t x_stride, uint32_t x_pad0, uint32_t y_pad0, uint32_t x_pad1,
                        uint32_t y_pad1) {
  const uint32_t width = x_pad0 + x_size + x_pad1;
  const uint32_t height = y_pad0 + y_size + y_pad1;
  std::vector<T> tile(size_t{width} * height * lanes, T{0});
  for (uint32_t y = 0; y < y_size; ++y) {
    for (uint32_t x = 0; x < x_size; ++x) {
      const size_t src = (elem_offset + size_t{y} * x_stride + x) * lanes;
      const size_t dst = (size_t{y + y_pad0} * width + x + x_pad0) * lanes;
      for (uint32_t l = 0; l < lanes; ++l) tile[dst + l] = dram[src + l];
    }
  }
  return tile;
}

inline int32_t wrap32(int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v))); }

// ---- CPU reference of GEMM over an on-chip image (acc: acc_lanes per element, etc.) ----
inline void ref_gemm(const Geo& g, std::vector<int32_t>& acc, const std::vector<int8_t>& inp,
                     const std::vector<int8_t>& wgt, const UopKernel& k) {
  const runtime::UopLoop one{1, 0, 0, 0};
  const runtime::UopLoop& lo = k.loops.size() > 0 ? k.loops[0] : one;
  const runtime::UopLoop& li = k.loops.size() > 1 ? k.loops[1] : one;
  for (uint32_t i = 0; i < lo.extent; ++i) {
    for (uint32_t j = 0; j < li.extent; ++j) {
      for (const isa::MicroOp& u : k.uops) {
        const size_t d = u.dst_idx + i * lo.dst_factor + j * li.dst_factor;
        const size_t s = u.src_idx + i * lo.src_factor + j * li.src_factor;
        const size_t w = u.wgt_idx + i * lo.wgt_factor + j * li.wgt_factor;
        for (uint32_t b = 0; b < g.batch; ++b) {
          for (uint32_t o = 0; o < g.bout; ++o) {
            int32_t& out = acc.at(d * g.acc_lanes + b * g.bout + o);
            if (k.reset) {
              out = 0;
              continue;
            }
            int64_t sum = 0;
            for (uint32_t x = 0; x < g.bin; ++x) {
              sum += int64_t{inp.at(s * g.inp_lanes + b * g.bin + x)} * wgt.at(w * g.wgt_lanes + o * g.bin + x);
            }
            out = wrap32(int64_t{out} + sum);
          }
        }
      }
    }
  }
}

inline int32_t ref_alu_op(isa::AluOpcode op, int32_t a, int32_t b) {
  switch (op) {
    case isa::AluOpcode::kMin: return std::min(a, b);
    case isa::AluOpcode::kMax: return std::max(a, b);
    case isa::AluOpcode::kAdd: return wrap32(int64_t{a} + b);
    case isa::AluOpcode::kShr:
      if (b >= 0) return a >> b;  // arithmetic
      return static_cast<int32_t>(static_cast<uint32_t>(a) << static_cast<uint32_t>(-b));
    case isa::AluOpcode::kMul: return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
  }
  ADD_FAILURE() << "unknown ALU op";
  return 0;
}

// ---- CPU reference of ALU over an on-chip acc image ----
inline void ref_alu(const Geo& g, std::vector<int32_t>& acc, const UopKernel& k) {
  const runtime::UopLoop one{1, 0, 0, 0};
  const runtime::UopLoop& lo = k.loops.size() > 0 ? k.loops[0] : one;
  const runtime::UopLoop& li = k.loops.size() > 1 ? k.loops[1] : one;
  for (uint32_t i = 0; i < lo.extent; ++i) {
    for (uint32_t j = 0; j < li.extent; ++j) {
      for (const isa::MicroOp& u : k.uops) {
        const size_t d = u.dst_idx + i * lo.dst_factor + j * li.dst_factor;
        const size_t s = u.src_idx + i * lo.src_factor + j * li.src_factor;
        for (uint32_t l = 0; l < g.acc_lanes; ++l) {
          const int32_t b = k.use_imm ? k.imm : acc.at(s * g.acc_lanes + l);
          int32_t& a = acc.at(d * g.acc_lanes + l);
          a = ref_alu_op(k.alu_opcode, a, b);
        }
      }
    }
  }
}

// ---- plain matrix multiply: C[m][n] = sum_k A[m][k] * B[n][k] (int8 x int8 -> int32) ----
inline std::vector<int32_t> ref_matmul(const std::vector<int8_t>& a, const std::vector<int8_t>& b, size_t m, size_t n,
                                       size_t k) {
  std::vector<int32_t> c(m * n, 0);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      int64_t sum = 0;
      for (size_t x = 0; x < k; ++x) sum += int64_t{a[i * k + x]} * b[j * k + x];
      c[i * n + j] = wrap32(sum);
    }
  }
  return c;
}

// Packs a row-major matrix [rows][cols] into tiles of (tile_rows x tile_cols) elements laid out
// [rows/tile_rows][cols/tile_cols] with lanes row-major inside a tile (INP: batch x block_in;
// WGT: block_out x block_in; ACC/OUT: batch x block_out).
template <typename T>
std::vector<T> pack_tiles(const std::vector<T>& m, size_t rows, size_t cols, size_t tile_rows, size_t tile_cols) {
  std::vector<T> out(rows * cols);
  const size_t tr = rows / tile_rows, tc = cols / tile_cols;
  for (size_t i = 0; i < tr; ++i)
    for (size_t j = 0; j < tc; ++j)
      for (size_t r = 0; r < tile_rows; ++r)
        for (size_t c = 0; c < tile_cols; ++c)
          out[((i * tc + j) * tile_rows + r) * tile_cols + c] = m[(i * tile_rows + r) * cols + j * tile_cols + c];
  return out;
}

template <typename T>
std::vector<T> unpack_tiles(const std::vector<T>& packed, size_t rows, size_t cols, size_t tile_rows,
                            size_t tile_cols) {
  std::vector<T> m(rows * cols);
  const size_t tr = rows / tile_rows, tc = cols / tile_cols;
  for (size_t i = 0; i < tr; ++i)
    for (size_t j = 0; j < tc; ++j)
      for (size_t r = 0; r < tile_rows; ++r)
        for (size_t c = 0; c < tile_cols; ++c)
          m[(i * tile_rows + r) * cols + j * tile_cols + c] = packed[((i * tc + j) * tile_rows + r) * tile_cols + c];
  return m;
}

// A one-micro-op ALU kernel over `count` consecutive acc elements: acc[dst + i] op= (imm | acc[src + i]).
inline UopKernel alu_range(uint32_t dst, uint32_t src, uint32_t count, isa::AluOpcode op, bool use_imm, int32_t imm) {
  return UopKernelBuilder(KernelMode::kAlu)
      .alu(op, use_imm, imm)
      .loop_begin(count, 1, 1, 0)
      .push(dst, src)
      .loop_end()
      .build();
}

// Emits instructions that copy the full 32-bit contents of acc[acc_base, acc_base + count) to DRAM:
// four STOREs of the low byte interleaved with ALU SHR 8 (byte k of x is the low byte of x >> 8k).
// Returns the four OUT buffers; decode them with decode_acc_bytes after synchronize(). The ACC range is
// destroyed. Assumes the last compute instruction produced the values; leaves no tokens behind.
inline std::vector<driver::DeviceBuffer> emit_read_acc(Harness& h, uint32_t acc_base, uint32_t count) {
  std::vector<driver::DeviceBuffer> bufs;
  for (int byte = 0; byte < 4; ++byte) {
    if (byte > 0) {
      h.q().dep_pop(Stage::kStore, Stage::kCompute);
      h.q().push_alu(alu_range(acc_base, acc_base, count, isa::AluOpcode::kShr, true, 8));
    }
    h.q().dep_push(Stage::kCompute, Stage::kStore);
    h.q().dep_pop(Stage::kCompute, Stage::kStore);
    bufs.push_back(h.alloc(uint64_t{count} * h.cfg().out().element_bytes));
    h.q().store_2d(acc_base, isa::MemoryType::kOut, bufs.back(), 0, count, 1, count);
    if (byte < 3) h.q().dep_push(Stage::kStore, Stage::kCompute);
  }
  return bufs;
}

inline std::vector<int32_t> decode_acc_bytes(Harness& h, const std::vector<driver::DeviceBuffer>& bufs,
                                             uint32_t count) {
  const size_t lanes = size_t{count} * h.geo().acc_lanes;
  std::vector<uint32_t> v(lanes, 0);
  for (size_t byte = 0; byte < 4; ++byte) {
    const std::vector<uint8_t> b = h.read<uint8_t>(bufs[byte], lanes);
    for (size_t i = 0; i < lanes; ++i) v[i] |= uint32_t{b[i]} << (8 * byte);
  }
  std::vector<int32_t> out(lanes);
  for (size_t i = 0; i < lanes; ++i) out[i] = static_cast<int32_t>(v[i]);
  return out;
}

inline size_t count_load_uop(const std::vector<isa::Instruction>& insns) {
  size_t n = 0;
  for (const auto& insn : insns) {
    if (const auto* m = std::get_if<isa::MemInsn>(&insn)) {
      if (m->opcode == isa::Opcode::kLoad && m->memory_type == isa::MemoryType::kUop && m->x_size > 0) ++n;
    }
  }
  return n;
}

inline bool contains_ci(std::string haystack, std::string needle) {
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  return lower(std::move(haystack)).find(lower(std::move(needle))) != std::string::npos;
}

}  // namespace vta::rtest
