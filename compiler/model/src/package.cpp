// The .vtapkg container (see package.h): JSON description + binary blobs.
#include "vta/model/package.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vta/isa/error.h"
#include "vta/isa/instruction_codec.h"

namespace vta::model {

namespace {

using nlohmann::json;
using compiler::DType;
using compiler::Tensor;

constexpr char kMagic[8] = {'V', 'T', 'A', 'P', 'K', 'G', '\r', '\n'};
constexpr uint64_t kMaxJsonBytes = uint64_t{1} << 30;

void put_u64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// ---- writing ----
struct Writer {
  std::vector<std::vector<uint8_t>> blobs;
  size_t add(std::vector<uint8_t> bytes) {
    blobs.push_back(std::move(bytes));
    return blobs.size() - 1;
  }
  json tensor(const Tensor& t) {
    std::vector<uint8_t> bytes(t.nbytes());
    if (!bytes.empty()) std::memcpy(bytes.data(), t.raw(), bytes.size());
    return {{"dtype", compiler::to_string(t.dtype())}, {"shape", t.shape()}, {"blob", add(std::move(bytes))}};
  }
};

json requant_json(const compiler::Requantize& r) { return {r.shift, r.relu ? 1 : 0, r.clip_lo, r.clip_hi}; }

json step_json(Writer& w, const quant::QStep& s) {
  json j = {{"op", quant::to_string(s.op)},
            {"name", s.name},
            {"inputs", s.inputs},
            {"output", s.output},
            {"requant", requant_json(s.requant)},
            {"conv",
             {s.conv.stride_h, s.conv.stride_w, s.conv.pad_top, s.conv.pad_left, s.conv.pad_bottom, s.conv.pad_right,
              s.conv.groups}},
            {"pool",
             {s.pool.kernel_h, s.pool.kernel_w, s.pool.stride_h, s.pool.stride_w, s.pool.pad_top, s.pool.pad_left,
              s.pool.pad_bottom, s.pool.pad_right, s.pool.count_include_pad ? 1 : 0}},
            {"shift_a", s.shift_a},
            {"shift_b", s.shift_b},
            {"axis", s.axis},
            {"clip", {s.clip_lo, s.clip_hi}},
            {"weight_exp", s.weight_exp},
            {"notes", s.notes}};
  if (s.weight) j["weight"] = w.tensor(*s.weight);
  if (s.bias) j["bias"] = w.tensor(*s.bias);
  if (!s.channel_shift.empty()) j["channel_shift"] = s.channel_shift;
  if (s.has_residual()) j["residual_requant"] = requant_json(s.residual_requant);
  return j;
}

json program_json(Writer& w, const runtime::Program& p) {
  json buffers = json::array();
  for (const runtime::ProgramBuffer& b : p.buffers) {
    json jb = {{"name", b.name},
               {"role", runtime::to_string(b.role)},
               {"bytes", b.bytes},
               {"alignment", b.alignment},
               {"read", {b.read_lo, b.read_hi}},
               {"write", {b.write_lo, b.write_hi}}};
    if (!b.data.empty()) jb["blob"] = w.add(b.data);
    buffers.push_back(std::move(jb));
  }
  const isa::InstructionCodec codec(p.config);
  std::vector<isa::RawInstruction> raw;
  raw.reserve(p.instructions.size());
  for (const isa::Instruction& insn : p.instructions) raw.push_back(codec.encode(insn));
  std::vector<uint8_t> code;
  isa::raw_instructions_to_bytes(raw, code);
  json relocs = json::array();
  for (const runtime::Relocation& r : p.relocations) relocs.push_back({r.insn, r.buffer});
  return {{"buffers", buffers},
          {"instructions", w.add(std::move(code))},
          {"instruction_count", p.instructions.size()},
          {"relocations", relocs},
          {"kernel_cache", {p.kernel_cache_hits, p.kernel_cache_misses}}};
}

json tiling_json(const compiler::Conv2dTiling& t) {
  const compiler::Conv2dCost& c = t.cost;
  return {t.oc_blocks,
          t.out_rows,
          t.out_cols,
          t.ic_blocks,
          static_cast<int>(t.order),
          static_cast<int>(t.weight_mode),
          t.weight_buffers,
          {c.inp_bytes, c.wgt_bytes, c.acc_bytes, c.out_bytes, c.lower_bound_bytes, c.steps, c.output_tiles,
           c.gemm_kernel_uops, c.estimated_cycles},
          t.first_pieces,
          t.split_last ? 1 : 0,
          t.inp_resident ? 1 : 0};
}

// ---- reading ----
struct Reader {
  std::string name;
  std::vector<std::vector<uint8_t>> blobs;

  [[noreturn]] void fail(const std::string& why) const {
    throw Error(fmt::format("cannot load package '{}': {}", name, why));
  }
  const std::vector<uint8_t>& blob(const json& j) const {
    const auto i = j.get<uint64_t>();
    if (i >= blobs.size()) fail(fmt::format("blob {} does not exist ({} blobs)", i, blobs.size()));
    return blobs[i];
  }
  Tensor tensor(const json& j) const {
    const std::string dt = j.at("dtype").get<std::string>();
    DType dtype;
    if (dt == "int8") dtype = DType::kInt8;
    else if (dt == "uint8") dtype = DType::kUint8;
    else if (dt == "int32") dtype = DType::kInt32;
    else if (dt == "float32") dtype = DType::kFloat32;
    else fail(fmt::format("unknown dtype '{}'", dt));
    const auto shape = j.at("shape").get<std::vector<int64_t>>();
    int64_t n = 1;
    for (int64_t d : shape) {
      if (d < 0 || d > (int64_t{1} << 32)) fail("tensor dimension out of range");
      n *= d;
      if (n > (int64_t{1} << 34)) fail("tensor too large");
    }
    const std::vector<uint8_t>& bytes = blob(j.at("blob"));
    // Compare with the blob before allocating: a shape of 2^34 elements would otherwise allocate 16 GB.
    const uint64_t need = static_cast<uint64_t>(n) * compiler::dtype_size(dtype);
    if (bytes.size() != need) fail(fmt::format("tensor blob has {} bytes, its shape needs {}", bytes.size(), need));
    Tensor t(dtype, shape);
    if (!bytes.empty()) std::memcpy(t.raw(), bytes.data(), bytes.size());
    return t;
  }
};

template <class T>
T ranged(const json& j, int64_t lo, int64_t hi, const char* what) {
  const auto v = j.get<int64_t>();
  if (v < lo || v > hi) throw Error(fmt::format("{} = {} is out of range [{}, {}]", what, v, lo, hi));
  return static_cast<T>(v);
}

quant::QOp parse_op(const std::string& name) {
  for (int i = 0; i <= static_cast<int>(quant::QOp::kSoftmax); ++i) {
    const auto op = static_cast<quant::QOp>(i);
    if (quant::to_string(op) == name) return op;
  }
  throw Error(fmt::format("unknown step op '{}'", name));
}

compiler::Requantize parse_requant(const json& j) {
  compiler::Requantize r;
  r.shift = ranged<int32_t>(j.at(0), 0, 31, "shift");
  r.relu = j.at(1).get<int>() != 0;
  r.clip_lo = ranged<int32_t>(j.at(2), -128, 127, "clip_lo");
  r.clip_hi = ranged<int32_t>(j.at(3), -128, 127, "clip_hi");
  return r;
}

quant::QStep parse_step(const Reader& rd, const json& j, size_t num_tensors) {
  quant::QStep s;
  s.op = parse_op(j.at("op").get<std::string>());
  s.name = j.at("name").get<std::string>();
  const auto tensor_id = [&](const json& v) {
    return ranged<quant::TensorId>(v, 0, static_cast<int64_t>(num_tensors) - 1, "tensor id");
  };
  for (const json& v : j.at("inputs")) s.inputs.push_back(tensor_id(v));
  s.output = tensor_id(j.at("output"));
  s.requant = parse_requant(j.at("requant"));
  const json& c = j.at("conv");
  const auto u16 = [](const json& v) { return ranged<uint32_t>(v, 0, 0xffff, "attribute"); };
  s.conv = {u16(c.at(0)), u16(c.at(1)), u16(c.at(2)), u16(c.at(3)), u16(c.at(4)), u16(c.at(5)), u16(c.at(6))};
  const json& p = j.at("pool");
  s.pool = {u16(p.at(0)), u16(p.at(1)), u16(p.at(2)), u16(p.at(3)), u16(p.at(4)), u16(p.at(5)),
            u16(p.at(6)), u16(p.at(7)), p.at(8).get<int>() != 0};
  s.shift_a = ranged<int32_t>(j.at("shift_a"), 0, 24, "shift_a");
  s.shift_b = ranged<int32_t>(j.at("shift_b"), 0, 24, "shift_b");
  s.axis = ranged<int32_t>(j.at("axis"), -8, 8, "axis");
  s.clip_lo = ranged<int32_t>(j.at("clip").at(0), -128, 127, "clip");
  s.clip_hi = ranged<int32_t>(j.at("clip").at(1), -128, 127, "clip");
  s.weight_exp = ranged<int32_t>(j.at("weight_exp"), -64, 64, "weight_exp");
  s.notes = j.at("notes").get<std::vector<std::string>>();
  if (j.contains("weight")) s.weight = rd.tensor(j.at("weight"));
  if (j.contains("bias")) s.bias = rd.tensor(j.at("bias"));
  if (j.contains("channel_shift")) {
    // One shift per output channel of a conv2d or dense step, each 0..31 like requant.shift.
    if ((s.op != quant::QOp::kConv2d && s.op != quant::QOp::kDense) || !s.weight || s.weight->rank() < 1) {
      throw Error(fmt::format("step '{}': channel shifts on a step without a conv2d or dense weight", s.name));
    }
    const json& cs = j.at("channel_shift");
    if (!cs.is_array() || static_cast<int64_t>(cs.size()) != s.weight->dim(0)) {
      throw Error(fmt::format("step '{}': {} channel shifts for {} output channels", s.name,
                              cs.is_array() ? cs.size() : 0, s.weight->dim(0)));
    }
    for (const json& v : cs) s.channel_shift.push_back(ranged<int32_t>(v, 0, 31, "channel shift"));
  }
  // A conv2d with a fused residual add (two inputs) carries the add's requantization; nothing else does.
  if (s.has_residual() != j.contains("residual_requant")) {
    throw Error(fmt::format("step '{}': {}", s.name,
                            s.has_residual() ? "a conv2d with a residual input needs residual_requant"
                                             : "residual_requant on a step without a residual input"));
  }
  if (s.has_residual()) s.residual_requant = parse_requant(j.at("residual_requant"));
  return s;
}

runtime::BufferRole parse_role(const std::string& name) {
  using runtime::BufferRole;
  for (BufferRole r : {BufferRole::kInput, BufferRole::kOutput, BufferRole::kConstant, BufferRole::kScratch,
                       BufferRole::kMicroOps, BufferRole::kExternal}) {
    if (runtime::to_string(r) == name) return r;
  }
  throw Error(fmt::format("unknown buffer role '{}'", name));
}

runtime::Program parse_program(const Reader& rd, const json& j, const isa::HwConfig& cfg) {
  runtime::Program p;
  p.config = cfg;
  for (const json& jb : j.at("buffers")) {
    runtime::ProgramBuffer b;
    b.name = jb.at("name").get<std::string>();
    b.role = parse_role(jb.at("role").get<std::string>());
    b.bytes = jb.at("bytes").get<uint64_t>();
    b.alignment = jb.at("alignment").get<uint64_t>();
    if (b.alignment == 0 || (b.alignment & (b.alignment - 1)) != 0 || b.alignment > 4096)
      throw Error(fmt::format("buffer '{}' has alignment {}", b.name, b.alignment));
    if (b.bytes == 0 || b.bytes > (uint64_t{1} << 32)) throw Error(fmt::format("buffer '{}' has {} bytes", b.name, b.bytes));
    b.read_lo = jb.at("read").at(0).get<uint64_t>(), b.read_hi = jb.at("read").at(1).get<uint64_t>();
    b.write_lo = jb.at("write").at(0).get<uint64_t>(), b.write_hi = jb.at("write").at(1).get<uint64_t>();
    if (b.read_lo > b.read_hi || b.read_hi > b.bytes || b.write_lo > b.write_hi || b.write_hi > b.bytes)
      throw Error(fmt::format("buffer '{}': access ranges outside its {} bytes", b.name, b.bytes));
    if (jb.contains("blob")) {
      b.data = rd.blob(jb.at("blob"));
      if (b.data.size() != b.bytes) throw Error(fmt::format("buffer '{}': {} bytes of data for {}", b.name, b.data.size(), b.bytes));
    }
    p.buffers.push_back(std::move(b));
  }
  const std::vector<uint8_t>& code = rd.blob(j.at("instructions"));
  const auto count = j.at("instruction_count").get<uint64_t>();
  if (code.size() != count * 16) throw Error(fmt::format("{} instruction bytes for {} instructions", code.size(), count));
  const isa::InstructionCodec codec(cfg);
  for (const isa::RawInstruction& raw : isa::raw_instructions_from_bytes(code)) p.instructions.push_back(codec.decode(raw));
  if (p.instructions.empty() || !std::holds_alternative<isa::FinishInsn>(p.instructions.back()))
    throw Error("the instruction stream does not end with FINISH");
  uint32_t last = 0;
  for (const json& r : j.at("relocations")) {
    runtime::Relocation rel{r.at(0).get<uint32_t>(), r.at(1).get<uint32_t>()};
    if (rel.insn >= p.instructions.size() || rel.buffer >= p.buffers.size() || rel.insn < last ||
        !std::holds_alternative<isa::MemInsn>(p.instructions[rel.insn]))
      throw Error(fmt::format("bad relocation (instruction {}, buffer {})", rel.insn, rel.buffer));
    last = rel.insn;
    p.relocations.push_back(rel);
  }
  p.kernel_cache_hits = j.at("kernel_cache").at(0).get<uint64_t>();
  p.kernel_cache_misses = j.at("kernel_cache").at(1).get<uint64_t>();
  return p;
}

// The invariants every executor relies on: operand counts, dtypes, weight and bias shapes, and output
// shapes that follow from the inputs. A package violating them is malformed.
void validate_model(const quant::QModel& m) {
  using quant::QOp;
  const auto shape_of = [&](quant::TensorId t) -> const std::vector<int64_t>& { return m.tensor(t).shape; };
  for (const quant::QStep& s : m.steps) {
    const auto fail = [&](const std::string& why) {
      throw Error(fmt::format("step '{}' ({}): {}", s.name, quant::to_string(s.op), why));
    };
    const size_t want = s.op == QOp::kAdd ? 2 : 1;
    if (s.op == QOp::kConcat ? s.inputs.empty()
                             : s.inputs.size() != want && !(s.op == QOp::kConv2d && s.inputs.size() == 2)) {
      fail(fmt::format("{} inputs", s.inputs.size()));
    }
    const bool float_in = s.op == QOp::kQuantize;
    const bool float_out = s.op == QOp::kDequantize || s.op == QOp::kSoftmax;
    for (quant::TensorId t : s.inputs) {
      if ((m.tensor(t).dtype == DType::kFloat32) != float_in) fail(fmt::format("input '{}' has the wrong dtype", m.tensor(t).name));
    }
    if ((m.tensor(s.output).dtype == DType::kFloat32) != float_out) fail("the output has the wrong dtype");
    const std::vector<int64_t>& in = shape_of(s.inputs[0]);
    const std::vector<int64_t>& out = shape_of(s.output);
    if (s.op == QOp::kConv2d || s.op == QOp::kDense) {
      if (!s.weight || s.weight->dtype() != DType::kInt8) fail("no int8 weight");
      const Tensor& w = *s.weight;
      if (s.bias && (s.bias->dtype() != DType::kInt32 || s.bias->rank() != 1 || s.bias->dim(0) != w.dim(0)))
        fail("the bias does not match the weight");
      if (s.op == QOp::kDense) {
        if (w.rank() != 2 || in.size() != 2 || in[1] != w.dim(1) || out != std::vector<int64_t>{in[0], w.dim(0)})
          fail("weight, input and output shapes disagree");
      } else {
        const int64_t sh = s.conv.stride_h, sw = s.conv.stride_w, groups = s.conv.groups;
        if (w.rank() != 4 || in.size() != 4 || sh == 0 || sw == 0 || groups == 0 || w.dim(1) * groups != in[1] ||
            w.dim(0) % groups != 0)
          fail("weight and input shapes disagree");
        const int64_t oh = (in[2] + s.conv.pad_top + s.conv.pad_bottom - w.dim(2)) / sh + 1;
        const int64_t ow = (in[3] + s.conv.pad_left + s.conv.pad_right - w.dim(3)) / sw + 1;
        if (oh < 1 || ow < 1 || out != std::vector<int64_t>{in[0], w.dim(0), oh, ow}) fail("the output shape disagrees");
      }
    } else if (s.weight || s.bias) {
      fail("a weight on a step that takes none");
    }
    if ((s.op == QOp::kMaxPool || s.op == QOp::kAvgPool) &&
        (in.size() != 4 || s.pool.kernel_h == 0 || s.pool.kernel_w == 0 || s.pool.stride_h == 0 || s.pool.stride_w == 0))
      fail("bad pooling geometry");
    if (s.op == QOp::kAdd && shape_of(s.inputs[1]) != in) fail("the inputs' shapes differ");
    if (s.has_residual() && shape_of(s.inputs[1]) != out) fail("the residual's shape differs from the output's");
  }
}

compiler::Conv2dTiling parse_tiling(const json& j) {
  compiler::Conv2dTiling t;
  t.oc_blocks = j.at(0).get<uint32_t>(), t.out_rows = j.at(1).get<uint32_t>(), t.out_cols = j.at(2).get<uint32_t>();
  t.ic_blocks = j.at(3).get<uint32_t>();
  t.order = static_cast<compiler::LoopOrder>(ranged<int>(j.at(4), 0, 1, "loop order"));
  t.weight_mode = static_cast<compiler::WeightMode>(ranged<int>(j.at(5), 0, 2, "weight mode"));
  t.weight_buffers = ranged<uint32_t>(j.at(6), 1, 2, "weight buffers");
  const json& c = j.at(7);
  t.cost.inp_bytes = c.at(0), t.cost.wgt_bytes = c.at(1), t.cost.acc_bytes = c.at(2), t.cost.out_bytes = c.at(3);
  t.cost.lower_bound_bytes = c.at(4), t.cost.steps = c.at(5), t.cost.output_tiles = c.at(6);
  t.cost.gemm_kernel_uops = c.at(7);
  if (c.size() > 8) t.cost.estimated_cycles = c.at(8).get<double>();  // packages before 2026-12-04 lack it
  if (j.size() > 8) t.first_pieces = ranged<uint32_t>(j.at(8), 1, 8, "first step pieces");  // ... and this
  if (j.size() > 9) t.split_last = ranged<int>(j.at(9), 0, 1, "last tile split") == 1;     // ... and this
  if (j.size() > 10) t.inp_resident = ranged<int>(j.at(10), 0, 1, "resident input") == 1;  // before 2026-12-05
  return t;
}

}  // namespace

std::vector<uint8_t> serialize_package(const CompiledModel& cm) {
  Writer w;
  const quant::QModel& m = cm.qmodel;
  json tensors = json::array();
  for (const quant::QTensor& t : m.tensors) {
    tensors.push_back({{"name", t.name}, {"dtype", compiler::to_string(t.dtype)}, {"shape", t.shape}, {"exp", t.exp}});
  }
  json steps = json::array();
  for (const quant::QStep& s : m.steps) steps.push_back(step_json(w, s));
  json compiled = json::array();
  for (const ModelStep& ms : cm.steps) {
    json js = {{"step", ms.step}, {"where", to_string(ms.where)}, {"why", ms.why}};
    if (ms.op) {
      js["layout"] = ms.op->layout.to_json();
      js["tiling"] = tiling_json(ms.op->tiling);
      js["program"] = program_json(w, ms.op->program);
      js["compile_seconds"] = ms.op->compile_seconds;
    }
    compiled.push_back(std::move(js));
  }
  const json header = {{"format", "vtapkg"},
                       {"version", kPackageVersion},
                       {"config", cm.config.to_json()},
                       {"config_name", cm.config.name()},
                       {"config_hash", cm.config.hash()},
                       {"model",
                        {{"name", m.name},
                         {"input", m.input},
                         {"output", m.output},
                         {"notes", m.notes},
                         {"tensors", tensors},
                         {"steps", steps}}},
                       {"compile_seconds", cm.compile_seconds},
                       {"compiled", compiled}};
  const std::string text = header.dump();
  std::vector<uint8_t> out(kMagic, kMagic + 8);
  put_u32(out, kPackageVersion);
  put_u32(out, 0);
  put_u64(out, text.size());
  out.insert(out.end(), text.begin(), text.end());
  put_u64(out, w.blobs.size());
  for (const auto& b : w.blobs) {
    put_u64(out, b.size());
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

void save_package(const std::filesystem::path& path, const CompiledModel& model) {
  const std::vector<uint8_t> bytes = serialize_package(model);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(fmt::format("cannot write package '{}'", path.string()));
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw Error(fmt::format("cannot write package '{}'", path.string()));
}

CompiledModel parse_package(const std::vector<uint8_t>& bytes, const std::string& name) {
  Reader rd;
  rd.name = name;
  size_t pos = 0;
  const auto need = [&](uint64_t n, const char* what) {
    if (n > bytes.size() - pos) rd.fail(fmt::format("truncated at byte {} (reading {})", pos, what));
  };
  const auto u64 = [&](const char* what) {
    need(8, what);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{bytes[pos + static_cast<size_t>(i)]} << (8 * i);
    pos += 8;
    return v;
  };
  need(16, "the header");
  if (std::memcmp(bytes.data(), kMagic, 8) != 0) rd.fail("not a VTA package (bad magic)");
  pos = 8;
  uint32_t version = 0;
  for (int i = 0; i < 4; ++i) version |= uint32_t{bytes[pos + static_cast<size_t>(i)]} << (8 * i);
  pos = 16;
  if (version != kPackageVersion) {
    rd.fail(fmt::format("format version {} is not supported (this build reads version {}); recompile the model "
                        "with `vta compile`",
                        version, kPackageVersion));
  }
  for (size_t i = 12; i < 16; ++i) {
    if (bytes[i] != 0) rd.fail("the reserved header word is not zero");
  }
  const uint64_t json_len = u64("the description length");
  if (json_len > kMaxJsonBytes) rd.fail("description too large");
  need(json_len, "the description");
  const std::string text(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                         bytes.begin() + static_cast<std::ptrdiff_t>(pos + json_len));
  pos += json_len;
  const uint64_t count = u64("the blob count");
  if (count > (bytes.size() - pos) / 8) rd.fail("blob count larger than the file");
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t len = u64("a blob length");
    need(len, "a blob");
    rd.blobs.emplace_back(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                          bytes.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
  }
  if (pos != bytes.size()) rd.fail(fmt::format("{} trailing bytes", bytes.size() - pos));
  try {
    const json h = json::parse(text);
    if (h.at("format") != "vtapkg") rd.fail("not a vtapkg description");
    CompiledModel cm;
    cm.config = isa::HwConfig::from_json(h.at("config"));
    const json& jm = h.at("model");
    quant::QModel& m = cm.qmodel;
    m.name = jm.at("name").get<std::string>();
    m.notes = jm.at("notes").get<std::vector<std::string>>();
    for (const json& jt : jm.at("tensors")) {
      quant::QTensor t;
      t.name = jt.at("name").get<std::string>();
      const std::string dt = jt.at("dtype").get<std::string>();
      if (dt != "int8" && dt != "float32") rd.fail(fmt::format("tensor '{}' has dtype {}", t.name, dt));
      t.dtype = dt == "int8" ? DType::kInt8 : DType::kFloat32;
      t.shape = jt.at("shape").get<std::vector<int64_t>>();
      for (int64_t d : t.shape) {
        if (d < 1 || d > (int64_t{1} << 24)) rd.fail(fmt::format("tensor '{}' has a dimension of {}", t.name, d));
      }
      t.exp = ranged<int32_t>(jt.at("exp"), -64, 64, "exp");
      m.tensors.push_back(std::move(t));
    }
    const auto n = static_cast<int64_t>(m.tensors.size());
    m.input = ranged<quant::TensorId>(jm.at("input"), 0, n - 1, "input tensor");
    m.output = ranged<quant::TensorId>(jm.at("output"), 0, n - 1, "output tensor");
    for (const json& js : jm.at("steps")) m.steps.push_back(parse_step(rd, js, m.tensors.size()));
    validate_model(m);
    cm.compile_seconds = h.at("compile_seconds").get<double>();
    const json& compiled = h.at("compiled");
    if (compiled.size() != m.steps.size()) rd.fail("the compiled steps do not match the model's steps");
    for (const json& js : compiled) {
      ModelStep ms;
      ms.step = ranged<size_t>(js.at("step"), 0, static_cast<int64_t>(m.steps.size()) - 1, "step");
      if (ms.step != cm.steps.size()) rd.fail("compiled steps out of order");
      const std::string where = js.at("where").get<std::string>();
      if (where != "core" && where != "cpu") rd.fail(fmt::format("unknown placement '{}'", where));
      ms.where = where == "core" ? Placement::kCore : Placement::kCpu;
      ms.why = js.at("why").get<std::string>();
      if (ms.where == Placement::kCore) {
        compiler::CompiledOp op;
        op.layout = compiler::CoreOpLayout::from_json(js.at("layout"));
        op.tiling = parse_tiling(js.at("tiling"));
        op.tiling.repack = op.layout.repack;
        op.program = parse_program(rd, js.at("program"), cm.config);
        op.program.find_buffer("input");
        op.program.find_buffer("output");
        if (op.layout.has_residual() != m.steps[ms.step].has_residual()) {
          rd.fail(fmt::format("step {}: the core operator's residual input does not match the step's", ms.step));
        }
        if (op.layout.has_residual()) op.program.find_buffer("residual");
        op.compile_seconds = js.at("compile_seconds").get<double>();
        ms.op = std::move(op);
      }
      cm.steps.push_back(std::move(ms));
    }
    return cm;
  } catch (const json::exception& e) {
    rd.fail(fmt::format("malformed description: {}", e.what()));
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind("cannot load package", 0) == 0) throw;
    rd.fail(what);
  }
}

CompiledModel load_package(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot open package '{}'", path.string()));
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_package(bytes, path.string());
}

bool is_package(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  return in.read(magic, 8) && std::memcmp(magic, kMagic, 8) == 0;
}

}  // namespace vta::model
