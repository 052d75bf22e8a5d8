#include "vta/isa/hw_config.h"

#include "vta/isa/fnv1a.h"

#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "field_packing.h"
#include "vta/isa/error.h"

namespace vta::isa {
namespace {

using nlohmann::json;

// Keys Apache VTA's tooling adds as derived values; accepted when consistent with the derivation.
const std::set<std::string> kDerivedKeys = {"LOG_BLOCK_IN", "LOG_BLOCK_OUT", "LOG_OUT_WIDTH", "LOG_OUT_BUFF_SIZE"};
const std::set<std::string> kKnownKeys = {"TARGET", "HW_VER", "LOG_INP_WIDTH", "LOG_WGT_WIDTH", "LOG_ACC_WIDTH",
                                          "LOG_BATCH", "LOG_BLOCK", "LOG_UOP_BUFF_SIZE", "LOG_INP_BUFF_SIZE",
                                          "LOG_WGT_BUFF_SIZE", "LOG_ACC_BUFF_SIZE", "LOG_BUS_WIDTH", "timing",
                                          "LOG_BLOCK_IN", "LOG_BLOCK_OUT", "LOG_OUT_WIDTH", "LOG_OUT_BUFF_SIZE"};

uint32_t get_log(const json& j, const std::string& key, uint32_t lo, uint32_t hi) {
  auto it = j.find(key);
  if (it == j.end()) throw ConfigError(key, "missing");
  if (!it->is_number_integer()) throw ConfigError(key, "must be an integer, got " + it->dump());
  const int64_t v = it->get<int64_t>();
  if (v < lo || v > hi) throw ConfigError(key, fmt::format("value {} out of the supported range [{}, {}]", v, lo, hi));
  return static_cast<uint32_t>(v);
}

std::string get_string(const json& j, const std::string& key, const std::string& fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (!it->is_string()) throw ConfigError(key, "must be a string, got " + it->dump());
  return it->get<std::string>();
}

uint32_t ilog2(uint64_t v) {
  uint32_t r = 0;
  while (v > 1) {
    v >>= 1;
    ++r;
  }
  return r;
}

BufferGeometry make_buffer(const std::string& key, uint32_t log_size_bytes, uint32_t element_bits) {
  BufferGeometry g;
  g.element_bits = element_bits;
  g.element_bytes = element_bits / 8;
  const uint64_t size_bits = uint64_t{8} << log_size_bytes;
  if (size_bits < element_bits)
    throw ConfigError(key, fmt::format("a {}-byte buffer cannot hold one {}-bit element", uint64_t{1} << log_size_bytes,
                                       element_bits));
  g.depth = static_cast<uint32_t>(size_bits / element_bits);
  g.log_depth = ilog2(g.depth);
  g.size_bytes = uint64_t{g.depth} * g.element_bytes;
  if (g.log_depth > FixedFieldWidths::kSramAddress)
    throw ConfigError(key, fmt::format("depth {} exceeds the {}-bit SRAM address field of LOAD/STORE", g.depth,
                                       FixedFieldWidths::kSramAddress));
  return g;
}

}  // namespace

HwConfig HwConfig::from_json(const json& j) {
  if (!j.is_object()) throw ConfigError("(root)", "the config must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (!kKnownKeys.count(key)) throw ConfigError(key, "unknown key");
  }
  HwConfig c;
  c.target_ = get_string(j, "TARGET", "sim");
  c.hw_ver_ = get_string(j, "HW_VER", "0.0.2");
  if (c.hw_ver_ != "0.0.2") throw ConfigError("HW_VER", "only ISA version 0.0.2 is supported, got " + c.hw_ver_);
  // Sub-byte element types are not supported (values are stored in whole bytes).
  c.log_inp_width_ = get_log(j, "LOG_INP_WIDTH", 3, 5);
  c.log_wgt_width_ = get_log(j, "LOG_WGT_WIDTH", 3, 5);
  c.log_acc_width_ = get_log(j, "LOG_ACC_WIDTH", 3, 5);
  c.log_batch_ = get_log(j, "LOG_BATCH", 0, 6);
  if (j.contains("LOG_BLOCK")) {
    const uint32_t b = get_log(j, "LOG_BLOCK", 0, 8);
    for (const char* k : {"LOG_BLOCK_IN", "LOG_BLOCK_OUT"})
      if (j.contains(k) && get_log(j, k, 0, 8) != b) throw ConfigError(k, "disagrees with LOG_BLOCK");
    c.log_block_in_ = c.log_block_out_ = b;
  } else {
    if (!j.contains("LOG_BLOCK_IN") && !j.contains("LOG_BLOCK_OUT"))
      throw ConfigError("LOG_BLOCK", "missing (give LOG_BLOCK, or LOG_BLOCK_IN and LOG_BLOCK_OUT)");
    c.log_block_in_ = get_log(j, "LOG_BLOCK_IN", 0, 8);
    c.log_block_out_ = get_log(j, "LOG_BLOCK_OUT", 0, 8);
  }
  c.log_uop_buff_size_ = get_log(j, "LOG_UOP_BUFF_SIZE", 2, 30);
  c.log_inp_buff_size_ = get_log(j, "LOG_INP_BUFF_SIZE", 0, 30);
  c.log_wgt_buff_size_ = get_log(j, "LOG_WGT_BUFF_SIZE", 0, 30);
  c.log_acc_buff_size_ = get_log(j, "LOG_ACC_BUFF_SIZE", 0, 30);
  if (j.contains("LOG_BUS_WIDTH")) get_log(j, "LOG_BUS_WIDTH", 3, 10);
  if (auto it = j.find("timing"); it != j.end()) {
    if (!it->is_object()) throw ConfigError("timing", "must be an object");
    for (const auto& [key, value] : it->items()) {
      const std::string full = "timing." + key;
      if (key == "clock_mhz") {
        if (!value.is_number() || value.get<double>() <= 0) throw ConfigError(full, "must be a positive number");
        c.timing_.clock_mhz = value.get<double>();
      } else if (key == "dram_latency_cycles" || key == "dram_bytes_per_cycle") {
        if (!value.is_number_integer() || value.get<int64_t>() < (key == "dram_latency_cycles" ? 0 : 1) ||
            value.get<int64_t>() > (1 << 20))
          throw ConfigError(full, "must be an integer in range");
        (key == "dram_latency_cycles" ? c.timing_.dram_latency_cycles : c.timing_.dram_bytes_per_cycle) =
            value.get<uint32_t>();
      } else {
        throw ConfigError(full, "unknown key");
      }
    }
  }
  c.derive_and_validate();
  // VTA's derived keys must agree with what we derive.
  if (j.contains("LOG_OUT_WIDTH") && get_log(j, "LOG_OUT_WIDTH", 0, 8) != c.log_out_width())
    throw ConfigError("LOG_OUT_WIDTH", "must equal LOG_INP_WIDTH");
  if (j.contains("LOG_OUT_BUFF_SIZE") && get_log(j, "LOG_OUT_BUFF_SIZE", 0, 40) != ilog2(c.out_.size_bytes))
    throw ConfigError("LOG_OUT_BUFF_SIZE", fmt::format("must equal {} (derived)", ilog2(c.out_.size_bytes)));
  return c;
}

HwConfig HwConfig::from_string(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    // Not only parse_error: a number too large for a double is an out_of_range (found by fuzzing).
    throw ConfigError("(file)", std::string("not valid JSON: ") + e.what());
  }
  return from_json(j);
}

HwConfig HwConfig::from_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("(file)", "cannot open " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return from_string(ss.str());
  } catch (const ConfigError& e) {
    throw ConfigError(e.key(), e.detail() + " (in " + path.string() + ")");
  }
}

HwConfig HwConfig::default_config() {
  HwConfig c;
  c.derive_and_validate();
  return c;
}

void HwConfig::derive_and_validate() {
  if (log_acc_width_ < log_inp_width_)
    throw ConfigError("LOG_ACC_WIDTH", "the accumulator must be at least as wide as the input/output type");
  uop_ = make_buffer("LOG_UOP_BUFF_SIZE", log_uop_buff_size_, FixedFieldWidths::kMicroOpBits);
  inp_ = make_buffer("LOG_INP_BUFF_SIZE", log_inp_buff_size_, inp_width() * batch() * block_in());
  wgt_ = make_buffer("LOG_WGT_BUFF_SIZE", log_wgt_buff_size_, wgt_width() * block_out() * block_in());
  acc_ = make_buffer("LOG_ACC_BUFF_SIZE", log_acc_buff_size_, acc_width() * batch() * block_out());
  out_.element_bits = out_width() * batch() * block_out();
  out_.element_bytes = out_.element_bits / 8;
  out_.depth = acc_.depth;
  out_.log_depth = acc_.log_depth;
  out_.size_bytes = uint64_t{out_.depth} * out_.element_bytes;

  const uint32_t uop_bits = uop_dst_bits() + uop_src_bits() + uop_wgt_bits();
  if (uop_bits > FixedFieldWidths::kMicroOpBits)
    throw ConfigError("LOG_ACC_BUFF_SIZE/LOG_INP_BUFF_SIZE/LOG_WGT_BUFF_SIZE",
                      fmt::format("micro-op fields need {} + {} + {} = {} bits, over the 32-bit micro-op", uop_dst_bits(),
                                  uop_src_bits(), uop_wgt_bits(), uop_bits));
  struct Kind {
    const char* name;
    const char* keys;
    std::vector<detail::FieldSpec> fields;
  };
  const Kind kinds[] = {
      {"GEMM", "LOG_UOP_BUFF_SIZE/LOG_ACC_BUFF_SIZE/LOG_INP_BUFF_SIZE/LOG_WGT_BUFF_SIZE", detail::gemm_fields(*this)},
      {"ALU", "LOG_UOP_BUFF_SIZE/LOG_ACC_BUFF_SIZE", detail::alu_fields(*this)},
  };
  for (const auto& k : kinds) {
    uint32_t total = 0;
    detail::pack_fields(k.fields, 64, &total);
    if (total > FixedFieldWidths::kInstructionBits)
      throw ConfigError(k.keys, fmt::format("{} instruction fields need {} bits, over the 128-bit instruction", k.name,
                                            total));
  }
}

const BufferGeometry& HwConfig::buffer(MemoryType type) const {
  switch (type) {
    case MemoryType::kUop: return uop_;
    case MemoryType::kWgt: return wgt_;
    case MemoryType::kInp: return inp_;
    case MemoryType::kAcc: return acc_;
    case MemoryType::kOut: return out_;
  }
  throw Error("invalid memory type " + std::to_string(static_cast<int>(type)));
}

json HwConfig::to_json() const {
  json j = {{"TARGET", target_},
            {"HW_VER", hw_ver_},
            {"LOG_INP_WIDTH", log_inp_width_},
            {"LOG_WGT_WIDTH", log_wgt_width_},
            {"LOG_ACC_WIDTH", log_acc_width_},
            {"LOG_BATCH", log_batch_}};
  if (log_block_in_ == log_block_out_) {
    j["LOG_BLOCK"] = log_block_in_;
  } else {
    j["LOG_BLOCK_IN"] = log_block_in_;
    j["LOG_BLOCK_OUT"] = log_block_out_;
  }
  j["LOG_UOP_BUFF_SIZE"] = log_uop_buff_size_;
  j["LOG_INP_BUFF_SIZE"] = log_inp_buff_size_;
  j["LOG_WGT_BUFF_SIZE"] = log_wgt_buff_size_;
  j["LOG_ACC_BUFF_SIZE"] = log_acc_buff_size_;
  j["timing"] = {{"clock_mhz", timing_.clock_mhz},
                 {"dram_latency_cycles", timing_.dram_latency_cycles},
                 {"dram_bytes_per_cycle", timing_.dram_bytes_per_cycle}};
  return j;
}

json HwConfig::derived_json() const {
  auto geometry = [](const BufferGeometry& g) {
    return json{{"element_bits", g.element_bits},
                {"element_bytes", g.element_bytes},
                {"depth", g.depth},
                {"log_depth", g.log_depth},
                {"size_bytes", g.size_bytes}};
  };
  json buffers = json::object();
  for (MemoryType t : kAllMemoryTypes) {
    std::string n(to_string(t));
    for (auto& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    buffers[n] = geometry(buffer(t));
  }
  // Apache VTA's derived constant names (hw_spec.h / pkg_config), for one-to-one comparison.
  json v;
  v["INP_WIDTH"] = inp_width();
  v["WGT_WIDTH"] = wgt_width();
  v["ACC_WIDTH"] = acc_width();
  v["OUT_WIDTH"] = out_width();
  v["LOG_OUT_WIDTH"] = log_out_width();
  v["BATCH"] = batch();
  v["BLOCK_IN"] = block_in();
  v["BLOCK_OUT"] = block_out();
  v["LOG_BLOCK_IN"] = log_block_in_;
  v["LOG_BLOCK_OUT"] = log_block_out_;
  const struct {
    const char* prefix;
    const BufferGeometry& g;
  } named[] = {{"UOP", uop_}, {"INP", inp_}, {"WGT", wgt_}, {"ACC", acc_}, {"OUT", out_}};
  for (const auto& n : named) {
    const std::string p = n.prefix;
    v[p + "_BUFF_SIZE"] = n.g.size_bytes;
    v["LOG_" + p + "_BUFF_SIZE"] = ilog2(n.g.size_bytes);
    v[p + "_BUFF_DEPTH"] = n.g.depth;
    v["LOG_" + p + "_BUFF_DEPTH"] = n.g.log_depth;
    if (p != "UOP") {
      v[p + "_ELEM_BITS"] = n.g.element_bits;
      v[p + "_ELEM_BYTES"] = n.g.element_bytes;
    }
  }
  v["INS_WIDTH"] = FixedFieldWidths::kInstructionBits;
  v["UOP_WIDTH"] = FixedFieldWidths::kMicroOpBits;
  v["LOOP_ITER_WIDTH"] = FixedFieldWidths::kLoopIter;
  v["ALUOP_IMM_BIT_WIDTH"] = FixedFieldWidths::kAluImmediate;
  v["MEMOP_SRAM_ADDR_BIT_WIDTH"] = FixedFieldWidths::kSramAddress;
  v["MEMOP_DRAM_ADDR_BIT_WIDTH"] = FixedFieldWidths::kDramAddress;

  json uop = {{"dst_bits", uop_dst_bits()}, {"src_bits", uop_src_bits()}, {"wgt_bits", uop_wgt_bits()}};
  return json{{"name", name()},      {"hash", hash()},         {"config", to_json()}, {"buffers", buffers},
              {"micro_op", uop},     {"vta_constants", v}};
}

std::string HwConfig::name() const {
  std::string shape = log_block_in_ == log_block_out_ ? fmt::format("{}x{}", batch(), block_in())
                                                      : fmt::format("{}x{}x{}", batch(), block_in(), block_out());
  return fmt::format("{}_i{}w{}a{}_{}_{}_{}_{}", shape, inp_width(), wgt_width(), acc_width(), log_uop_buff_size_,
                     log_inp_buff_size_, log_wgt_buff_size_, log_acc_buff_size_);
}

std::string HwConfig::hash() const {
  json j = to_json();
  j.erase("timing");
  j.erase("TARGET");
  return fmt::format("{:016x}", fnv1a(j.dump()));
}

bool HwConfig::operator==(const HwConfig& o) const { return to_json() == o.to_json(); }

}  // namespace vta::isa
