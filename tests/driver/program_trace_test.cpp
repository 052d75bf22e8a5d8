// ProgramTrace::load / save_manifest: a valid manifest loads, and every kind of broken trace is rejected
// with a clear vta::Error naming the problem.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "vta/driver/program_trace.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"

namespace vta::driver {
namespace {

using nlohmann::json;
using test::TempDir;

// A valid trace: an instruction region and a data region with an expected file.
class TraceManifest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_file(dir_ / "insns.bin", std::vector<uint8_t>(32, 0));
    test::write_file(dir_ / "data.bin", std::vector<uint8_t>(64, 1));
    test::write_file(dir_ / "data.expected.bin", std::vector<uint8_t>(64, 2));
    manifest_ = {
        {"format", "vta-trace"},
        {"version", 1},
        {"config", isa::HwConfig::default_config().to_json()},
        {"instructions", {{"address", 0x10000}, {"count", 2}}},
        {"regions", json::array({
                        {{"name", "instructions"}, {"address", 0x10000}, {"size", 32}, {"file", "insns.bin"},
                         {"dump", false}},
                        {{"name", "data"}, {"address", 0x20000}, {"size", 64}, {"file", "data.bin"},
                         {"dump", true}, {"expected", "data.expected.bin"}},
                    })},
        {"expected_counters", {{"gemm_counter", 5}, {"alu_counter", 0}}},
    };
  }

  void write_manifest(const json& j) { test::write_text(dir_ / "manifest.json", j.dump(2)); }

  // Loading must fail with vta::Error whose message contains every string of `needles`.
  void expect_error(const std::vector<std::string>& needles) {
    try {
      ProgramTrace::load(dir_.path());
      ADD_FAILURE() << "trace loaded but should fail with: " << needles.front();
    } catch (const Error& e) {
      const std::string what = e.what();
      for (const auto& needle : needles) EXPECT_NE(what.find(needle), std::string::npos) << what;
    }
  }
  void expect_error_with(const json& j, const std::vector<std::string>& needles) {
    write_manifest(j);
    expect_error(needles);
  }

  TempDir dir_;
  json manifest_;
};

TEST_F(TraceManifest, ValidManifestLoads) {
  write_manifest(manifest_);
  const ProgramTrace trace = ProgramTrace::load(dir_.path());
  EXPECT_EQ(trace.config, isa::HwConfig::default_config());
  EXPECT_EQ(trace.insn_address, 0x10000u);
  EXPECT_EQ(trace.insn_count, 2u);
  ASSERT_EQ(trace.regions.size(), 2u);
  EXPECT_EQ(trace.regions[0].name, "instructions");
  EXPECT_FALSE(trace.regions[0].dump);
  EXPECT_FALSE(trace.regions[0].expected_file.has_value());
  EXPECT_EQ(trace.regions[1].name, "data");
  EXPECT_EQ(trace.regions[1].address, 0x20000u);
  EXPECT_EQ(trace.regions[1].size, 64u);
  EXPECT_EQ(trace.regions[1].file, "data.bin");
  EXPECT_TRUE(trace.regions[1].dump);
  EXPECT_EQ(trace.regions[1].expected_file, "data.expected.bin");
  ASSERT_TRUE(trace.expected_counters.has_value());
  EXPECT_EQ(trace.expected_counters->gemm_counter, 5u);
  EXPECT_EQ(trace.expected_counter_names, (std::vector<std::string>{"alu_counter", "gemm_counter"}));
}

TEST_F(TraceManifest, OptionalPartsMayBeOmitted) {
  manifest_.erase("expected_counters");
  manifest_["regions"][0].erase("dump");
  write_manifest(manifest_);
  const ProgramTrace trace = ProgramTrace::load(dir_.path());
  EXPECT_FALSE(trace.expected_counters.has_value());
  EXPECT_FALSE(trace.regions[0].dump);
}

TEST_F(TraceManifest, HexStringAddressesAreAccepted) {
  manifest_["instructions"]["address"] = "0x10010";
  manifest_["instructions"]["count"] = 1;
  manifest_["regions"][1]["address"] = "0x20000";
  write_manifest(manifest_);
  const ProgramTrace trace = ProgramTrace::load(dir_.path());
  EXPECT_EQ(trace.insn_address, 0x10010u);
  EXPECT_EQ(trace.regions[1].address, 0x20000u);
}

TEST_F(TraceManifest, SaveManifestRoundTrips) {
  write_manifest(manifest_);
  const ProgramTrace trace = ProgramTrace::load(dir_.path());
  std::filesystem::remove(dir_ / "manifest.json");
  trace.save_manifest(dir_.path());
  const ProgramTrace again = ProgramTrace::load(dir_.path());
  EXPECT_EQ(again.config, trace.config);
  EXPECT_EQ(again.insn_address, trace.insn_address);
  EXPECT_EQ(again.insn_count, trace.insn_count);
  ASSERT_EQ(again.regions.size(), trace.regions.size());
  for (size_t i = 0; i < trace.regions.size(); ++i) {
    EXPECT_EQ(again.regions[i].name, trace.regions[i].name);
    EXPECT_EQ(again.regions[i].address, trace.regions[i].address);
    EXPECT_EQ(again.regions[i].size, trace.regions[i].size);
    EXPECT_EQ(again.regions[i].file, trace.regions[i].file);
    EXPECT_EQ(again.regions[i].dump, trace.regions[i].dump);
    EXPECT_EQ(again.regions[i].expected_file, trace.regions[i].expected_file);
  }
  EXPECT_EQ(again.expected_counters, trace.expected_counters);
  EXPECT_EQ(again.expected_counter_names, trace.expected_counter_names);
  // The written file is the documented format.
  const json written = json::parse(test::read_text(dir_ / "manifest.json"));
  EXPECT_EQ(written["format"], "vta-trace");
  EXPECT_EQ(written["version"], 1);
  EXPECT_EQ(written["regions"][1]["expected"], "data.expected.bin");
  EXPECT_FALSE(written["expected_counters"].contains("cycle_count"));
}

TEST_F(TraceManifest, MissingDirectory) {
  try {
    ProgramTrace::load(dir_ / "nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
  }
}

TEST_F(TraceManifest, MissingManifest) { expect_error({"manifest.json"}); }

TEST_F(TraceManifest, MalformedJson) {
  test::write_text(dir_ / "manifest.json", "{\"format\": \"vta-trace\", \"version\": 1,");
  expect_error({"manifest.json", "malformed JSON"});
}

TEST_F(TraceManifest, NotAnObject) { expect_error_with(json::array({1, 2}), {"must hold a JSON object"}); }

TEST_F(TraceManifest, WrongFormatOrVersion) {
  auto j = manifest_;
  j["format"] = "something-else";
  expect_error_with(j, {"format", "vta-trace"});
  j = manifest_;
  j["version"] = 2;
  expect_error_with(j, {"unsupported version 2"});
  j = manifest_;
  j["version"] = "1";
  expect_error_with(j, {"version"});
}

TEST_F(TraceManifest, MissingKeys) {
  for (const char* key : {"format", "version", "config", "instructions", "regions"}) {
    auto j = manifest_;
    j.erase(key);
    expect_error_with(j, {std::string("missing key \"") + key + "\""});
  }
  for (const char* key : {"name", "address", "size", "file"}) {
    auto j = manifest_;
    j["regions"][1].erase(key);
    expect_error_with(j, {"regions[1]", std::string("missing key \"") + key + "\""});
  }
  for (const char* key : {"address", "count"}) {
    auto j = manifest_;
    j["instructions"].erase(key);
    expect_error_with(j, {"instructions", std::string("missing key \"") + key + "\""});
  }
}

TEST_F(TraceManifest, WrongTypes) {
  auto j = manifest_;
  j["regions"][1]["size"] = "sixty-four";
  expect_error_with(j, {"regions[1] (\"data\").size", "non-negative integer"});
  j = manifest_;
  j["regions"][1]["address"] = -4096;
  expect_error_with(j, {"address", "non-negative integer"});
  j = manifest_;
  j["regions"][1]["size"] = 64.5;
  expect_error_with(j, {"size", "non-negative integer"});
  j = manifest_;
  j["regions"][1]["dump"] = "yes";
  expect_error_with(j, {"dump", "true or false"});
  j = manifest_;
  j["regions"][1]["file"] = 3;
  expect_error_with(j, {"file", "must be a string"});
  j = manifest_;
  j["regions"] = {{"name", "x"}};
  expect_error_with(j, {"regions"});
  j = manifest_;
  j["regions"][0] = 7;
  expect_error_with(j, {"regions[0]", "must be an object"});
  j = manifest_;
  j["instructions"] = 5;
  expect_error_with(j, {"instructions", "must be an object"});
  j = manifest_;
  j["expected_counters"] = json::array();
  expect_error_with(j, {"expected_counters", "must be an object"});
  j = manifest_;
  j["expected_counters"]["gemm_counter"] = -1;
  expect_error_with(j, {"expected_counters.gemm_counter", "non-negative integer"});
}

TEST_F(TraceManifest, UnknownKeysAreRejected) {
  auto j = manifest_;
  j["regions"][1]["dumb"] = true;  // a typo must not be silently ignored
  expect_error_with(j, {"unknown key \"dumb\""});
  j = manifest_;
  j["instruction"] = j["instructions"];
  expect_error_with(j, {"unknown key \"instruction\""});
  j = manifest_;
  j["expected_counters"]["gemm_count"] = 1;
  expect_error_with(j, {"expected_counters.gemm_count", "unknown counter"});
}

TEST_F(TraceManifest, MissingFile) {
  std::filesystem::remove(dir_ / "data.bin");
  expect_error_with(manifest_, {"regions[1] (\"data\")", "data.bin", "does not exist"});
}

TEST_F(TraceManifest, MissingExpectedFile) {
  std::filesystem::remove(dir_ / "data.expected.bin");
  expect_error_with(manifest_, {"data.expected.bin", "does not exist"});
}

TEST_F(TraceManifest, FileSizeMismatch) {
  test::write_file(dir_ / "data.bin", std::vector<uint8_t>(63, 1));
  expect_error_with(manifest_, {"data.bin", "has 63 bytes but the region size is 64"});
  test::write_file(dir_ / "data.bin", std::vector<uint8_t>(64, 1));
  test::write_file(dir_ / "data.expected.bin", std::vector<uint8_t>(65, 1));
  expect_error_with(manifest_, {"data.expected.bin", "has 65 bytes"});
}

TEST_F(TraceManifest, FilesMustStayInsideTheTrace) {
  auto j = manifest_;
  j["regions"][1]["file"] = "/etc/hostname";
  expect_error_with(j, {"must be relative"});
  j = manifest_;
  j["regions"][1]["file"] = "../data.bin";
  expect_error_with(j, {"must not leave the trace directory"});
}

TEST_F(TraceManifest, RegionNames) {
  auto j = manifest_;
  j["regions"][1]["name"] = "instructions";
  expect_error_with(j, {"duplicate region name \"instructions\""});
  j = manifest_;
  j["regions"][1]["name"] = "a/b";
  expect_error_with(j, {"invalid region name \"a/b\""});
  j = manifest_;
  j["regions"][1]["name"] = "";
  expect_error_with(j, {"invalid region name"});
}

TEST_F(TraceManifest, ZeroSizeRegion) {
  test::write_file(dir_ / "empty.bin", {});
  auto j = manifest_;
  j["regions"].push_back({{"name", "empty"}, {"address", 0x30000}, {"size", 0}, {"file", "empty.bin"}});
  expect_error_with(j, {"size must be greater than 0"});
}

TEST_F(TraceManifest, OverlappingRegions) {
  auto j = manifest_;
  j["regions"][1]["address"] = 0x10010;  // inside the instruction region
  expect_error_with(j, {"overlaps", "\"data\"", "\"instructions\""});
  j = manifest_;
  j["regions"][1]["address"] = 0x10020;  // adjacent is fine
  write_manifest(j);
  EXPECT_NO_THROW(ProgramTrace::load(dir_.path()));
}

TEST_F(TraceManifest, NoRegions) {
  auto j = manifest_;
  j["regions"] = json::array();
  expect_error_with(j, {"at least one region"});
}

TEST_F(TraceManifest, InstructionsOutsideRegions) {
  auto j = manifest_;
  j["instructions"]["address"] = 0x50000;
  expect_error_with(j, {"instructions", "do not lie inside one region"});
  j = manifest_;
  j["instructions"]["count"] = 3;  // 48 bytes in a 32-byte region
  expect_error_with(j, {"do not lie inside one region"});
  j = manifest_;
  j["instructions"]["address"] = 0x1fff0;  // straddles the gap into "data"
  expect_error_with(j, {"do not lie inside one region"});
  j = manifest_;
  j["instructions"]["count"] = 0;
  expect_error_with(j, {"instructions.count", "at least 1"});
  j = manifest_;
  j["instructions"]["count"] = 1ull << 33;
  expect_error_with(j, {"instructions.count", "32 bits"});
}

TEST_F(TraceManifest, BadConfigGivesConfigError) {
  auto j = manifest_;
  j["config"]["LOG_BLOCK"] = 99;
  write_manifest(j);
  try {
    ProgramTrace::load(dir_.path());
    FAIL() << "bad config accepted";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.key(), "LOG_BLOCK");
    EXPECT_NE(what.find("LOG_BLOCK"), std::string::npos) << what;
    EXPECT_NE(what.find("manifest.json"), std::string::npos) << what;
  }
  j = manifest_;
  j["config"].erase("LOG_ACC_WIDTH");
  expect_error_with(j, {"LOG_ACC_WIDTH"});
  j = manifest_;
  j["config"] = "default";
  expect_error_with(j, {"config", "must be an object"});
}

}  // namespace
}  // namespace vta::driver
