// The GEMM workload lowered to a Program: tiles of tm x tn output blocks, reduction in tk-block steps,
// double-buffered with tokens (two virtual threads, see gemm.h): INP/WGT in two slots, so the load of step
// s + 1 overlaps the GEMM of step s, and the ACC in two slots, so the store of one output tile overlaps the
// next tile's GEMMs.
#include "vta/compiler/gemm.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include <fmt/format.h>

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

  // Each buffer holds two slots (double buffering). Among the tilings whose tiles fit a slot, the one that
  // moves the fewest DRAM bytes: A is loaded once per column tile (nb / tn times), B once per row tile
  // (mb / tm times); ties go to the deeper reduction (fewer, longer GEMM instructions).
  const uint64_t inp_slot = inp_depth / 2, wgt_slot = wgt_depth / 2, acc_slot = acc_depth / 2;
  constexpr uint32_t kMaxIter = (1u << isa::FixedFieldWidths::kLoopIter) - 1;
  const auto divisors = [](uint32_t n) {
    std::vector<uint32_t> d;
    for (uint32_t i = 1; i <= n; ++i)
      if (n % i == 0) d.push_back(i);
    return d;
  };
  const uint64_t a_bytes = uint64_t{mb} * kb * config.inp().element_bytes;
  const uint64_t b_bytes = uint64_t{nb} * kb * config.wgt().element_bytes;
  const std::vector<uint32_t> tks = divisors(kb), tns = divisors(nb), tms = divisors(mb);
  GemmTiling t{0, 0, 0};
  uint64_t best = ~uint64_t{0};
  for (uint32_t tk : tks) {
    if (tk > kMaxIter || tk > std::min(inp_slot, wgt_slot)) continue;
    // The micro-op kernels: GEMM per (INP/WGT slot, ACC slot), a reset and three ALU steps per ACC slot.
    for (uint32_t tn : tns) {
      if (uint64_t{tn} * tk > wgt_slot || tn > acc_slot || tn > uop_depth / 12) continue;
      for (uint32_t tm : tms) {
        if (tm > kMaxIter || uint64_t{tm} * tk > inp_slot || uint64_t{tm} * tn > acc_slot) continue;
        const uint64_t bytes = a_bytes * (nb / tn) + b_bytes * (mb / tm);
        if (bytes < best || (bytes == best && tk > t.tk)) {
          best = bytes;
          t = {tm, tn, tk};
        }
      }
    }
  }
  if (t.tm == 0) throw Error("buffers too small for one GEMM tile");
  return t;
}

CompiledGemm compile_gemm(const isa::HwConfig& config, const GemmShape& shape, std::span<const int8_t> b,
                          const std::optional<Requantize>& requant) {
  CompiledGemm out;
  out.tiling = choose_gemm_tiling(config, shape);
  if (b.size() != uint64_t{shape.k} * shape.n) throw Error("B has the wrong number of elements");
  const uint32_t bi = config.block_in(), bo = config.block_out();
  const uint32_t mb = shape.m / config.batch(), nb = shape.n / bo, kb = shape.k / bi;
  const uint64_t wgt_bytes = config.wgt().element_bytes;  // bo * bi
  const auto [tm, tn, tk] = out.tiling;

  // B -> [nb][kb] elements of BLOCK_OUT x BLOCK_IN, element[o][i] = B[k = ki*bi + i][n = ni*bo + o].
  std::vector<uint8_t> packed_b(uint64_t{nb} * kb * wgt_bytes);
  for (uint32_t ni = 0; ni < nb; ++ni)
    for (uint32_t ki = 0; ki < kb; ++ki) {
      uint8_t* elem = packed_b.data() + (uint64_t{ni} * kb + ki) * wgt_bytes;
      for (uint32_t o = 0; o < bo; ++o)
        for (uint32_t i = 0; i < bi; ++i)
          elem[o * bi + i] = static_cast<uint8_t>(b[(uint64_t{ki} * bi + i) * shape.n + uint64_t{ni} * bo + o]);
    }

  runtime::ProgramBuilder q(config);
  out.a = q.add_buffer("a", runtime::BufferRole::kInput, uint64_t{mb} * kb * config.inp().element_bytes);
  const runtime::BufferId w = q.add_constant("b", std::move(packed_b));
  out.c = q.add_buffer("c", runtime::BufferRole::kOutput, uint64_t{mb} * nb * config.out().element_bytes);

  // Kernels per slot (all tiles have the same size). INP slot i holds tm x tk elements at i * inp_tile,
  // WGT slot i tn x tk at i * wgt_tile, ACC slot j tm x tn at the start of ACC half j (the core's ACC
  // banks: one tile's requantization runs beside the next tile's GEMMs). Within a slot: ACC index
  // = row * tn + col; INP index = row * tk + kk; WGT index = col * tk + kk. Output columns are the micro-ops
  // (innermost), so consecutive micro-ops never hit the same accumulator; rows and the reduction are the
  // two affine loops.
  const uint32_t inp_tile = tm * tk, wgt_tile = tn * tk, acc_half = config.acc().depth / 2;
  const auto reset_kernel = [&](uint32_t acc_slot) {
    runtime::UopKernelBuilder kernel(runtime::KernelMode::kGemm, /*reset=*/true);
    kernel.loop_begin(tm, tn, 0, 0).loop_begin(tn, 1, 0, 0);  // one micro-op: groups of rows
    kernel.push(acc_slot * acc_half, 0, 0);
    return kernel.loop_end().loop_end().build();
  };
  const auto gemm_kernel = [&](uint32_t slot, uint32_t acc_slot) {
    runtime::UopKernelBuilder kernel(runtime::KernelMode::kGemm);
    kernel.loop_begin(tm, tn, tk, 0).loop_begin(tk, 0, 1, 1);
    for (uint32_t col = 0; col < tn; ++col) kernel.push(acc_slot * acc_half + col, slot * inp_tile, slot * wgt_tile + col * tk);
    return kernel.loop_end().loop_end().build();
  };
  const auto alu_kernels = [&](uint32_t acc_slot) {
    std::vector<runtime::UopKernel> kernels;
    if (!requant) return kernels;
    const std::pair<isa::AluOpcode, int32_t> steps[] = {
        {isa::AluOpcode::kShr, requant->shift},
        {isa::AluOpcode::kMin, requant->clip_hi},
        {isa::AluOpcode::kMax, requant->lo()},
    };
    for (const auto& [op, imm] : steps) {
      // one micro-op over the tile's rows and columns (the core takes it a group of rows at a time)
      runtime::UopKernelBuilder kernel(runtime::KernelMode::kAlu);
      kernel.loop_begin(tm, tn, tn, 0).loop_begin(tn, 1, 1, 0);
      kernel.push(acc_slot * acc_half, acc_slot * acc_half);
      kernel.loop_end().loop_end();
      kernel.alu(op, /*use_imm=*/true, imm);
      kernels.push_back(kernel.build());
    }
    return kernels;
  };

  // Two virtual threads: step s (one load of INP and WGT, one GEMM) uses slot s % 2, tile t ACC slot
  // t % 2. A load waits for the GEMM two steps back (its slot's last reader); a tile's reset waits for the
  // store two tiles back (its ACC slot's last reader).
  const uint32_t m_tiles = mb / tm, n_tiles = nb / tn, k_tiles = kb / tk;
  const uint64_t total_tiles = uint64_t{m_tiles} * n_tiles;
  const uint64_t total_steps = total_tiles * k_tiles;
  uint64_t tile_index = 0, step = 0;
  for (uint32_t mt = 0; mt < m_tiles; ++mt) {
    for (uint32_t nt = 0; nt < n_tiles; ++nt, ++tile_index) {
      const uint32_t m0 = mt * tm, n0 = nt * tn;
      const uint32_t acc_slot = static_cast<uint32_t>(tile_index % 2);
      for (uint32_t kt = 0; kt < k_tiles; ++kt, ++step) {
        const uint32_t k0 = kt * tk, slot = static_cast<uint32_t>(step % 2);
        if (step >= 2) q.dep_pop(Stage::kCompute, Stage::kLoad);
        q.load_2d(out.a, uint64_t{m0} * kb + k0, tk, tm, kb, 0, 0, 0, 0, slot * inp_tile, MemoryType::kInp);
        q.load_2d(w, uint64_t{n0} * kb + k0, tk, tn, kb, 0, 0, 0, 0, slot * wgt_tile, MemoryType::kWgt);
        q.dep_push(Stage::kLoad, Stage::kCompute);
        q.dep_pop(Stage::kLoad, Stage::kCompute);
        if (kt == 0) {
          if (tile_index >= 2) q.dep_pop(Stage::kStore, Stage::kCompute);
          q.push_gemm(reset_kernel(acc_slot));
        }
        q.push_gemm(gemm_kernel(slot, acc_slot));
        if (step + 2 < total_steps) q.dep_push(Stage::kCompute, Stage::kLoad);
      }
      for (const auto& kernel : alu_kernels(acc_slot)) q.push_alu(kernel);
      q.dep_push(Stage::kCompute, Stage::kStore);
      q.dep_pop(Stage::kCompute, Stage::kStore);
      q.store_2d(acc_slot * acc_half, MemoryType::kOut, out.c, uint64_t{m0} * nb + n0, tn, tm, nb);
      if (tile_index + 2 < total_tiles) q.dep_push(Stage::kStore, Stage::kCompute);
    }
  }
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
  const uint32_t mb = shape.m / batch, nb = shape.n / bo, kb = shape.k / bi;
  const uint64_t inp_bytes = config.inp().element_bytes, out_bytes = config.out().element_bytes;

  // A -> [mb][kb] elements of BATCH x BLOCK_IN.
  std::vector<uint8_t> packed_a(uint64_t{mb} * kb * inp_bytes);
  for (uint32_t mi = 0; mi < mb; ++mi)
    for (uint32_t ki = 0; ki < kb; ++ki) {
      uint8_t* elem = packed_a.data() + (uint64_t{mi} * kb + ki) * inp_bytes;
      for (uint32_t r = 0; r < batch; ++r)
        for (uint32_t i = 0; i < bi; ++i)
          elem[r * bi + i] = static_cast<uint8_t>(a[(uint64_t{mi} * batch + r) * shape.k + uint64_t{ki} * bi + i]);
    }
  const auto loaded = session.load(compiled.program);
  loaded->write(compiled.a, packed_a.data(), packed_a.size());
  GemmRun result;
  result.stats = loaded->run();
  result.tiling = compiled.tiling;
  result.instructions = compiled.program.instructions.size();
  const std::vector<uint8_t> packed_c = loaded->read(compiled.c);
  result.c.assign(uint64_t{shape.m} * shape.n, 0);
  for (uint32_t mi = 0; mi < mb; ++mi)
    for (uint32_t ni = 0; ni < nb; ++ni) {
      const uint8_t* elem = packed_c.data() + (uint64_t{mi} * nb + ni) * out_bytes;
      for (uint32_t r = 0; r < batch; ++r)
        for (uint32_t o = 0; o < bo; ++o)
          result.c[(uint64_t{mi} * batch + r) * shape.n + uint64_t{ni} * bo + o] = static_cast<int8_t>(elem[r * bo + o]);
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
