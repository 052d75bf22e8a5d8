// 2-D max pooling on the core (see eltwise.h): INP load -> identity GEMM into ACC -> one ALU MAX per
// kernel tap over the output rectangle whose tap reads real pixels -> STORE. Two virtual threads: tile
// t uses the INP/ACC halves t % 2, with the same token discipline as conv2d.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "isa_limits.h"
#include "vta/compiler/compiled_op.h"
#include "vta/runtime/program_builder.h"
#include "vta/compiler/eltwise.h"
#include "vta/runtime/uop_kernel.h"

namespace vta::compiler {

using isa::AluOpcode;
using isa::MemoryType;
using runtime::KernelMode;
using runtime::Stage;
using runtime::UopKernelBuilder;

namespace {
using detail::kMaxDim;
using detail::kMaxPad;
using detail::u32;
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
}  // namespace

MaxPoolShape check_max_pool2d(const Tensor& x, const MaxPoolParams& p) {
  if (x.dtype() != DType::kInt8) throw Error(fmt::format("maxpool: input must be int8, got {}", to_string(x.dtype())));
  return check_max_pool2d(x.shape(), p);
}

MaxPoolShape check_max_pool2d(const std::vector<int64_t>& x_shape, const MaxPoolParams& p) {
  const std::string xs = Tensor::shape_to_string(x_shape);
  if (x_shape.size() != 4) throw Error(fmt::format("maxpool: input must be 4-D NCHW, got shape {}", xs));
  if (p.kernel_h < 1 || p.kernel_w < 1) throw Error("maxpool: kernel must be at least 1x1");
  if (p.stride_h < 1 || p.stride_w < 1) throw Error("maxpool: stride must be >= 1");
  MaxPoolShape s;
  s.n = x_shape[0], s.c = x_shape[1], s.h = x_shape[2], s.w = x_shape[3];
  if (s.n < 1 || s.c < 1 || s.h < 1 || s.w < 1)
    throw Error(fmt::format("maxpool: input shape {} has an empty dimension", xs));
  const uint32_t pads[4][2] = {{p.pad_top, p.kernel_h}, {p.pad_bottom, p.kernel_h}, {p.pad_left, p.kernel_w},
                               {p.pad_right, p.kernel_w}};
  for (const auto& pk : pads) {
    if (pk[0] >= pk[1] || pk[0] > kMaxPad)
      throw Error(fmt::format("maxpool: padding {} is not supported for a {}x{} kernel (each pad must be smaller "
                              "than the kernel and at most {})",
                              pk[0], p.kernel_h, p.kernel_w, kMaxPad));
  }
  if (s.h + p.pad_top + p.pad_bottom < p.kernel_h || s.w + p.pad_left + p.pad_right < p.kernel_w)
    throw Error(fmt::format("maxpool: kernel {}x{} is larger than the padded input", p.kernel_h, p.kernel_w));
  if (s.h > kMaxDim || s.w > kMaxDim) throw Error(fmt::format("maxpool: input {} is too large", xs));
  s.oh = (s.h + p.pad_top + p.pad_bottom - p.kernel_h) / p.stride_h + 1;
  s.ow = (s.w + p.pad_left + p.pad_right - p.kernel_w) / p.stride_w + 1;
  return s;
}

CompiledOp compile_max_pool2d(const isa::HwConfig& cfg, const std::vector<int64_t>& x_shape, const MaxPoolParams& p) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const MaxPoolShape s = check_max_pool2d(x_shape, p);
  if (cfg.inp_width() != 8 || cfg.acc_width() != 32 || cfg.wgt_width() != 8)
    throw Error(fmt::format("maxpool: config {} needs 8-bit inp/wgt and 32-bit acc", cfg.name()));
  const uint32_t B = cfg.batch(), BI = cfg.block_in(), BO = cfg.block_out(), L = std::min(BI, BO);
  const uint32_t NB = u32((s.n + B - 1) / B), CB = u32((s.c + L - 1) / L);
  const uint32_t H = u32(s.h), W = u32(s.w), OH = u32(s.oh), OW = u32(s.ow);
  const uint32_t kh = p.kernel_h, kw = p.kernel_w, sh = p.stride_h, sw = p.stride_w;
  const uint32_t inp_half = cfg.inp().depth / 2, acc_half = cfg.acc().depth / 2;
  constexpr uint32_t kMaxLoop = (1u << isa::FixedFieldWidths::kLoopIter) - 1;

  // Tile: as many output columns as fit with one row, then as many rows as fit.
  auto fits = [&](uint32_t r, uint32_t c) {
    const uint64_t in = (uint64_t{r - 1} * sh + kh) * (uint64_t{c - 1} * sw + kw);
    return in <= inp_half && in + uint64_t{r} * c <= acc_half && (uint64_t{r - 1} * sh + kh) <= kMaxLoop &&
           (uint64_t{c - 1} * sw + kw) <= kMaxLoop;
  };
  if (!fits(1, 1))
    throw Error(fmt::format("maxpool: a {}x{} window does not fit half of the inp/acc buffers of config {}", kh, kw,
                            cfg.name()));
  uint32_t TC = OW;
  while (!fits(1, TC)) --TC;
  uint32_t TR = 1;
  while (TR < OH && fits(TR + 1, TC)) ++TR;

  // Weight = identity on L lanes; the input is packed [NB][CB][H][W][B][BI], L channels per block.
  const uint64_t inp_eb = cfg.inp().element_bytes, out_eb = cfg.out().element_bytes;
  std::vector<int8_t> ident(cfg.wgt().element_bytes, 0);
  for (uint32_t l = 0; l < L; ++l) ident[uint64_t{l} * BI + l] = 1;

  runtime::ProgramBuilder q(cfg);
  const runtime::BufferId ib =
      q.add_buffer("input", runtime::BufferRole::kInput, uint64_t{NB} * CB * H * W * inp_eb);
  const runtime::BufferId wb = q.add_constant("identity", std::vector<uint8_t>(ident.begin(), ident.end()));
  const uint64_t out_bytes = uint64_t{NB} * CB * OH * OW * out_eb;
  const runtime::BufferId ob = q.add_buffer("output", runtime::BufferRole::kOutput, out_bytes);

  const uint32_t n_r = (OH + TR - 1) / TR, n_c = (OW + TC - 1) / TC;
  const uint32_t T = NB * CB * n_r * n_c;
  auto loops2 = [](UopKernelBuilder& kb, uint32_t e0, uint32_t d0, uint32_t s0, uint32_t e1, uint32_t d1,
                   uint32_t s1) {
    int n = 0;
    if (e0 > 1) {
      kb.loop_begin(e0, d0, s0, 0);
      ++n;
    }
    if (e1 > 1) {
      kb.loop_begin(e1, d1, s1, 0);
      ++n;
    }
    return n;
  };
  uint32_t t = 0;
  uint64_t inp_bytes = 0;
  for (uint32_t nb = 0; nb < NB; ++nb)
    for (uint32_t cb = 0; cb < CB; ++cb)
      for (uint32_t ri = 0; ri < n_r; ++ri)
        for (uint32_t ci = 0; ci < n_c; ++ci, ++t) {
          const uint32_t oy0 = ri * TR, R = std::min(TR, OH - oy0), ox0 = ci * TC, C = std::min(TC, OW - ox0);
          const uint32_t IR = (R - 1) * sh + kh, IC = (C - 1) * sw + kw;
          const uint32_t inp_base = (t % 2) * inp_half, acc_in = (t % 2) * acc_half, acc_out = acc_in + IR * IC;
          // ---- load ----
          if (t >= 2) q.dep_pop(Stage::kCompute, Stage::kLoad);
          if (t == 0) q.load_2d(wb, 0, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kWgt);
          const int64_t r0 = int64_t{oy0} * sh - p.pad_top, r1 = r0 + IR;
          const int64_t c0 = int64_t{ox0} * sw - p.pad_left, c1 = c0 + IC;
          const int64_t rl = std::max<int64_t>(r0, 0), rh = std::min<int64_t>(r1, H);
          const int64_t cl = std::max<int64_t>(c0, 0), chi = std::min<int64_t>(c1, W);
          const uint64_t off = ((uint64_t{nb} * CB + cb) * H + uint64_t(rl)) * W + uint64_t(cl);
          q.load_2d(ib, off, u32(chi - cl), u32(rh - rl), W, u32(cl - c0), u32(rl - r0), u32(c1 - chi), u32(r1 - rh),
                    inp_base, MemoryType::kInp);
          inp_bytes += static_cast<uint64_t>((chi - cl) * (rh - rl)) * inp_eb;
          q.dep_push(Stage::kLoad, Stage::kCompute);
          // ---- compute ----
          if (t >= 2) q.dep_pop(Stage::kStore, Stage::kCompute);
          q.dep_pop(Stage::kLoad, Stage::kCompute);
          {
            UopKernelBuilder kb(KernelMode::kGemm, /*reset=*/true);  // clear the input copy
            const int n = loops2(kb, IR, IC, 0, IC, 1, 0);
            kb.push(acc_in, 0, 0);
            for (int i = 0; i < n; ++i) kb.loop_end();
            q.push_gemm(kb.build());
          }
          {
            UopKernelBuilder kb(KernelMode::kGemm);  // acc_in = inp x identity
            const int n = loops2(kb, IR, IC, IC, IC, 1, 1);
            kb.push(acc_in, inp_base, 0);
            for (int i = 0; i < n; ++i) kb.loop_end();
            q.push_gemm(kb.build());
          }
          {
            UopKernelBuilder kb(KernelMode::kGemm, /*reset=*/true);  // out = 0
            const int n = loops2(kb, R, C, 0, C, 1, 0);
            kb.push(acc_out, 0, 0);
            for (int i = 0; i < n; ++i) kb.loop_end();
            q.push_gemm(kb.build());
          }
          {
            UopKernelBuilder kb(KernelMode::kAlu);  // out = -128, below every int8 value
            kb.alu(AluOpcode::kAdd, true, -128);
            const int n = loops2(kb, R, C, C, C, 1, 1);
            kb.push(acc_out, acc_out, 0);
            for (int i = 0; i < n; ++i) kb.loop_end();
            q.push_alu(kb.build());
          }
          for (uint32_t ky = 0; ky < kh; ++ky) {
            // Output rows oy whose tap row oy*sh - pad_top + ky lies in [0, H).
            const int64_t ya = std::max<int64_t>(oy0, -floor_div(int64_t{ky} - p.pad_top, sh));
            const int64_t yb = std::min<int64_t>(oy0 + R, floor_div(int64_t{H} - 1 + p.pad_top - ky, sh) + 1);
            if (ya >= yb) continue;
            for (uint32_t kx = 0; kx < kw; ++kx) {
              const int64_t xa = std::max<int64_t>(ox0, -floor_div(int64_t{kx} - p.pad_left, sw));
              const int64_t xb = std::min<int64_t>(ox0 + C, floor_div(int64_t{W} - 1 + p.pad_left - kx, sw) + 1);
              if (xa >= xb) continue;
              const uint32_t ly = u32(ya - oy0), lx = u32(xa - ox0);
              UopKernelBuilder kb(KernelMode::kAlu);
              kb.alu(AluOpcode::kMax, false, 0);
              const int n = loops2(kb, u32(yb - ya), C, sh * IC, u32(xb - xa), 1, sw);
              kb.push(acc_out + ly * C + lx, acc_in + (ly * sh + ky) * IC + lx * sw + kx, 0);
              for (int i = 0; i < n; ++i) kb.loop_end();
              q.push_alu(kb.build());
            }
          }
          if (t + 2 < T) q.dep_push(Stage::kCompute, Stage::kLoad);
          q.dep_push(Stage::kCompute, Stage::kStore);
          // ---- store ----
          q.dep_pop(Stage::kCompute, Stage::kStore);
          q.store_2d(acc_out, MemoryType::kOut, ob, ((uint64_t{nb} * CB + cb) * OH + oy0) * OW + ox0, C, R, OW);
          if (t + 2 < T) q.dep_push(Stage::kStore, Stage::kCompute);
        }

  CompiledOp op;
  op.layout.kind = CoreOpKind::kMaxPool;
  op.layout.input_shape = x_shape;
  op.layout.output_shape = {s.n, s.c, s.oh, s.ow};
  op.layout.conv.n = s.n, op.layout.conv.c = s.c, op.layout.conv.h = s.h, op.layout.conv.w = s.w;
  op.layout.conv.oh = s.oh, op.layout.conv.ow = s.ow;
  op.tiling.oc_blocks = 1;
  op.tiling.ic_blocks = 1;
  op.tiling.out_rows = TR;
  op.tiling.out_cols = TC;
  op.tiling.cost.output_tiles = op.tiling.cost.steps = T;
  op.tiling.cost.out_bytes = out_bytes;
  op.tiling.cost.inp_bytes = inp_bytes;  // overlapping windows of adjacent tiles load their rows twice
  op.tiling.cost.wgt_bytes = cfg.wgt().element_bytes;
  op.tiling.cost.lower_bound_bytes = uint64_t{NB} * CB * H * W * inp_eb + out_bytes;
  op.program = q.finish();
  op.compile_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return op;
}

OpRun max_pool2d(runtime::Session& session, const Tensor& x, const MaxPoolParams& p) {
  check_max_pool2d(x, p);
  const CompiledOp op = compile_max_pool2d(session.config(), x.shape(), p);
  const Tensor* inputs[] = {&x};
  return run_compiled(session, op, inputs);
}

}  // namespace vta::compiler
