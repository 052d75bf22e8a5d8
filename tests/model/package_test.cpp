// The .vtapkg package: serialize -> parse round trip (same plan, Programs, weights and run outputs), and
// malformed packages (empty, bad magic, other version, every truncation, edited JSON, random byte
// flips): each must be a vta::Error naming the package and the problem, never a crash or another
// exception type. The ASan preset (CMakePresets.json `asan`) runs these tests too, so an out-of-bounds
// read while parsing fails there even when it happens not to crash here.
#include <gtest/gtest.h>

#include <stdlib.h>  // mkdtemp

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "model_test_util.h"
#include "vta/model/package.h"

namespace vta::model {
namespace {

using test::Graph;
using test::QOp;
using test::Tensor;
using test::compile_graph_for;
using test::config_file;
using test::error_of;
using test::grouped_graph;
using test::random_inputs;
using test::random_normal;
using test::residual_graph;
using test::tiny_qmodel;
using Bytes = std::vector<uint8_t>;

const std::string kName = "tiny.vtapkg";

// A Conv2d or Dense step without its weight: parse_package must reject it (see
// PackageErrors.ConvOrDenseStepWithoutWeightIsRejected); ModelRunner::run would dereference the
// missing weight.
bool has_step_without_weight(const CompiledModel& cm) {
  for (const quant::QStep& s : cm.qmodel.steps) {
    if ((s.op == QOp::kConv2d || s.op == QOp::kDense) && !s.weight) return true;
  }
  return false;
}

void expect_same_program(const runtime::Program& a, const runtime::Program& b) {
  EXPECT_EQ(a.config, b.config);
  EXPECT_TRUE(a.instructions == b.instructions) << "instruction streams differ";
  EXPECT_EQ(a.relocations, b.relocations);
  EXPECT_EQ(a.kernel_cache_hits, b.kernel_cache_hits);
  EXPECT_EQ(a.kernel_cache_misses, b.kernel_cache_misses);
  ASSERT_EQ(a.buffers.size(), b.buffers.size());
  for (size_t i = 0; i < a.buffers.size(); ++i) {
    const runtime::ProgramBuffer &x = a.buffers[i], &y = b.buffers[i];
    SCOPED_TRACE("buffer " + x.name);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.role, y.role);
    EXPECT_EQ(x.bytes, y.bytes);
    EXPECT_EQ(x.alignment, y.alignment);
    EXPECT_TRUE(x.data == y.data) << "buffer data differs";
    EXPECT_EQ(x.read_lo, y.read_lo);
    EXPECT_EQ(x.read_hi, y.read_hi);
    EXPECT_EQ(x.write_lo, y.write_lo);
    EXPECT_EQ(x.write_hi, y.write_hi);
  }
  EXPECT_EQ(a.to_asm(), b.to_asm());
}

void expect_same_model(const CompiledModel& a, const CompiledModel& b) {
  EXPECT_EQ(a.config, b.config);
  EXPECT_EQ(a.plan_text(), b.plan_text());
  EXPECT_EQ(a.asm_text(), b.asm_text());
  // Not qmodel.to_text(): it prints each weight's exp, which packages lose (Package.KeepsWeightExps).
  EXPECT_EQ(a.qmodel.name, b.qmodel.name);
  EXPECT_EQ(a.qmodel.input, b.qmodel.input);
  EXPECT_EQ(a.qmodel.output, b.qmodel.output);
  EXPECT_EQ(a.qmodel.notes, b.qmodel.notes);
  ASSERT_EQ(a.qmodel.tensors.size(), b.qmodel.tensors.size());
  for (size_t i = 0; i < a.qmodel.tensors.size(); ++i) {
    EXPECT_EQ(a.qmodel.tensors[i].name, b.qmodel.tensors[i].name);
    EXPECT_EQ(a.qmodel.tensors[i].dtype, b.qmodel.tensors[i].dtype);
    EXPECT_EQ(a.qmodel.tensors[i].shape, b.qmodel.tensors[i].shape);
    EXPECT_EQ(a.qmodel.tensors[i].exp, b.qmodel.tensors[i].exp);
  }
  ASSERT_EQ(a.qmodel.steps.size(), b.qmodel.steps.size());
  ASSERT_EQ(a.steps.size(), b.steps.size());
  for (size_t i = 0; i < a.steps.size(); ++i) {
    const quant::QStep &s = a.qmodel.steps[i], &t = b.qmodel.steps[i];
    SCOPED_TRACE("step " + s.name);
    EXPECT_EQ(s.op, t.op);
    EXPECT_EQ(s.name, t.name);
    EXPECT_EQ(s.inputs, t.inputs);
    EXPECT_EQ(s.output, t.output);
    EXPECT_EQ(s.weight.has_value(), t.weight.has_value());
    if (s.weight && t.weight) {
      EXPECT_TRUE(*s.weight == *t.weight) << "weights differ";
    }
    EXPECT_EQ(s.bias.has_value(), t.bias.has_value());
    if (s.bias && t.bias) {
      EXPECT_TRUE(*s.bias == *t.bias) << "biases differ";
    }
    EXPECT_EQ(s.requant.shift, t.requant.shift);
    EXPECT_EQ(s.requant.relu, t.requant.relu);
    EXPECT_EQ(s.requant.clip_lo, t.requant.clip_lo);
    EXPECT_EQ(s.requant.clip_hi, t.requant.clip_hi);
    EXPECT_EQ(s.conv.stride_h, t.conv.stride_h);
    EXPECT_EQ(s.conv.stride_w, t.conv.stride_w);
    EXPECT_EQ(s.conv.pad_top, t.conv.pad_top);
    EXPECT_EQ(s.conv.pad_left, t.conv.pad_left);
    EXPECT_EQ(s.conv.pad_bottom, t.conv.pad_bottom);
    EXPECT_EQ(s.conv.pad_right, t.conv.pad_right);
    EXPECT_EQ(s.conv.groups, t.conv.groups);
    EXPECT_EQ(s.pool.kernel_h, t.pool.kernel_h);
    EXPECT_EQ(s.pool.kernel_w, t.pool.kernel_w);
    EXPECT_EQ(s.pool.stride_h, t.pool.stride_h);
    EXPECT_EQ(s.pool.stride_w, t.pool.stride_w);
    EXPECT_EQ(s.pool.pad_top, t.pool.pad_top);
    EXPECT_EQ(s.pool.pad_left, t.pool.pad_left);
    EXPECT_EQ(s.pool.pad_bottom, t.pool.pad_bottom);
    EXPECT_EQ(s.pool.pad_right, t.pool.pad_right);
    EXPECT_EQ(s.pool.count_include_pad, t.pool.count_include_pad);
    EXPECT_EQ(s.shift_a, t.shift_a);
    EXPECT_EQ(s.shift_b, t.shift_b);
    EXPECT_EQ(s.axis, t.axis);
    EXPECT_EQ(s.clip_lo, t.clip_lo);
    EXPECT_EQ(s.clip_hi, t.clip_hi);
    EXPECT_EQ(s.notes, t.notes);
    const ModelStep &x = a.steps[i], &y = b.steps[i];
    EXPECT_EQ(x.step, y.step);
    EXPECT_EQ(x.where, y.where);
    EXPECT_EQ(x.why, y.why);
    ASSERT_EQ(x.op.has_value(), y.op.has_value());
    if (x.op) {
      EXPECT_EQ(x.op->layout.to_json(), y.op->layout.to_json());
      EXPECT_EQ(x.op->tiling.to_string(), y.op->tiling.to_string());
      expect_same_program(x.op->program, y.op->program);
    }
  }
}

// Every step output of both models on fsim, for the same inputs, must be identical.
void expect_same_runs(const CompiledModel& a, const CompiledModel& b, const std::vector<Tensor>& inputs) {
  runtime::Session session("fsim", a.config);
  ModelRunner ra(session, a), rb(session, b);
  for (const Tensor& in : inputs) {
    std::map<quant::TensorId, Tensor> va, vb;
    const ModelRun x = ra.run(in, [&](quant::TensorId id, const Tensor& t) { va[id] = t; });
    const ModelRun y = rb.run(in, [&](quant::TensorId id, const Tensor& t) { vb[id] = t; });
    ASSERT_EQ(va.size(), vb.size());
    for (const auto& [id, t] : va) EXPECT_TRUE(t == vb.at(id)) << "tensor " << a.qmodel.tensor(id).name;
    EXPECT_TRUE(x.outputs.at(0) == y.outputs.at(0));
  }
}

// ---- round trip ----

TEST(Package, RoundTripResidualModel) {
  const Graph g = residual_graph();
  const CompiledModel cm = compile_graph_for(g, isa::HwConfig::default_config());
  const Bytes bytes = serialize_package(cm);
  const CompiledModel back = parse_package(bytes, "residual.vtapkg");
  expect_same_model(cm, back);
  EXPECT_TRUE(serialize_package(back) == bytes) << "re-serializing a parsed package must give the same bytes";
  expect_same_runs(cm, back, random_inputs(g, 2, 77));
}

TEST(Package, RoundTripGroupedModelAndOtherConfig) {
  const Graph g = grouped_graph();
  const CompiledModel cm = compile_graph_for(g, config_file("block32.json"));
  const Bytes bytes = serialize_package(cm);
  const CompiledModel back = parse_package(bytes, "grouped.vtapkg");
  expect_same_model(cm, back);
  EXPECT_EQ(back.config.name(), config_file("block32.json").name());
  EXPECT_TRUE(serialize_package(back) == bytes);
  expect_same_runs(cm, back, random_inputs(g, 2, 78));
}

TEST(Package, RoundTripGroupedConvOnTheCore) {
  const Graph g = grouped_graph();
  const CompiledModel cm = compile_graph_for(g, isa::HwConfig::default_config());
  ASSERT_TRUE(cm.steps.at(1).op.has_value()) << cm.steps.at(1).why;
  ASSERT_EQ(cm.steps.at(1).op->layout.params.groups, 2u);
  const Bytes bytes = serialize_package(cm);
  const CompiledModel back = parse_package(bytes, "grouped.vtapkg");
  expect_same_model(cm, back);
  EXPECT_EQ(back.steps.at(1).op->layout.params.groups, 2u);
  EXPECT_TRUE(serialize_package(back) == bytes);
  expect_same_runs(cm, back, random_inputs(g, 2, 79));
}

// The weight exps (reported by `--emit qgraph`) survive the package.
TEST(Package, KeepsWeightExps) {
  const CompiledModel cm = compile_model(tiny_qmodel(), isa::HwConfig::default_config());
  const CompiledModel back = parse_package(serialize_package(cm), kName);
  ASSERT_EQ(back.qmodel.steps.size(), cm.qmodel.steps.size());
  for (size_t i = 0; i < cm.qmodel.steps.size(); ++i) {
    EXPECT_EQ(back.qmodel.steps[i].weight_exp, cm.qmodel.steps[i].weight_exp) << "step " << cm.qmodel.steps[i].name;
  }
  EXPECT_EQ(back.qmodel.to_text(), cm.qmodel.to_text());
}

TEST(Package, SaveLoadFile) {
  const CompiledModel cm = compile_model(tiny_qmodel(), isa::HwConfig::default_config());
  std::string pattern = (std::filesystem::temp_directory_path() / "vta-model-test-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = pattern;
  const std::filesystem::path p = dir / "tiny.vtapkg";
  save_package(p, cm);
  EXPECT_TRUE(is_package(p));
  const CompiledModel back = load_package(p);
  expect_same_model(cm, back);
  // not packages: a missing file, an empty file, another format
  EXPECT_FALSE(is_package(dir / "missing.vtapkg"));
  { std::ofstream(dir / "empty.vtapkg").flush(); }
  EXPECT_FALSE(is_package(dir / "empty.vtapkg"));
  { std::ofstream(dir / "model.onnx") << "\x08\x07\x12\x04test"; }
  EXPECT_FALSE(is_package(dir / "model.onnx"));
  std::string msg = error_of([&] { load_package(dir / "missing.vtapkg"); });
  EXPECT_NE(msg.find("missing.vtapkg"), std::string::npos) << msg;
  msg = error_of([&] { load_package(dir / "empty.vtapkg"); });
  EXPECT_NE(msg.find("empty.vtapkg"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  // writing into a directory that does not exist
  msg = error_of([&] { save_package(dir / "no-such-dir" / "x.vtapkg", cm); });
  EXPECT_NE(msg.find("cannot write package"), std::string::npos) << msg;
  std::filesystem::remove_all(dir);
}

// ---- malformed packages ----

// The tiny model's package with its compile times zeroed, so that the bytes (and the offsets the flips
// below hit) are the same in every run.
Bytes tiny_package() {
  CompiledModel cm = compile_model(tiny_qmodel(), isa::HwConfig::default_config());
  cm.compile_seconds = 0;
  for (ModelStep& ms : cm.steps) {
    if (ms.op) ms.op->compile_seconds = 0;
  }
  return serialize_package(cm);
}

// The vta::Error message of parsing `bytes` ("" when it parses). Any other exception fails the test.
std::string parse_error(const Bytes& bytes, const std::string& context) {
  try {
    parse_package(bytes, kName);
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << context << ": parse_package threw a " << typeid(e).name() << " instead of vta::Error: " << e.what();
    return "(not a vta::Error)";
  } catch (...) {
    ADD_FAILURE() << context << ": parse_package threw a non-std exception";
    return "(not a vta::Error)";
  }
  return "";
}

void expect_rejected(const Bytes& bytes, const std::string& context, const std::string& why) {
  const std::string msg = parse_error(bytes, context);
  ASSERT_FALSE(msg.empty()) << context << ": accepted";
  EXPECT_EQ(msg.rfind("cannot load package '" + kName + "': ", 0), 0u) << context << ": " << msg;
  EXPECT_NE(msg.find(why), std::string::npos) << context << ": expected '" << why << "' in: " << msg;
}

uint64_t get_u64(const Bytes& b, size_t pos) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{b.at(pos + static_cast<size_t>(i))} << (8 * i);
  return v;
}

// The package's JSON description, and the package rebuilt around an edited one (its length fixed).
std::string json_text(const Bytes& b) {
  const uint64_t n = get_u64(b, 16);
  return std::string(b.begin() + 24, b.begin() + 24 + static_cast<std::ptrdiff_t>(n));
}
Bytes with_json(const Bytes& b, const std::string& text) {
  const uint64_t n = get_u64(b, 16);
  Bytes out(b.begin(), b.begin() + 16);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(uint64_t{text.size()} >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), b.begin() + 24 + static_cast<std::ptrdiff_t>(n), b.end());
  return out;
}
// Replaces the first occurrence of `from` in the package's JSON (which must contain it).
Bytes edit_json(const Bytes& b, const std::string& from, const std::string& to) {
  std::string text = json_text(b);
  const size_t at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("the package JSON has no '" + from + "'");
  text.replace(at, from.size(), to);
  return with_json(b, text);
}

TEST(PackageErrors, EmptyBadMagicAndVersion) {
  const Bytes good = tiny_package();
  ASSERT_EQ(parse_error(good, "good"), "");
  expect_rejected({}, "empty", "truncated");
  Bytes b = good;
  b[0] = 'X';
  expect_rejected(b, "bad magic", "not a VTA package (bad magic)");
  b = good;
  b[6] = '\n';  // "VTAPKG\n\n": a text-mode transfer
  expect_rejected(b, "bad magic", "bad magic");
  b = good;
  b[8] = 7;  // the u32 version at offset 8
  expect_rejected(b, "version 7",
                  fmt::format("format version 7 is not supported (this build reads version {})", kPackageVersion));
  b = good;
  b[11] = 0x80;
  expect_rejected(b, "version 2^31 + version", fmt::format("format version {}", 0x80000000u + kPackageVersion));
}

TEST(PackageErrors, EveryTruncation) {
  const Bytes good = tiny_package();
  ASSERT_GT(good.size(), 1000u);
  std::set<std::string> kinds;  // the distinct messages, without byte positions
  for (size_t n = 0; n < good.size(); ++n) {
    const Bytes prefix(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    const std::string msg = parse_error(prefix, fmt::format("prefix of {} bytes", n));
    ASSERT_FALSE(msg.empty()) << "a prefix of " << n << " of " << good.size() << " bytes parsed";
    ASSERT_EQ(msg.rfind("cannot load package '" + kName + "': ", 0), 0u) << msg;
    const bool named = msg.find("truncated") != std::string::npos || msg.find("larger than the file") != std::string::npos;
    ASSERT_TRUE(named) << "prefix of " << n << " bytes: " << msg;
    kinds.insert(msg.substr(0, msg.find(" at byte")));
  }
  // one byte too many is an error as well
  Bytes longer = good;
  longer.push_back(0);
  expect_rejected(longer, "one trailing byte", "1 trailing bytes");
  EXPECT_GE(kinds.size(), 2u);
}

TEST(PackageErrors, EditedDescription) {
  const Bytes good = tiny_package();
  const std::string text = json_text(good);
  ASSERT_EQ(text.front(), '{');
  ASSERT_EQ(nlohmann::json::parse(text)["format"], "vtapkg");
  ASSERT_EQ(parse_error(with_json(good, text), "unchanged"), "");
  struct Case {
    std::string from, to, why;
  };
  const std::vector<Case> cases = {
      {"\"blob\":0", "\"blob\":999999", "blob 999999 does not exist"},
      {"\"format\":\"vtapkg\"", "\"format\":\"vtapkX\"", "not a vtapkg description"},
      {"\"op\":\"Conv2d\"", "\"op\":\"Conv9d\"", "unknown step op 'Conv9d'"},
      {"\"where\":\"core\"", "\"where\":\"gpu\"", "unknown placement 'gpu'"},
      {"\"role\":\"input\"", "\"role\":\"bogus\"", "unknown buffer role 'bogus'"},
      {"\"alignment\":", "\"alignment\":3,\"x\":", "alignment 3"},
      {"\"relocations\":[", "\"relocations\":[[999999,0],", "bad relocation (instruction 999999"},
      {"\"instruction_count\":", "\"instruction_count\":1000000,\"x\":", "instruction bytes for 1000000 instructions"},
      {"\"LOG_BLOCK\":4", "\"LOG_BLOCK\":9", "LOG_BLOCK"},
      {"\"steps\":[", "\"stepz\":[", "steps"},
      {"\"exp\":6", "\"exp\":1000", "exp = 1000 is out of range"},
      {"\"requant\":[8,", "\"requant\":[99,", "shift = 99 is out of range"},
      {"\"output\":6", "\"output\":60", "out of range"},
      {"{\"dtype\":\"int8\",\"exp\":6", "{\"dtype\":\"int32\",\"exp\":6", "tensor 'x.q' has dtype int32"},
      {"\"dtype\":\"int8\",\"shape\":[16,16,3,3]", "\"dtype\":\"int4\",\"shape\":[16,16,3,3]", "unknown dtype 'int4'"},
      {"\"shape\":[16,16,3,3]", "\"shape\":[16,16,3,4]", "tensor blob has 2304 bytes, its shape needs 3072"},
      // 2^34 int8 elements: rejected by the blob size before a 16 GB tensor is allocated
      {"\"shape\":[16,16,3,3]", "\"shape\":[131072,131072,1,1]", "its shape needs 17179869184"},
      {"\"where\":\"cpu\",\"why\":\"reshape", "\"where\":\"core\",\"why\":\"reshape", "'layout' not found"},
      {"\"compiled\":[{\"step\":0,", "\"compiled\":[{\"step\":1,", "compiled steps out of order"},
      {"\"shape\":[1,16,4,4]", "\"shape\":[1,-16,4,4]", "dimension of -16"},
      {"\"name\":\"x\"", "\"name\":7", "malformed description"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.from + " -> " + c.to);
    Bytes b;
    try {
      b = edit_json(good, c.from, c.to);
    } catch (const std::runtime_error& e) {
      ADD_FAILURE() << e.what() << "\n" << text.substr(0, 2000);
      continue;
    }
    expect_rejected(b, c.from + " -> " + c.to, c.why);
  }
  // not JSON at all, cut short, empty
  expect_rejected(with_json(good, text.substr(0, text.size() - 1)), "JSON cut short", "malformed description");
  expect_rejected(with_json(good, "not json"), "not JSON", "malformed description");
  expect_rejected(with_json(good, ""), "empty JSON", "malformed description");
  expect_rejected(with_json(good, "[]"), "a JSON array", "malformed description");
  // the blob count claims more blobs than the file holds
  Bytes b = good;
  const size_t count_at = 24 + text.size();
  b[count_at + 7] = 0x01;
  expect_rejected(b, "blob count", "blob count larger than the file");
}

TEST(PackageErrors, RandomByteFlips) {
  // 2000 packages with one byte xor-ed with a random nonzero value (fixed seed, deterministic package):
  // each must parse or be a vta::Error naming the package; anything else (another exception type, a
  // crash; out-of-bounds reads under the ASan preset, which runs this test too) fails. A package that
  // parses (a flipped weight, micro-op or instruction byte, a changed number) must also print its plan
  // and assembly and run once on fsim, again either completing or throwing a vta::Error (fsim checks
  // every instruction, so a corrupted stream is an error, not a crash).
  const Bytes good = tiny_package();
  std::mt19937 rng(20261202);
  std::uniform_int_distribution<size_t> pos(0, good.size() - 1);
  std::uniform_int_distribution<int> val(1, 255);
  const Tensor input = random_normal({1, 16, 4, 4}, 1);
  size_t parsed = 0, rejected = 0, ran = 0, run_errors = 0;
  for (int i = 0; i < 2000; ++i) {
    Bytes b = good;
    const size_t at = pos(rng);
    b[at] = static_cast<uint8_t>(b[at] ^ val(rng));
    const std::string context = fmt::format("flip {} at byte {} (0x{:02x} -> 0x{:02x})", i, at, good[at], b[at]);
    std::optional<CompiledModel> cm;
    try {
      cm = parse_package(b, kName);
      ++parsed;
    } catch (const Error& e) {
      ++rejected;
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind("cannot load package '" + kName + "': ", 0), 0u) << context << ": " << msg;
    } catch (const std::exception& e) {
      ADD_FAILURE() << context << ": parse_package threw a " << typeid(e).name() << " instead of vta::Error: " << e.what();
    } catch (...) {
      ADD_FAILURE() << context << ": parse_package threw a non-std exception";
    }
    if (!cm) continue;
    EXPECT_FALSE(has_step_without_weight(*cm)) << context << ": a conv/dense step without a weight parsed";
    try {
      (void)cm->plan_text();
      (void)cm->asm_text();
      runtime::Session session("fsim", cm->config);
      ModelRunner runner(session, *cm);
      (void)runner.run(input);
      ++ran;
    } catch (const Error&) {
      ++run_errors;
    } catch (const std::exception& e) {
      ADD_FAILURE() << context << ": parsed, then " << typeid(e).name() << " instead of vta::Error: " << e.what();
    }
  }
  EXPECT_EQ(parsed + rejected, 2000u);
  EXPECT_GT(rejected, 0u);
  EXPECT_GT(ran, 0u);
  std::printf("random byte flips: %zu rejected by parse_package; %zu parsed: %zu ran, %zu vta::Error while running\n",
              rejected, parsed, ran, run_errors);
}

// The fused conv2d + residual add: its step and core operator fields are checked and must agree.
TEST(PackageErrors, ResidualFieldsAreChecked) {
  const CompiledModel cm = compile_graph_for(residual_graph(), isa::HwConfig::default_config());
  const Bytes good = serialize_package(cm);
  const std::string text = json_text(good);
  ASSERT_EQ(nlohmann::json::parse(text).dump(), text);
  size_t fused = 0;
  while (fused < cm.qmodel.steps.size() && !cm.qmodel.steps[fused].has_residual()) ++fused;
  ASSERT_LT(fused, cm.qmodel.steps.size());
  const auto edited = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = nlohmann::json::parse(text);
    edit(j);
    return with_json(good, j.dump());
  };
  auto step = [&](nlohmann::json& j) -> nlohmann::json& { return j["model"]["steps"][fused]; };
  expect_rejected(edited([&](nlohmann::json& j) { step(j).erase("residual_requant"); }), "no residual_requant",
                  "a conv2d with a residual input needs residual_requant");
  expect_rejected(edited([&](nlohmann::json& j) { j["model"]["steps"][1]["residual_requant"] = {0, 0, -128, 127}; }),
                  "residual_requant on conv1", "residual_requant on a step without a residual input");
  expect_rejected(edited([&](nlohmann::json& j) { step(j)["residual_requant"][0] = 40; }), "residual shift 40",
                  "shift = 40 is out of range");
  // conv1's output (16x12x12; the fused step's output is 16x6x6)
  expect_rejected(edited([&](nlohmann::json& j) { step(j)["inputs"][1] = j["model"]["steps"][1]["output"]; }),
                  "residual of another shape", "the residual's shape differs from the output's");
  expect_rejected(edited([&](nlohmann::json& j) { j["compiled"][fused]["layout"]["residual"][1] = 9; }),
                  "identity shift 9", "residual parameter out of range");
  expect_rejected(edited([&](nlohmann::json& j) { j["compiled"][fused]["layout"].erase("residual"); }),
                  "layout without residual", "residual input does not match");
}

// A conv/dense step without its weight (the key renamed, or a max pool relabelled as a conv) is malformed.
TEST(PackageErrors, ConvOrDenseStepWithoutWeightIsRejected) {
  const Bytes good = tiny_package();
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"weight\":{\"blob\":2,", "\"weigxt\":{\"blob\":2,"},  // the Dense step 'fc' loses its weight
           {"\"op\":\"MaxPool\"", "\"op\":\"Conv2d\""}}) {      // the core step 'pool' claims to be a conv
    SCOPED_TRACE(from + " -> " + to);
    const Bytes b = edit_json(good, from, to);
    const std::string msg = parse_error(b, from + " -> " + to);
    EXPECT_FALSE(msg.empty()) << "parse_package accepted a conv/dense step without a weight";
    EXPECT_NE(msg.find("weight"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace vta::model
