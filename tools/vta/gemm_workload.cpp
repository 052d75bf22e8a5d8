#include "gemm_workload.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "vta/isa/error.h"
#include "vta/runtime/command_queue.h"
#include "vta/runtime/uop_kernel.h"

namespace vta::tools {
namespace {

using isa::MemoryType;
using runtime::Stage;

// Forwards everything to the real device and keeps the RunResult of the last run, which the command
// queue does not hand back (it returns only the counters).
class RunCapturingDevice final : public driver::Device {
 public:
  explicit RunCapturingDevice(driver::Device& inner) : inner_(inner) {}

  std::string name() const override { return inner_.name(); }
  const isa::HwConfig& config() const override { return inner_.config(); }
  driver::DeviceBuffer allocate(uint64_t bytes, uint64_t alignment) override {
    return inner_.allocate(bytes, alignment);
  }
  driver::DeviceBuffer map_at(uint64_t device_address, uint64_t bytes) override {
    return inner_.map_at(device_address, bytes);
  }
  void free(const driver::DeviceBuffer& buffer) override { inner_.free(buffer); }
  std::vector<driver::DeviceBuffer> buffers() const override { return inner_.buffers(); }
  void flush(const driver::DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) override {
    inner_.flush(buffer, offset, bytes);
  }
  void invalidate(const driver::DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) override {
    inner_.invalidate(buffer, offset, bytes);
  }
  void write_register(uint32_t offset, uint32_t value) override { inner_.write_register(offset, value); }
  uint32_t read_register(uint32_t offset) override { return inner_.read_register(offset); }
  driver::RunResult run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) override {
    last_run_ = inner_.run(insn_address, insn_count, timeout);
    last_insn_count_ = insn_count;
    ++runs_;
    return last_run_;
  }
  isa::ExecutionCounters counters() const override { return inner_.counters(); }

  const driver::RunResult& last_run() const { return last_run_; }
  uint32_t last_insn_count() const { return last_insn_count_; }
  int runs() const { return runs_; }

 private:
  driver::Device& inner_;
  driver::RunResult last_run_;
  uint32_t last_insn_count_ = 0;
  int runs_ = 0;
};

// Frees device buffers on every exit path.
class BufferGuard {
 public:
  BufferGuard(driver::Device& device, uint64_t bytes) : device_(device), buffer_(device.allocate(bytes, 64)) {}
  ~BufferGuard() {
    try {
      device_.free(buffer_);
    } catch (...) {
      // A failing free must not mask the error that is already unwinding.
    }
  }
  BufferGuard(const BufferGuard&) = delete;
  BufferGuard& operator=(const BufferGuard&) = delete;
  const driver::DeviceBuffer& get() const { return buffer_; }

 private:
  driver::Device& device_;
  driver::DeviceBuffer buffer_;
};

uint32_t largest_divisor_at_most(uint32_t n, uint64_t bound) {
  for (uint32_t d = static_cast<uint32_t>(std::min<uint64_t>(n, bound)); d >= 1; --d) {
    if (n % d == 0) return d;
  }
  return 0;
}

void check_supported(const isa::HwConfig& config, const GemmShape& shape) {
  if (config.inp_width() != 8 || config.wgt_width() != 8 || config.acc_width() != 32) {
    throw Error(fmt::format("the GEMM workload needs int8 inputs/weights and int32 accumulators; config {} has "
                            "{}-bit inputs, {}-bit weights, {}-bit accumulators",
                            config.name(), config.inp_width(), config.wgt_width(), config.acc_width()));
  }
  if (shape.m == 0 || shape.n == 0 || shape.k == 0) throw Error("GEMM dimensions must be positive");
  if (shape.m % config.batch() != 0)
    throw Error(fmt::format("M={} is not a multiple of BATCH={}", shape.m, config.batch()));
  if (shape.k % config.block_in() != 0)
    throw Error(fmt::format("K={} is not a multiple of BLOCK_IN={}", shape.k, config.block_in()));
  if (shape.n % config.block_out() != 0)
    throw Error(fmt::format("N={} is not a multiple of BLOCK_OUT={}", shape.n, config.block_out()));
}

int32_t requantize(int32_t acc, const Requantize& r) {
  // Arithmetic shift, negative amounts shift left (the ALU's SHR rule); wraps like a 32-bit register.
  int32_t v;
  if (r.shift >= 0) {
    v = acc >> std::min(r.shift, 31);
  } else {
    v = static_cast<int32_t>(static_cast<uint32_t>(acc) << std::min(-r.shift, 31));
  }
  v = std::min(v, r.hi);
  v = std::max(v, r.lo);
  return v;
}

}  // namespace

GemmTiling choose_gemm_tiling(const isa::HwConfig& config, const GemmShape& shape) {
  check_supported(config, shape);
  const uint32_t mb = shape.m / config.batch();
  const uint32_t nb = shape.n / config.block_out();
  const uint32_t kb = shape.k / config.block_in();
  const uint64_t inp_depth = config.inp().depth;
  const uint64_t wgt_depth = config.wgt().depth;
  const uint64_t acc_depth = config.acc().depth;
  const uint64_t uop_depth = config.uop().depth;

  GemmTiling t;
  // Reduction depth first (longest GEMM per load), then output columns (weight reuse), then rows.
  t.tk = largest_divisor_at_most(kb, std::min(inp_depth, wgt_depth));
  if (t.tk == 0) throw Error("buffers too small for one GEMM tile");
  t.tn = largest_divisor_at_most(nb, std::min({wgt_depth / t.tk, acc_depth, uop_depth}));
  if (t.tn == 0) throw Error("buffers too small for one GEMM tile");
  t.tm = largest_divisor_at_most(mb, std::min(inp_depth / t.tk, acc_depth / t.tn));
  if (t.tm == 0) throw Error("buffers too small for one GEMM tile");
  // The loop extents must fit the 14-bit iteration fields.
  constexpr uint32_t kMaxIter = (1u << isa::FixedFieldWidths::kLoopIter) - 1;
  if (t.tm > kMaxIter) t.tm = largest_divisor_at_most(mb, kMaxIter);
  if (t.tk > kMaxIter) t.tk = largest_divisor_at_most(kb, kMaxIter);
  return t;
}

GemmDeviceRun run_gemm_on_device(driver::Device& device, const GemmShape& shape, std::span<const int8_t> a,
                                 std::span<const int8_t> b, const std::optional<Requantize>& requant) {
  const auto host_start = std::chrono::steady_clock::now();
  const isa::HwConfig& config = device.config();
  GemmDeviceRun result;
  result.tiling = choose_gemm_tiling(config, shape);
  if (a.size() != uint64_t{shape.m} * shape.k) throw Error("A has the wrong number of elements");
  if (b.size() != uint64_t{shape.k} * shape.n) throw Error("B has the wrong number of elements");

  const uint32_t batch = config.batch();
  const uint32_t bi = config.block_in();
  const uint32_t bo = config.block_out();
  const uint32_t mb = shape.m / batch;
  const uint32_t nb = shape.n / bo;
  const uint32_t kb = shape.k / bi;
  const uint64_t inp_bytes = config.inp().element_bytes;  // batch * bi
  const uint64_t wgt_bytes = config.wgt().element_bytes;  // bo * bi
  const uint64_t out_bytes = config.out().element_bytes;  // batch * bo
  const auto [tm, tn, tk] = result.tiling;

  RunCapturingDevice dev(device);
  BufferGuard a_buf(dev, uint64_t{mb} * kb * inp_bytes);
  BufferGuard w_buf(dev, uint64_t{nb} * kb * wgt_bytes);
  BufferGuard c_buf(dev, uint64_t{mb} * nb * out_bytes);

  // A -> [mb][kb] elements of BATCH x BLOCK_IN.
  {
    uint8_t* dst = a_buf.get().host;
    for (uint32_t mi = 0; mi < mb; ++mi)
      for (uint32_t ki = 0; ki < kb; ++ki) {
        uint8_t* elem = dst + (uint64_t{mi} * kb + ki) * inp_bytes;
        for (uint32_t r = 0; r < batch; ++r)
          for (uint32_t i = 0; i < bi; ++i)
            elem[r * bi + i] = static_cast<uint8_t>(a[(uint64_t{mi} * batch + r) * shape.k + uint64_t{ki} * bi + i]);
      }
  }
  // B -> [nb][kb] elements of BLOCK_OUT x BLOCK_IN, element[o][i] = B[k = ki*bi + i][n = ni*bo + o].
  {
    uint8_t* dst = w_buf.get().host;
    for (uint32_t ni = 0; ni < nb; ++ni)
      for (uint32_t ki = 0; ki < kb; ++ki) {
        uint8_t* elem = dst + (uint64_t{ni} * kb + ki) * wgt_bytes;
        for (uint32_t o = 0; o < bo; ++o)
          for (uint32_t i = 0; i < bi; ++i)
            elem[o * bi + i] = static_cast<uint8_t>(b[(uint64_t{ki} * bi + i) * shape.n + uint64_t{ni} * bo + o]);
      }
  }
  dev.flush(a_buf.get(), 0, a_buf.get().size);
  dev.flush(w_buf.get(), 0, w_buf.get().size);

  // Kernels (same for every tile: all tiles have the same size).
  // ACC tile index = row * tn + col; INP tile index = row * tk + kk; WGT tile index = col * tk + kk.
  runtime::UopKernel reset_kernel;
  {
    runtime::UopKernelBuilder kb_reset(runtime::KernelMode::kGemm, /*reset=*/true);
    kb_reset.loop_begin(tm, tn, 0, 0);
    for (uint32_t col = 0; col < tn; ++col) kb_reset.push(col, 0, 0);
    kb_reset.loop_end();
    reset_kernel = kb_reset.build();
  }
  runtime::UopKernel gemm_kernel;
  {
    // Output columns are the micro-ops (innermost), so consecutive micro-ops never hit the same
    // accumulator; rows and the reduction are the two affine loops.
    runtime::UopKernelBuilder kb_gemm(runtime::KernelMode::kGemm);
    kb_gemm.loop_begin(tm, tn, tk, 0);
    kb_gemm.loop_begin(tk, 0, 1, 1);
    for (uint32_t col = 0; col < tn; ++col) kb_gemm.push(col, 0, col * tk);
    kb_gemm.loop_end();
    kb_gemm.loop_end();
    gemm_kernel = kb_gemm.build();
  }
  std::vector<runtime::UopKernel> alu_kernels;
  if (requant) {
    const std::pair<isa::AluOpcode, int32_t> steps[] = {
        {isa::AluOpcode::kShr, requant->shift},
        {isa::AluOpcode::kMin, requant->hi},
        {isa::AluOpcode::kMax, requant->lo},
    };
    for (const auto& [op, imm] : steps) {
      runtime::UopKernelBuilder kb_alu(runtime::KernelMode::kAlu);
      kb_alu.loop_begin(tm, tn, tn, 0);
      for (uint32_t col = 0; col < tn; ++col) kb_alu.push(col, col);
      kb_alu.loop_end();
      kb_alu.alu(op, /*use_imm=*/true, imm);
      alu_kernels.push_back(kb_alu.build());
    }
  }

  runtime::CommandQueue queue(dev);
  const uint32_t m_tiles = mb / tm, n_tiles = nb / tn, k_tiles = kb / tk;
  const uint64_t total_tiles = uint64_t{m_tiles} * n_tiles;
  uint64_t tile_index = 0;
  uint64_t gemm_index = 0;
  const uint64_t total_gemms = total_tiles * k_tiles;
  for (uint32_t mt = 0; mt < m_tiles; ++mt) {
    for (uint32_t nt = 0; nt < n_tiles; ++nt, ++tile_index) {
      const uint32_t m0 = mt * tm, n0 = nt * tn;
      // The accumulators may be overwritten only once the previous tile has been stored.
      if (tile_index > 0) queue.dep_pop(Stage::kStore, Stage::kCompute);
      queue.push_gemm(reset_kernel);
      for (uint32_t kt = 0; kt < k_tiles; ++kt, ++gemm_index) {
        const uint32_t k0 = kt * tk;
        // The load may overwrite INP/WGT only after the previous GEMM has consumed them.
        if (gemm_index > 0) queue.dep_pop(Stage::kCompute, Stage::kLoad);
        queue.load_2d(a_buf.get(), uint64_t{m0} * kb + k0, tk, tm, kb, 0, 0, 0, 0, 0, MemoryType::kInp);
        queue.load_2d(w_buf.get(), uint64_t{n0} * kb + k0, tk, tn, kb, 0, 0, 0, 0, 0, MemoryType::kWgt);
        queue.dep_push(Stage::kLoad, Stage::kCompute);
        queue.dep_pop(Stage::kLoad, Stage::kCompute);
        queue.push_gemm(gemm_kernel);
        if (gemm_index + 1 < total_gemms) queue.dep_push(Stage::kCompute, Stage::kLoad);
      }
      for (const auto& kernel : alu_kernels) queue.push_alu(kernel);
      queue.dep_push(Stage::kCompute, Stage::kStore);
      queue.dep_pop(Stage::kCompute, Stage::kStore);
      queue.store_2d(0, MemoryType::kOut, c_buf.get(), uint64_t{m0} * nb + n0, tn, tm, nb);
      if (tile_index + 1 < total_tiles) queue.dep_push(Stage::kStore, Stage::kCompute);
    }
  }
  queue.synchronize();
  if (dev.runs() == 0) throw Error("the command queue did not run the program on the device");
  result.run = dev.last_run();
  result.instructions = dev.last_insn_count();

  dev.invalidate(c_buf.get(), 0, c_buf.get().size);
  result.c.assign(uint64_t{shape.m} * shape.n, 0);
  const uint8_t* src = c_buf.get().host;
  for (uint32_t mi = 0; mi < mb; ++mi)
    for (uint32_t ni = 0; ni < nb; ++ni) {
      const uint8_t* elem = src + (uint64_t{mi} * nb + ni) * out_bytes;
      for (uint32_t r = 0; r < batch; ++r)
        for (uint32_t o = 0; o < bo; ++o)
          result.c[(uint64_t{mi} * batch + r) * shape.n + uint64_t{ni} * bo + o] =
              static_cast<int8_t>(elem[r * bo + o]);
    }
  result.host_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - host_start).count();
  return result;
}

std::vector<int8_t> cpu_gemm_reference(const GemmShape& shape, std::span<const int8_t> a,
                                       std::span<const int8_t> b, const std::optional<Requantize>& requant) {
  std::vector<int8_t> c(uint64_t{shape.m} * shape.n);
  for (uint32_t i = 0; i < shape.m; ++i) {
    for (uint32_t j = 0; j < shape.n; ++j) {
      int64_t sum = 0;
      for (uint32_t p = 0; p < shape.k; ++p) {
        sum += int32_t{a[uint64_t{i} * shape.k + p]} * int32_t{b[uint64_t{p} * shape.n + j]};
      }
      // The accumulator is a 32-bit register: keep the sum modulo 2^32.
      const int32_t acc = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(sum)));
      const int32_t v = requant ? requantize(acc, *requant) : acc;
      c[uint64_t{i} * shape.n + j] = static_cast<int8_t>(static_cast<uint8_t>(static_cast<uint32_t>(v) & 0xffu));
    }
  }
  return c;
}

std::vector<int8_t> random_int8(size_t count, uint64_t seed, int lo, int hi) {
  std::vector<int8_t> out(count);
  uint64_t state = seed;
  const uint64_t span = static_cast<uint64_t>(hi - lo + 1);
  for (auto& v : out) {
    // splitmix64
    state += 0x9e3779b97f4a7c15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    v = static_cast<int8_t>(lo + static_cast<int>(z % span));
  }
  return out;
}

}  // namespace vta::tools
