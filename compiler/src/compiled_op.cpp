// Host-side layout transforms of compiled operators, their JSON form, and running one on a Session.
#include "vta/compiler/compiled_op.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "conv_lowering.h"
#include "vta/compiler/packing.h"
#include "vta/isa/error.h"

namespace vta::compiler {

namespace {

// Lanes of one channel block that carry data when input and output blocks differ (add, maxpool).
int64_t lanes(const isa::HwConfig& cfg) { return std::min(cfg.block_in(), cfg.block_out()); }

// add: flat element f = (n * rows * cols + pos) * L + l of a and b sits at image n, channel l (a) / L + l
// (b), pixel pos of the conv2d input (B, 2L, rows, cols).
Tensor add_input(const CoreOpLayout& l, int64_t L, const Tensor& a, const Tensor& b) {
  const int64_t plane = l.conv.h * l.conv.w;
  Tensor x(DType::kInt8, {l.conv.n, 2 * L, l.conv.h, l.conv.w});
  const int8_t* pa = a.data<int8_t>();
  const int8_t* pb = b.data<int8_t>();
  int8_t* px = x.data<int8_t>();
  const auto S = static_cast<int64_t>(a.size());
  for (int64_t f = 0; f < S; ++f) {
    const int64_t lane = f % L, pos = (f / L) % plane, n = f / L / plane;
    px[(n * 2 * L + lane) * plane + pos] = pa[f];
    px[(n * 2 * L + L + lane) * plane + pos] = pb[f];
  }
  return x;
}

void check_inputs(const CoreOpLayout& l, std::span<const Tensor* const> inputs) {
  // A conv2d with a residual takes it as a second input (optional here: pack_op_input ignores it).
  const size_t want = l.kind == CoreOpKind::kAdd ? 2 : 1;
  if (inputs.size() != want && !(l.has_residual() && inputs.size() == 2)) {
    throw Error(fmt::format("{}: expected {} input(s), got {}", to_string(l.kind), want, inputs.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor* t = inputs[i];
    // A fused residual (the second input of a conv2d) has the output's shape.
    const std::vector<int64_t>& shape = l.has_residual() && i == 1 ? l.output_shape : l.input_shape;
    if (!t || t->dtype() != DType::kInt8 || t->shape() != shape) {
      throw Error(fmt::format("{}: {} must be int8 of shape {}, got {}", to_string(l.kind),
                              l.has_residual() && i == 1 ? "the residual" : "input", Tensor::shape_to_string(shape),
                              t ? std::string(to_string(t->dtype())) + " " + t->shape_string() : "none"));
    }
  }
}

}  // namespace

std::string_view to_string(CoreOpKind k) {
  switch (k) {
    case CoreOpKind::kConv2d: return "conv2d";
    case CoreOpKind::kDense: return "dense";
    case CoreOpKind::kAdd: return "add";
    case CoreOpKind::kMaxPool: return "maxpool";
  }
  return "?";
}

std::vector<int8_t> pack_op_input(const CoreOpLayout& l, const isa::HwConfig& cfg,
                                  std::span<const Tensor* const> inputs) {
  check_inputs(l, inputs);
  const uint32_t B = cfg.batch(), BI = cfg.block_in();
  const Tensor& x = *inputs[0];
  switch (l.kind) {
    case CoreOpKind::kConv2d:
      if (l.repack.direct()) return pack_activations(x, B, BI);
      return pack_activations(detail::repack_input(x, l.conv, l.params, l.repack), B, BI);
    case CoreOpKind::kDense: {
      // Row r * B + b of x becomes image b, pixel (r, 0): the batch lanes and the spatial loop share N.
      const int64_t n = l.input_shape[0], k = l.input_shape[1], rows = l.conv.h;
      Tensor xin(DType::kInt8, {l.conv.n, k, rows, 1});
      const int8_t* src = x.data<int8_t>();
      int8_t* dst = xin.data<int8_t>();
      for (int64_t i = 0; i < n; ++i) {
        const int64_t r = i / B, b = i % B;
        for (int64_t j = 0; j < k; ++j) dst[(b * k + j) * rows + r] = src[i * k + j];
      }
      return pack_activations(xin, B, BI);
    }
    case CoreOpKind::kAdd:
      return pack_activations(add_input(l, lanes(cfg), x, *inputs[1]), B, BI);
    case CoreOpKind::kMaxPool: {
      // [NB][CB][H][W][B][BI] with L channels per block.
      const int64_t L = lanes(cfg), N = l.conv.n, C = l.conv.c, H = l.conv.h, W = l.conv.w;
      const int64_t NB = (N + B - 1) / B, CB = (C + L - 1) / L;
      const uint64_t eb = cfg.inp().element_bytes;
      std::vector<int8_t> packed(static_cast<uint64_t>(NB * CB * H * W) * eb, 0);
      const int8_t* px = x.data<int8_t>();
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t y = 0; y < H; ++y)
            for (int64_t xx = 0; xx < W; ++xx) {
              const auto e = static_cast<uint64_t>((((n / B) * CB + c / L) * H + y) * W + xx);
              packed[e * eb + static_cast<uint64_t>((n % B) * BI + c % L)] = px[((n * C + c) * H + y) * W + xx];
            }
      return packed;
    }
  }
  throw Error("pack_op_input: unknown operator kind");
}

std::vector<int8_t> pack_op_residual(const CoreOpLayout& l, const isa::HwConfig& cfg, const Tensor& residual) {
  if (!l.has_residual()) throw Error(fmt::format("{}: the operator has no residual input", to_string(l.kind)));
  if (residual.dtype() != DType::kInt8 || residual.shape() != l.output_shape) {
    throw Error(fmt::format("{}: the residual must be int8 of shape {}, got {} {}", to_string(l.kind),
                            Tensor::shape_to_string(l.output_shape), to_string(residual.dtype()),
                            residual.shape_string()));
  }
  // The output's packed layout [N/B][O/BO][OH][OW][B][BO] (BLOCK_IN == BLOCK_OUT: INP elements).
  return pack_activations(residual, cfg.batch(), cfg.block_out());
}

Tensor unpack_op_output(const CoreOpLayout& l, const isa::HwConfig& cfg, const std::vector<int8_t>& bytes) {
  const uint32_t B = cfg.batch(), BO = cfg.block_out();
  switch (l.kind) {
    case CoreOpKind::kConv2d:
      return unpack_activations(bytes, l.conv.n, l.conv.o, l.conv.oh, l.conv.ow, B, BO);
    case CoreOpKind::kDense: {
      const int64_t n = l.output_shape[0], m = l.output_shape[1], rows = l.conv.oh;
      const Tensor out = unpack_activations(bytes, l.conv.n, m, rows, 1, B, BO);  // (B, M, rows, 1)
      Tensor y(DType::kInt8, {n, m});
      const int8_t* src = out.data<int8_t>();
      int8_t* dst = y.data<int8_t>();
      for (int64_t i = 0; i < n; ++i) {
        const int64_t r = i / B, b = i % B;
        for (int64_t j = 0; j < m; ++j) dst[i * m + j] = src[(b * m + j) * rows + r];
      }
      return y;
    }
    case CoreOpKind::kAdd: {
      const int64_t L = lanes(cfg), plane = l.conv.h * l.conv.w;
      const Tensor out = unpack_activations(bytes, l.conv.n, L, l.conv.h, l.conv.w, B, BO);  // (B, L, rows, cols)
      Tensor y(DType::kInt8, l.output_shape);
      const int8_t* py = out.data<int8_t>();
      int8_t* dst = y.data<int8_t>();
      const auto S = static_cast<int64_t>(y.size());
      for (int64_t f = 0; f < S; ++f) {
        const int64_t lane = f % L, pos = (f / L) % plane, n = f / L / plane;
        dst[f] = py[(n * L + lane) * plane + pos];
      }
      return y;
    }
    case CoreOpKind::kMaxPool: {
      const int64_t L = lanes(cfg), N = l.conv.n, C = l.conv.c, OH = l.conv.oh, OW = l.conv.ow;
      const int64_t CB = (C + L - 1) / L;
      const uint64_t eb = cfg.out().element_bytes;
      Tensor y(DType::kInt8, {N, C, OH, OW});
      int8_t* dst = y.data<int8_t>();
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t oy = 0; oy < OH; ++oy)
            for (int64_t ox = 0; ox < OW; ++ox) {
              const auto e = static_cast<uint64_t>((((n / B) * CB + c / L) * OH + oy) * OW + ox);
              dst[((n * C + c) * OH + oy) * OW + ox] = bytes.at(e * eb + static_cast<uint64_t>((n % B) * BO + c % L));
            }
      return y;
    }
  }
  throw Error("unpack_op_output: unknown operator kind");
}

OpRun run_compiled(runtime::Session& session, const CompiledOp& op, std::span<const Tensor* const> inputs) {
  const std::vector<int8_t> packed = pack_op_input(op.layout, session.config(), inputs);
  const runtime::BufferId in = op.program.find_buffer("input"), out = op.program.find_buffer("output");
  const auto t0 = std::chrono::steady_clock::now();
  const std::unique_ptr<runtime::LoadedProgram> loaded = session.load(op.program);
  loaded->write(in, packed.data(), packed.size());
  if (op.layout.has_residual()) {
    const std::vector<int8_t> res = pack_op_residual(op.layout, session.config(), *inputs[1]);
    loaded->write(op.program.find_buffer("residual"), res.data(), res.size());
  }
  const runtime::RunStats stats = loaded->run();
  std::vector<int8_t> bytes(op.program.buffers.at(out).bytes);
  loaded->read(out, bytes.data(), bytes.size());
  OpRun run;
  run.run_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  run.output = unpack_op_output(op.layout, session.config(), bytes);
  run.tiling = op.tiling;
  run.counters = stats.counters;
  run.device_seconds = stats.wall_seconds;
  run.instructions = op.program.instructions.size();
  run.kernel_cache_hits = op.program.kernel_cache_hits;
  run.kernel_cache_misses = op.program.kernel_cache_misses;
  run.compile_seconds = op.compile_seconds;
  return run;
}

// ---- JSON (packages) ----
nlohmann::json CoreOpLayout::to_json() const {
  const Conv2dShape& s = conv;
  const Conv2dParams& p = params;
  nlohmann::json j = {{"kind", to_string(kind)},
          {"input_shape", input_shape},
          {"output_shape", output_shape},
          {"conv", {s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.oh, s.ow}},
          {"params",
           {p.stride_h, p.stride_w, p.pad_top, p.pad_left, p.pad_bottom, p.pad_right, p.requant.shift,
            p.requant.relu ? 1 : 0, p.requant.clip_lo, p.requant.clip_hi}},
          {"repack", {repack.space_to_depth, repack.fold_kx ? 1 : 0, repack.fold_ky ? 1 : 0}}};
  if (!p.channel_shift.empty()) j["channel_shift"] = p.channel_shift;
  if (p.groups != 1) j["groups"] = p.groups;
  if (p.residual) {
    const ResidualAdd& r = *p.residual;
    j["residual"] = {r.shift_conv, r.shift_res, r.requant.shift, r.requant.relu ? 1 : 0, r.requant.clip_lo,
                     r.requant.clip_hi};
  }
  return j;
}

CoreOpLayout CoreOpLayout::from_json(const nlohmann::json& j) {
  try {
    CoreOpLayout l;
    const std::string kind = j.at("kind").get<std::string>();
    bool found = false;
    for (CoreOpKind k : {CoreOpKind::kConv2d, CoreOpKind::kDense, CoreOpKind::kAdd, CoreOpKind::kMaxPool}) {
      if (to_string(k) == kind) l.kind = k, found = true;
    }
    if (!found) throw Error(fmt::format("unknown core operator '{}'", kind));
    l.input_shape = j.at("input_shape").get<std::vector<int64_t>>();
    l.output_shape = j.at("output_shape").get<std::vector<int64_t>>();
    const auto c = j.at("conv").get<std::vector<int64_t>>();
    const auto p = j.at("params").get<std::vector<int64_t>>();
    const auto r = j.at("repack").get<std::vector<int64_t>>();
    if (c.size() != 9 || p.size() != 10 || r.size() != 3) throw Error("wrong field counts");
    for (int64_t v : c) {
      if (v < 0 || v > (int64_t{1} << 31)) throw Error("conv dimension out of range");
    }
    l.conv = Conv2dShape{c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]};
    const auto u = [](int64_t v) {
      if (v < 0 || v > 0xffff) throw Error("parameter out of range");
      return static_cast<uint32_t>(v);
    };
    l.params.stride_h = u(p[0]), l.params.stride_w = u(p[1]);
    l.params.pad_top = u(p[2]), l.params.pad_left = u(p[3]), l.params.pad_bottom = u(p[4]), l.params.pad_right = u(p[5]);
    l.params.requant.shift = static_cast<int32_t>(u(p[6]));
    l.params.requant.relu = p[7] != 0;
    l.params.requant.clip_lo = static_cast<int32_t>(std::clamp<int64_t>(p[8], -128, 127));
    l.params.requant.clip_hi = static_cast<int32_t>(std::clamp<int64_t>(p[9], -128, 127));
    l.repack.space_to_depth = u(r[0]);
    l.repack.fold_kx = r[1] != 0;
    l.repack.fold_ky = r[2] != 0;
    if (j.contains("groups")) {
      const int64_t g = j.at("groups").get<int64_t>();
      if (l.kind != CoreOpKind::kConv2d || g < 1 || l.conv.c % g != 0 || l.conv.o % g != 0)
        throw Error("groups do not divide the conv2d's channels");
      l.params.groups = static_cast<uint32_t>(g);
    }
    if (j.contains("channel_shift")) {
      l.params.channel_shift = j.at("channel_shift").get<std::vector<int32_t>>();
      if (static_cast<int64_t>(l.params.channel_shift.size()) != l.conv.o) throw Error("channel shift count differs from the output channels");
      for (int32_t v : l.params.channel_shift) {
        if (v < 0 || v > 31) throw Error("channel shift out of range");
      }
    }
    if (j.contains("residual")) {
      if (l.kind != CoreOpKind::kConv2d) throw Error("a residual on a core operator other than conv2d");
      const auto rv = j.at("residual").get<std::vector<int64_t>>();
      if (rv.size() != 6) throw Error("wrong residual field count");
      const auto in = [](int64_t v, int64_t lo, int64_t hi) {
        if (v < lo || v > hi) throw Error("residual parameter out of range");
        return static_cast<int32_t>(v);
      };
      ResidualAdd ra;
      ra.shift_conv = in(rv[0], 0, 6);
      ra.shift_res = in(rv[1], 0, 6);
      ra.requant.shift = in(rv[2], 0, 15);
      ra.requant.relu = rv[3] != 0;
      ra.requant.clip_lo = in(rv[4], -128, 127);
      ra.requant.clip_hi = in(rv[5], -128, 127);
      l.params.residual = ra;
    }
    return l;
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("malformed core operator description: {}", e.what()));
  } catch (const Error& e) {
    throw Error(fmt::format("malformed core operator description: {}", e.what()));
  }
}

}  // namespace vta::compiler
