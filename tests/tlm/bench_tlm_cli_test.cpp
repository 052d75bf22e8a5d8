// `vta bench tlm` as a user runs it: three configs (VTA's default, batch2, block8) at three memory settings
// by default, every program's results equal on tsim and tlm, a summary per config and memory setting and
// one over everything; --config, repeated, replaces the default set.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "vta/test/run_command.h"

namespace {

using Result = vta::test::CommandResult;

Result run(const std::string& args) {  // stdout only: the progress lines go to stderr
  return vta::test::run_command(std::string(VTA_BIN) + " " + args + " 2>/dev/null");
}

TEST(BenchTlmCli, ThreeConfigsAtThreeMemorySettingsByDefault) {
  const Result r = run("bench tlm --layers C10 --random 2 --no-gemm --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j.at("results_equal").get<bool>());
  const std::set<std::string> configs(j.at("configs").begin(), j.at("configs").end());
  EXPECT_EQ(configs, (std::set<std::string>{"1x16_i8w8a32_15_15_18_17", "2x16_i8w8a32_15_15_18_17",
                                            "1x8_i8w8a32_14_14_16_16"}));
  // per config and memory setting: C10 and two random programs
  ASSERT_EQ(j.at("rows").size(), 3u * 3u * 3u);
  std::set<std::string> memories;
  for (const auto& row : j["rows"]) {
    SCOPED_TRACE(row.dump());
    memories.insert(row.at("memory").get<std::string>());
    EXPECT_TRUE(row.at("results_equal").get<bool>());
    EXPECT_GT(row.at("tsim_cycles").get<uint64_t>(), 0u);
    EXPECT_LT(std::abs(row.at("error").get<double>()), 0.05);  // the calibration bound for any program
  }
  EXPECT_EQ(memories.size(), 3u);
  bool overall = false;
  for (const auto& s : j.at("summary"))
    if (s.at("config") == "all" && s.at("memory") == "all" && s.at("kind") == "all") {
      overall = true;
      EXPECT_EQ(s.at("programs").get<size_t>(), 27u);
    }
  EXPECT_TRUE(overall) << "no summary over all programs";
}

TEST(BenchTlmCli, ConfigOptionReplacesTheDefaultSet) {
  const std::string file = std::string(VTA_CONFIG_DIR) + "/block8.json";
  const Result r = run("bench tlm --config " + file + " --layers C10 --random 0 --no-gemm --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.at("configs").size(), 1u);
  EXPECT_EQ(j["configs"][0], "1x8_i8w8a32_14_14_16_16");
  EXPECT_EQ(j.at("rows").size(), 3u);
}

TEST(BenchTlmCli, UnknownLayerIsAClearError) {
  const Result r = run("bench tlm --layers C99 --random 0 --no-gemm");
  EXPECT_NE(r.code, 0);
}

}  // namespace
