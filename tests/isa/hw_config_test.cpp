#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"
#include "vta/test/test_data.h"

namespace vta::isa {
namespace {

using nlohmann::json;

json default_json() {
  return json{{"TARGET", "sim"},          {"HW_VER", "0.0.2"},         {"LOG_INP_WIDTH", 3},
              {"LOG_WGT_WIDTH", 3},       {"LOG_ACC_WIDTH", 5},        {"LOG_BATCH", 0},
              {"LOG_BLOCK", 4},           {"LOG_UOP_BUFF_SIZE", 15},   {"LOG_INP_BUFF_SIZE", 15},
              {"LOG_WGT_BUFF_SIZE", 18},  {"LOG_ACC_BUFF_SIZE", 17}};
}

TEST(HwConfig, DefaultMatchesVtaDerivedConstants) {
  const HwConfig c = HwConfig::default_config();
  EXPECT_EQ(c.name(), "1x16_i8w8a32_15_15_18_17");
  EXPECT_EQ(c.uop().depth, 8192u);
  EXPECT_EQ(c.uop().log_depth, 13u);
  EXPECT_EQ(c.inp().element_bytes, 16u);
  EXPECT_EQ(c.inp().depth, 2048u);
  EXPECT_EQ(c.inp().log_depth, 11u);
  EXPECT_EQ(c.wgt().element_bytes, 256u);
  EXPECT_EQ(c.wgt().depth, 1024u);
  EXPECT_EQ(c.wgt().log_depth, 10u);
  EXPECT_EQ(c.acc().element_bytes, 64u);
  EXPECT_EQ(c.acc().depth, 2048u);
  EXPECT_EQ(c.out().element_bytes, 16u);
  EXPECT_EQ(c.out().depth, 2048u);
  EXPECT_EQ(c.out().size_bytes, 32768u);
  EXPECT_EQ(c.uop_dst_bits() + c.uop_src_bits() + c.uop_wgt_bits(), 32u);
  const json d = c.derived_json();
  EXPECT_EQ(d["vta_constants"]["LOG_OUT_BUFF_SIZE"], 15);
  EXPECT_EQ(d["vta_constants"]["LOG_ACC_BUFF_DEPTH"], 11);
  EXPECT_EQ(d["vta_constants"]["WGT_ELEM_BITS"], 2048);
}

TEST(HwConfig, DefaultFileEqualsBuiltInDefault) {
  EXPECT_EQ(HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/default.json"), HwConfig::default_config());
  EXPECT_EQ(HwConfig::from_json(default_json()), HwConfig::default_config());
}

TEST(HwConfig, EveryShippedConfigLoadsAndRoundTrips) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(VTA_CONFIG_DIR)) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    const HwConfig c = HwConfig::from_file(entry.path());
    EXPECT_EQ(HwConfig::from_json(c.to_json()), c);
    EXPECT_EQ(c.out().depth, c.acc().depth);
    EXPECT_EQ(c.inp().element_bits, c.inp_width() * c.batch() * c.block_in());
    EXPECT_EQ(c.wgt().element_bits, c.wgt_width() * c.block_in() * c.block_out());
    EXPECT_EQ(c.acc().element_bits, c.acc_width() * c.batch() * c.block_out());
    ++count;
  }
  EXPECT_GE(count, 4);
}

TEST(HwConfig, DerivedValuesFollowTheConfig) {
  json j = default_json();
  j["LOG_BATCH"] = 1;
  const HwConfig b2 = HwConfig::from_json(j);
  EXPECT_EQ(b2.inp().element_bytes, 32u);
  EXPECT_EQ(b2.inp().depth, 1024u);
  EXPECT_EQ(b2.acc().element_bytes, 128u);
  EXPECT_EQ(b2.name(), "2x16_i8w8a32_15_15_18_17");
  json k = default_json();
  k.erase("LOG_BLOCK");
  k["LOG_BLOCK_IN"] = 4;
  k["LOG_BLOCK_OUT"] = 5;
  k["LOG_WGT_BUFF_SIZE"] = 19;
  k["LOG_ACC_BUFF_SIZE"] = 18;
  const HwConfig asym = HwConfig::from_json(k);
  EXPECT_EQ(asym.wgt().element_bytes, 512u);
  EXPECT_EQ(asym.block_out(), 32u);
  EXPECT_EQ(asym.out().element_bytes, 32u);
}

TEST(HwConfig, AcceptsVtaDerivedKeysWhenConsistent) {
  json j = default_json();
  j["LOG_BLOCK_IN"] = 4;
  j["LOG_BLOCK_OUT"] = 4;
  j["LOG_OUT_WIDTH"] = 3;
  j["LOG_OUT_BUFF_SIZE"] = 15;
  EXPECT_NO_THROW(HwConfig::from_json(j));
  j["LOG_OUT_BUFF_SIZE"] = 16;
  EXPECT_THROW(HwConfig::from_json(j), ConfigError);
}

void expect_rejected(const json& j, const std::string& key) {
  try {
    HwConfig::from_json(j);
    FAIL() << "accepted " << j.dump();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
  }
}

TEST(HwConfig, RejectsInvalidConfigsNamingTheKey) {
  for (const char* key : {"LOG_INP_WIDTH", "LOG_WGT_WIDTH", "LOG_ACC_WIDTH", "LOG_BATCH", "LOG_UOP_BUFF_SIZE",
                          "LOG_INP_BUFF_SIZE", "LOG_WGT_BUFF_SIZE", "LOG_ACC_BUFF_SIZE"}) {
    json missing = default_json();
    missing.erase(key);
    expect_rejected(missing, key);
    json wrong_type = default_json();
    wrong_type[key] = "three";
    expect_rejected(wrong_type, key);
  }
  json no_block = default_json();
  no_block.erase("LOG_BLOCK");
  expect_rejected(no_block, "LOG_BLOCK");
  json sub_byte = default_json();
  sub_byte["LOG_INP_WIDTH"] = 2;
  expect_rejected(sub_byte, "LOG_INP_WIDTH");
  json tiny_wgt = default_json();
  tiny_wgt["LOG_WGT_BUFF_SIZE"] = 7;  // 128 bytes < one 256-byte weight element
  expect_rejected(tiny_wgt, "LOG_WGT_BUFF_SIZE");
  json big_uop = default_json();
  big_uop["LOG_UOP_BUFF_SIZE"] = 29;  // GEMM fields overflow 128 bits
  expect_rejected(big_uop, "LOG_UOP_BUFF_SIZE");
  json big_acc = default_json();
  big_acc["LOG_ACC_BUFF_SIZE"] = 20;  // micro-op fields overflow 32 bits
  expect_rejected(big_acc, "LOG_ACC_BUFF_SIZE");
  json unknown = default_json();
  unknown["LOG_BLOK"] = 4;
  expect_rejected(unknown, "LOG_BLOK");
  json version = default_json();
  version["HW_VER"] = "0.0.1";
  expect_rejected(version, "HW_VER");
  json narrow_acc = default_json();
  narrow_acc["LOG_ACC_WIDTH"] = 3;
  narrow_acc["LOG_INP_WIDTH"] = 4;
  expect_rejected(narrow_acc, "LOG_ACC_WIDTH");
  json bad_timing = default_json();
  bad_timing["timing"] = {{"clock_mhz", -5}};
  expect_rejected(bad_timing, "timing.clock_mhz");
  EXPECT_THROW(HwConfig::from_string("{ not json"), ConfigError);
  EXPECT_THROW(HwConfig::from_string("[1,2]"), ConfigError);
  // A number beyond a double is nlohmann's out_of_range, not a parse_error (found by fuzzing).
  EXPECT_THROW(HwConfig::from_string("{\"LOG_BATCH\": 1e99999}"), ConfigError);
  EXPECT_THROW(HwConfig::from_file("/nonexistent/config.json"), ConfigError);
}

TEST(HwConfig, LoadsTheConfigRecordedWithConformanceVectors) {
  const std::filesystem::path meta = vta::test::require_test_data(vta::test::conformance_recording("tiny.T1") / "meta.json");
  std::ifstream in(meta);
  const json j = json::parse(in);
  EXPECT_EQ(HwConfig::from_json(j["vta_cfg"]), HwConfig::default_config());
}

// The build points the tests at folders inside the repository, and they exist.
TEST(TestData, FoldersInsideTheRepositoryExist) {
  EXPECT_TRUE(std::filesystem::is_directory(vta::test::test_data_dir()));
  EXPECT_TRUE(std::filesystem::is_directory(vta::test::conformance_root()));
  EXPECT_THROW(vta::test::require_test_data(vta::test::test_data_dir() / "no-such-file"), std::runtime_error);
}

TEST(HwConfig, HashDependsOnHardwareKeysOnly) {
  json j = default_json();
  j["timing"] = {{"clock_mhz", 250}};
  EXPECT_EQ(HwConfig::from_json(j).hash(), HwConfig::default_config().hash());
  j["LOG_BATCH"] = 1;
  EXPECT_NE(HwConfig::from_json(j).hash(), HwConfig::default_config().hash());
}

}  // namespace
}  // namespace vta::isa
