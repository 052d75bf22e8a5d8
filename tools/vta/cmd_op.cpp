// vta op: run one operator (conv2d, dense) from .npy files on a backend through the compiler.
#include <utility>
#include <tuple>
#include <array>
#include <charconv>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "vta/compiler/conv2d.h"
#include "vta/compiler/dense.h"
#include "vta/compiler/eltwise.h"
#include "vta/compiler/npy.h"
#include "vta/driver/device.h"
#include "vta/isa/error.h"
#include "vta/runtime/session.h"

namespace vta::cli {
namespace {

struct OpOptions {
  std::string input, weight, bias, output, stats;
  std::string record;               // trace directory for every device run (run000, ...)
  std::string input_b;              // add: the second operand
  std::string kernel = "2";         // maxpool: K or KH,KW
  std::string target = "fsim";
  std::string config;
  std::string stride = "1";
  uint32_t pad = 0;
  std::string pads;
  std::string tiling;               // conv2d: a forced tiling (compiler::parse_tiling)
  std::string clip;
  uint32_t dilation = 1, groups = 1;
  int32_t shift = 0;
  bool relu = false;
};

// "a,b,c" -> integers; `what` names the option in errors.
std::vector<int64_t> parse_list(const std::string& text, const char* what) {
  std::vector<int64_t> out;
  size_t pos = 0;
  while (true) {
    const size_t end = text.find(',', pos);
    const std::string item = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    int64_t v = 0;
    const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size())
      throw Error(fmt::format("{} '{}': '{}' is not an integer", what, text, item));
    out.push_back(v);
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return out;
}

runtime::SessionOptions session_options(const OpOptions& o) {
  runtime::SessionOptions options;
  if (!o.record.empty()) options.trace_dir = o.record;
  return options;
}

uint32_t non_negative(int64_t v, const char* what) {
  if (v < 0 || v > 0xffff) throw Error(fmt::format("{} {} out of range", what, v));
  return static_cast<uint32_t>(v);
}

compiler::Requantize requant_of(const OpOptions& o) {
  compiler::Requantize rq;
  rq.shift = o.shift;
  rq.relu = o.relu;
  if (!o.clip.empty()) {
    const auto v = parse_list(o.clip, "--clip");
    if (v.size() != 2) throw Error(fmt::format("--clip '{}': expected LO,HI", o.clip));
    if (v[0] < -128 || v[1] > 127 || v[0] > v[1])
      throw Error(fmt::format("--clip {},{}: must satisfy -128 <= LO <= HI <= 127", v[0], v[1]));
    rq.clip_lo = static_cast<int32_t>(v[0]);
    rq.clip_hi = static_cast<int32_t>(v[1]);
  }
  return rq;
}

// The int8/int32 tensor in `path`; other dtypes are an error naming the option.
compiler::Tensor read_tensor(const std::string& path, const char* option, compiler::DType want) {
  compiler::Tensor t = compiler::read_npy(path);
  if (t.dtype() != want) {
    throw Error(fmt::format("{} {}: dtype {} is not supported here (expected {})", option, path,
                            compiler::to_string(t.dtype()), compiler::to_string(want)));
  }
  return t;
}

int finish(const std::string& op, const OpOptions& o, const driver::Device& device, const compiler::OpRun& run) {
  compiler::write_npy(o.output, run.output);
  fmt::print("{} on {} ({}): output {} -> {}\n", op, device.name(), device.config().name(),
             run.output.shape_string(), o.output);
  fmt::print("tiling: {}\n", run.tiling.to_string());
  fmt::print("instructions {}, kernel cache {} hits / {} misses, compile {:.3f} s, run {:.3f} s\n", run.instructions,
             run.kernel_cache_hits, run.kernel_cache_misses, run.compile_seconds, run.run_seconds);
  fmt::print("counters:\n");
  print_counters(stdout, run.counters);
  if (!o.stats.empty()) {
    nlohmann::json j = run.to_json();
    j["op"] = op;
    j["target"] = device.name();
    j["config"] = device.config().name();
    std::ofstream out(o.stats);
    if (!out) throw Error(fmt::format("--stats {}: cannot open for writing", o.stats));
    out << j.dump(2) << "\n";
  }
  return 0;
}

// "S" or "SH,SW" -> (h, w).
std::pair<uint32_t, uint32_t> parse_hw(const std::string& text, const char* flag, const char* name) {
  const auto v = parse_list(text, flag);
  if (v.size() != 1 && v.size() != 2)
    throw Error(fmt::format("{} '{}': expected {} or {}H,{}W", flag, text, name, name, name));
  return {non_negative(v[0], name), non_negative(v.back(), name)};
}

// --pads T,L,B,R, or --pad P on every side.
std::array<uint32_t, 4> parse_pads(const OpOptions& o) {
  if (o.pads.empty()) return {o.pad, o.pad, o.pad, o.pad};
  const auto v = parse_list(o.pads, "--pads");
  if (v.size() != 4) throw Error(fmt::format("--pads '{}': expected T,L,B,R", o.pads));
  return {non_negative(v[0], "pad"), non_negative(v[1], "pad"), non_negative(v[2], "pad"), non_negative(v[3], "pad")};
}

int run_conv2d(const OpOptions& o) {
  compiler::Conv2dParams p;
  std::tie(p.stride_h, p.stride_w) = parse_hw(o.stride, "--stride", "S");
  const auto pads = parse_pads(o);
  p.pad_top = pads[0], p.pad_left = pads[1], p.pad_bottom = pads[2], p.pad_right = pads[3];
  p.dilation_h = p.dilation_w = o.dilation;
  p.groups = o.groups;
  p.requant = requant_of(o);
  const compiler::Tensor x = read_tensor(o.input, "--input", compiler::DType::kInt8);
  const compiler::Tensor w = read_tensor(o.weight, "--weight", compiler::DType::kInt8);
  std::optional<compiler::Tensor> b;
  if (!o.bias.empty()) b = read_tensor(o.bias, "--bias", compiler::DType::kInt32);
  compiler::check_conv2d(x, w, b ? &*b : nullptr, p);  // clear errors before opening a device
  const auto device = driver::open_device(o.target, load_config(o.config));
  runtime::Session q(*device, session_options(o));
  compiler::LoweringOptions lowering;
  if (!o.tiling.empty()) lowering.tiling = compiler::parse_tiling(o.tiling);
  const compiler::OpRun run = compiler::conv2d(q, x, w, b ? &*b : nullptr, p, lowering);
  return finish("conv2d", o, *device, run);
}

int run_dense(const OpOptions& o) {
  const compiler::Requantize rq = requant_of(o);
  const compiler::Tensor x = read_tensor(o.input, "--input", compiler::DType::kInt8);
  const compiler::Tensor w = read_tensor(o.weight, "--weight", compiler::DType::kInt8);
  std::optional<compiler::Tensor> b;
  if (!o.bias.empty()) b = read_tensor(o.bias, "--bias", compiler::DType::kInt32);
  compiler::check_dense(x, w, b ? &*b : nullptr, rq);
  const auto device = driver::open_device(o.target, load_config(o.config));
  runtime::Session q(*device, session_options(o));
  const compiler::OpRun run = compiler::dense(q, x, w, b ? &*b : nullptr, rq);
  return finish("dense", o, *device, run);
}

int run_add(const OpOptions& o) {
  const compiler::Requantize rq = requant_of(o);
  const compiler::Tensor a = read_tensor(o.input, "--input", compiler::DType::kInt8);
  const compiler::Tensor b = read_tensor(o.input_b, "--input-b", compiler::DType::kInt8);
  compiler::check_add(a, b, rq);
  const auto device = driver::open_device(o.target, load_config(o.config));
  runtime::Session q(*device, session_options(o));
  return finish("add", o, *device, compiler::add(q, a, b, rq));
}

int run_maxpool(const OpOptions& o) {
  compiler::MaxPoolParams p;
  std::tie(p.kernel_h, p.kernel_w) = parse_hw(o.kernel, "--kernel", "K");
  std::tie(p.stride_h, p.stride_w) = parse_hw(o.stride, "--stride", "S");
  const auto pads = parse_pads(o);
  p.pad_top = pads[0], p.pad_left = pads[1], p.pad_bottom = pads[2], p.pad_right = pads[3];
  const compiler::Tensor x = read_tensor(o.input, "--input", compiler::DType::kInt8);
  compiler::check_max_pool2d(x, p);
  const auto device = driver::open_device(o.target, load_config(o.config));
  runtime::Session q(*device, session_options(o));
  return finish("maxpool", o, *device, compiler::max_pool2d(q, x, p));
}

void add_io(CLI::App& sub, OpOptions& o) {
  sub.add_option("--output,-o", o.output, "Output tensor (.npy, int8)")->required();
  add_target_option(sub, o.target);
  add_config_option(sub, o.config);
  sub.add_option("--stats", o.stats, "Write the tiling, counters and timings as JSON to this file");
  sub.add_option("--record", o.record,
                 "Record every device run as a program trace in this directory (run000, ...; replay with `vta exec`)");
}

void add_common(CLI::App& sub, OpOptions& o) {
  sub.add_option("--input,-i", o.input, "Input tensor (.npy, int8)")->required()->check(CLI::ExistingFile);
  sub.add_option("--weight,-w", o.weight, "Weight tensor (.npy, int8)")->required()->check(CLI::ExistingFile);
  sub.add_option("--bias,-b", o.bias, "Bias (.npy, int32, one value per output channel)")->check(CLI::ExistingFile);
  sub.add_option("--shift", o.shift, "Arithmetic right shift applied to the int32 accumulator (0..31)")
      ->check(CLI::Range(0, 31));
  sub.add_flag("--relu", o.relu, "Clamp negative outputs to 0");
  sub.add_option("--clip", o.clip, "Output range LO,HI (default -128,127)");
  sub.add_option("--output,-o", o.output, "Output tensor (.npy, int8)")->required();
  add_target_option(sub, o.target);
  add_config_option(sub, o.config);
  sub.add_option("--stats", o.stats, "Write the tiling, counters and timings as JSON to this file");
  sub.add_option("--record", o.record,
                 "Record every device run as a program trace in this directory (run000, ...; replay with `vta exec`)");
}

}  // namespace

void register_op(CLI::App& app, Action& action) {
  CLI::App* op = app.add_subcommand("op", "Run one operator from .npy files on a backend (conv2d, dense, add, maxpool)");
  op->require_subcommand(1);
  set_footer(*op, "Each operator computes out = clip((acc + bias) >> shift, LO, HI) (relu: LO = max(LO, 0)) on the "
                  "core, with int8 inputs and weights and int32 accumulation. See docs/compiler.md.");

  auto co = std::make_shared<OpOptions>();
  CLI::App* conv = op->add_subcommand("conv2d", "2-D convolution: int8 NCHW input, int8 OIHW weight");
  add_common(*conv, *co);
  conv->add_option("--stride,-s", co->stride, "Stride S or SH,SW")->capture_default_str();
  auto* pad = conv->add_option("--pad,-p", co->pad, "Zero padding on every side");
  auto* pads = conv->add_option("--pads", co->pads, "Zero padding TOP,LEFT,BOTTOM,RIGHT");
  pad->excludes(pads);
  conv->add_option("--dilation", co->dilation, "Dilation (only 1 is supported)")->capture_default_str();
  conv->add_option("--groups", co->groups,
                   "Groups (weight I = C / groups; on the core as super-groups of whole channel blocks)")
      ->capture_default_str();
  conv->add_option("--tiling", co->tiling,
                   "Force this tiling instead of the compiler's choice, e.g. oc=16,rows=4,cols=14,ic=2,"
                   "order=oc_outer,weights=oc_tile,buffers=1,pieces=4 (keys oc, rows, cols, ic, order, weights, "
                   "buffers, pieces, split, resident; one that does not fit fails with the reason)");
  set_footer(*conv, "Input (N, C, H, W) int8, weight (O, C, KH, KW) int8, bias (O,) int32; output (N, O, OH, OW) "
                    "int8. Padding is done by the core's LOAD pad fields; channels are zero-padded to the block "
                    "size and trimmed. Prints the chosen tiling and the run's counters.");
  conv->callback([co, &action] { action = [co] { return run_conv2d(*co); }; });

  auto dopt = std::make_shared<OpOptions>();
  CLI::App* dense = op->add_subcommand("dense", "Fully connected: int8 (N, K) input, int8 (M, K) weight");
  add_common(*dense, *dopt);
  set_footer(*dense, "Input (N, K) int8, weight (M, K) int8 (PyTorch Linear layout), bias (M,) int32; output "
                     "(N, M) int8.");
  dense->callback([dopt, &action] { action = [dopt] { return run_dense(*dopt); }; });

  auto aopt = std::make_shared<OpOptions>();
  CLI::App* addc = op->add_subcommand("add", "Elementwise add of two int8 tensors with requantization");
  addc->add_option("--input,-i", aopt->input, "First operand (.npy, int8)")->required()->check(CLI::ExistingFile);
  addc->add_option("--input-b", aopt->input_b, "Second operand (.npy, int8, same shape)")
      ->required()
      ->check(CLI::ExistingFile);
  addc->add_option("--shift", aopt->shift, "Arithmetic right shift of the int32 sum (0..31)")->check(CLI::Range(0, 31));
  addc->add_flag("--relu", aopt->relu, "Clamp negative outputs to 0");
  addc->add_option("--clip", aopt->clip, "Output range LO,HI (default -128,127)");
  add_io(*addc, *aopt);
  set_footer(*addc, "out = clip((a + b) >> shift, LO, HI), a and b int8 of the same shape (any rank). Runs as a 1x1 "
                    "conv2d with identity weights: the GEMM core adds, the ALU requantizes.");
  addc->callback([aopt, &action] { action = [aopt] { return run_add(*aopt); }; });

  auto mopt = std::make_shared<OpOptions>();
  CLI::App* mp = op->add_subcommand("maxpool", "2-D max pooling of an int8 NCHW tensor");
  mp->add_option("--input,-i", mopt->input, "Input tensor (.npy, int8, NCHW)")->required()->check(CLI::ExistingFile);
  mp->add_option("--kernel,-k", mopt->kernel, "Window K or KH,KW")->capture_default_str();
  mp->add_option("--stride,-s", mopt->stride, "Stride S or SH,SW")->capture_default_str();
  auto* mpad = mp->add_option("--pad,-p", mopt->pad, "Padding on every side (never wins the max)");
  auto* mpads = mp->add_option("--pads", mopt->pads, "Padding TOP,LEFT,BOTTOM,RIGHT");
  mpad->excludes(mpads);
  add_io(*mp, *mopt);
  set_footer(*mp, "Max over the real pixels of each window (padding is ignored). Each pad must be smaller than the "
                  "kernel. Output (N, C, OH, OW) int8.");
  mp->callback([mopt, &action] { action = [mopt] { return run_maxpool(*mopt); }; });
}

}  // namespace vta::cli
