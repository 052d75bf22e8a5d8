// The GEMM workload lowered to a Program through the conv2d emitter: C = A · B is the 1x1 conv2d of
// BATCH images of M / BATCH x 1 pixels (row r * BATCH + b of A is image b's pixel r) with K input and N
// output channels, so it gets conv2d's tiling by estimated time (weights resident or streamed in slices,
// rotating slots, the last tile in chunks, tiles zeroed on the ALU engine) instead of a tiling of its own.
#include "vta/compiler/gemm.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "conv_lowering.h"
#include "vta/compiler/conv2d.h"
#include "vta/compiler/packing.h"
#include "vta/compiler/tiling.h"
#include "vta/isa/error.h"
#include "vta/runtime/program_builder.h"
#include "vta/runtime/uop_kernel.h"

namespace vta::compiler {
namespace {

using isa::MemoryType;
using runtime::Stage;

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

// The GEMM as the conv2d the core runs (see the file comment).
Conv2dShape gemm_conv_shape(const isa::HwConfig& config, const GemmShape& shape) {
  Conv2dShape s;
  s.n = config.batch();
  s.c = shape.k;
  s.h = s.oh = shape.m / config.batch();
  s.w = s.ow = 1;
  s.o = shape.n;
  s.kh = s.kw = 1;
  return s;
}

ConvProblem gemm_problem(const isa::HwConfig& config, const GemmShape& shape, bool requantize) {
  check_supported(config, shape);
  ConvProblem p = make_conv_problem(gemm_conv_shape(config, shape), Conv2dParams{}, false, config);
  p.requantize = requantize;
  return p;
}

GemmTiling as_gemm_tiling(const Conv2dTiling& t) { return {t.out_rows, t.oc_blocks, t.ic_blocks}; }

}  // namespace

GemmTiling choose_gemm_tiling(const isa::HwConfig& config, const GemmShape& shape, bool requantize) {
  return as_gemm_tiling(choose_tiling(gemm_problem(config, shape, requantize), config));
}

CompiledGemm compile_gemm(const isa::HwConfig& config, const GemmShape& shape, std::span<const int8_t> b,
                          const std::optional<Requantize>& requant) {
  const ConvProblem p = gemm_problem(config, shape, requant.has_value());
  if (b.size() != uint64_t{shape.k} * shape.n) throw Error("B has the wrong number of elements");
  CompiledGemm out;
  out.conv_tiling = choose_tiling(p, config);  // with its predicted bytes and estimated cycles
  out.tiling = as_gemm_tiling(out.conv_tiling);

  // B (K x N) as the conv2d's (N, K, 1, 1) weight, packed in blocks.
  Tensor w(DType::kInt8, {shape.n, shape.k, 1, 1});
  int8_t* wd = w.data<int8_t>();
  for (uint32_t k = 0; k < shape.k; ++k)
    for (uint32_t n = 0; n < shape.n; ++n) wd[uint64_t{n} * shape.k + k] = b[uint64_t{k} * shape.n + n];
  const std::vector<int8_t> packed = pack_weights(w, config.block_out(), config.block_in());

  runtime::ProgramBuilder q(config);
  const uint64_t rows = shape.m / config.batch();
  detail::ConvBuffers buf;
  buf.inp = out.a = q.add_buffer("a", runtime::BufferRole::kInput,
                                 rows * (shape.k / config.block_in()) * config.inp().element_bytes);
  buf.wgt = q.add_constant("b", std::vector<uint8_t>(packed.begin(), packed.end()));
  buf.out = out.c = q.add_buffer("c", runtime::BufferRole::kOutput,
                                 rows * (shape.n / config.block_out()) * config.out().element_bytes);
  detail::emit_conv2d(q, p, out.conv_tiling, buf, requant.value_or(Requantize{}));
  out.program = q.finish();
  return out;
}

GemmRun gemm(runtime::Session& session, const GemmShape& shape, std::span<const int8_t> a, std::span<const int8_t> b,
             const std::optional<Requantize>& requant) {
  const auto start = std::chrono::steady_clock::now();
  const isa::HwConfig& config = session.config();
  const CompiledGemm compiled = compile_gemm(config, shape, b, requant);
  if (a.size() != uint64_t{shape.m} * shape.k) throw Error("A has the wrong number of elements");
  const uint32_t batch = config.batch(), bi = config.block_in(), bo = config.block_out();
  const uint32_t rows = shape.m / batch, nb = shape.n / bo, kb = shape.k / bi;
  const uint64_t inp_bytes = config.inp().element_bytes, out_bytes = config.out().element_bytes;

  // A -> the conv2d input [K/BI][rows] of BATCH x BLOCK_IN: element (ki, r) row b = A row r * BATCH + b.
  std::vector<uint8_t> packed_a(uint64_t{rows} * kb * inp_bytes);
  for (uint32_t ki = 0; ki < kb; ++ki)
    for (uint32_t r = 0; r < rows; ++r) {
      uint8_t* elem = packed_a.data() + (uint64_t{ki} * rows + r) * inp_bytes;
      for (uint32_t x = 0; x < batch; ++x)
        for (uint32_t i = 0; i < bi; ++i)
          elem[x * bi + i] = static_cast<uint8_t>(a[(uint64_t{r} * batch + x) * shape.k + uint64_t{ki} * bi + i]);
    }
  const auto loaded = session.load(compiled.program);
  loaded->write(compiled.a, packed_a.data(), packed_a.size());
  GemmRun result;
  result.stats = loaded->run();
  result.tiling = compiled.tiling;
  result.conv_tiling = compiled.conv_tiling;
  result.instructions = compiled.program.instructions.size();
  // C <- the conv2d output [N/BO][rows] of BATCH x BLOCK_OUT.
  const std::vector<uint8_t> packed_c = loaded->read(compiled.c);
  result.c.assign(uint64_t{shape.m} * shape.n, 0);
  for (uint32_t ni = 0; ni < nb; ++ni)
    for (uint32_t r = 0; r < rows; ++r) {
      const uint8_t* elem = packed_c.data() + (uint64_t{ni} * rows + r) * out_bytes;
      for (uint32_t x = 0; x < batch; ++x)
        for (uint32_t o = 0; o < bo; ++o)
          result.c[(uint64_t{r} * batch + x) * shape.n + uint64_t{ni} * bo + o] = static_cast<int8_t>(elem[x * bo + o]);
    }
  result.host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

runtime::Program compile_pipelined_gemm(const isa::HwConfig& cfg, const PipelinedGemm& w) {
  const uint32_t tm = w.tm, tn = w.tn, tk = w.tk, O = w.tiles, R = w.steps;
  const uint32_t inp_tile = tm * tk, wgt_tile = tn * tk, acc_tile = tm * tn;
  if (tm == 0 || tn == 0 || tk == 0 || O == 0 || R == 0) throw Error("pipelined GEMM: sizes must be positive");
  if (2 * inp_tile > cfg.inp().depth || 2 * wgt_tile > cfg.wgt().depth || 2 * acc_tile > cfg.acc().depth)
    throw Error("pipelined GEMM: the tiles do not fit this config's buffers twice");
  if (R % 2 != 0) throw Error("pipelined GEMM: the number of reduction steps must be even");
  const uint64_t ie = cfg.inp().element_bytes, we = cfg.wgt().element_bytes, oe = cfg.out().element_bytes;
  uint64_t x = 0x9e3779b97f4a7c15ull;
  const auto random_bytes = [&x](uint64_t n) {
    std::vector<uint8_t> v(n);
    for (auto& b : v) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b = static_cast<uint8_t>(x);
    }
    return v;
  };
  runtime::ProgramBuilder q(cfg);
  const runtime::BufferId a = q.add_constant("a", random_bytes(uint64_t{tm} * R * tk * ie));
  const runtime::BufferId wt = q.add_constant("w", random_bytes(uint64_t{O} * tn * R * tk * we));
  const runtime::BufferId c = q.add_buffer("c", runtime::BufferRole::kOutput, uint64_t{tm} * O * tn * oe);

  // Per (inp/wgt slot, acc slot) one kernel of tn micro-ops (n: acc n, wgt row n); the loops walk m
  // (outer: acc += tn, inp += tk) and k (inner: inp += 1, wgt += 1), so consecutive micro-ops write
  // different accumulators. The reset kernel shares its micro-ops (iterating m only).
  const auto kernel = [&](uint32_t slot, uint32_t acc_slot, bool reset) {
    runtime::UopKernelBuilder kb(runtime::KernelMode::kGemm, reset);
    kb.loop_begin(tm, tn, tk, 0);
    if (!reset) kb.loop_begin(tk, 0, 1, 1);
    for (uint32_t n = 0; n < tn; ++n) kb.push(acc_slot * acc_tile + n, slot * inp_tile, slot * wgt_tile + n * tk);
    if (!reset) kb.loop_end();
    return kb.loop_end().build();
  };
  const bool vt = w.virtual_threads;
  const uint32_t total = O * R;
  for (uint32_t o = 0; o < O; ++o) {
    const uint32_t acc_slot = o % 2;
    for (uint32_t r = 0; r < R; ++r) {
      const uint32_t s = o * R + r, slot = s % 2;
      const bool last = r + 1 == R;
      // Load: the slot is free (two threads) / the previous step is done (serialized).
      if (vt ? s >= 2 : s >= 1) q.dep_pop(Stage::kCompute, Stage::kLoad);
      q.load_2d(a, uint64_t{r} * tk, tk, tm, R * tk, 0, 0, 0, 0, slot * inp_tile, MemoryType::kInp);
      q.load_2d(wt, uint64_t{o} * tn * R * tk + uint64_t{r} * tk, tk, tn, R * tk, 0, 0, 0, 0, slot * wgt_tile,
                MemoryType::kWgt);
      q.dep_push(Stage::kLoad, Stage::kCompute);
      // Compute: reset the ACC tile first (once the store of tile o - 2, same slot, is done).
      q.dep_pop(Stage::kLoad, Stage::kCompute);
      if (r == 0) {
        if (vt && o >= 2) q.dep_pop(Stage::kStore, Stage::kCompute);
        q.push_gemm(kernel(slot, acc_slot, true));
      }
      q.push_gemm(kernel(slot, acc_slot, false));
      if (vt ? s + 2 < total : !last && s + 1 < total) q.dep_push(Stage::kCompute, Stage::kLoad);
      if (!last) continue;
      q.dep_push(Stage::kCompute, Stage::kStore);
      q.dep_pop(Stage::kCompute, Stage::kStore);
      q.store_2d(acc_slot * acc_tile, MemoryType::kOut, c, uint64_t{o} * tn, tn, tm, O * tn);
      if (vt ? o + 2 < O : o + 1 < O) q.dep_push(Stage::kStore, Stage::kCompute);
      if (!vt && o + 1 < O) {  // serialized: compute waits for the store, then lets the next load go
        q.dep_pop(Stage::kStore, Stage::kCompute);
        q.dep_push(Stage::kCompute, Stage::kLoad);
      }
    }
  }
  return q.finish();
}

}  // namespace vta::compiler
