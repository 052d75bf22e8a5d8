// `vta bench conv2d` as a user runs it: the JSON table's shape, a PASS on every layer, and GEMM
// micro-ops equal to the ideal on the layers whose channels fill the blocks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "vta/test/run_command.h"

namespace {

namespace fs = std::filesystem;

using Result = vta::test::CommandResult;

Result run(const std::string& args) { return vta::test::run_command(std::string(VTA_BIN) + " " + args + " 2>&1"); }

fs::path temp_json(const char* tag) {
  return fs::temp_directory_path() / (std::string("vta-bench-conv2d-") + tag + "-" + std::to_string(getpid()) + ".json");
}

TEST(BenchConv2dCli, JsonTableForC10C11) {
  const fs::path json_path = temp_json("c10c11");
  const Result r = run("bench conv2d --workload resnet18 --layers C10,C11 --repeat 2 --json " + json_path.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("| C11 |"), std::string::npos) << r.out;  // the device-time table
  EXPECT_NE(r.out.find("C10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PASS"), std::string::npos) << r.out;
  std::ifstream in(json_path);
  ASSERT_TRUE(in.good());
  const nlohmann::json j = nlohmann::json::parse(in);
  fs::remove(json_path);
  EXPECT_EQ(j.at("benchmark"), "conv2d");
  EXPECT_EQ(j.at("workload"), "resnet18");
  EXPECT_TRUE(j.at("all_passed").get<bool>());
  ASSERT_EQ(j.at("layers").size(), 2u);
  EXPECT_EQ(j["layers"][0].at("name"), "C10");
  EXPECT_EQ(j["layers"][1].at("name"), "C11");
  for (const auto& l : j["layers"]) {
    SCOPED_TRACE(l.at("name").get<std::string>());
    EXPECT_EQ(l.at("check"), "PASS");
    EXPECT_EQ(l.at("gemm_uops").get<uint64_t>(), l.at("gemm_uops_ideal").get<uint64_t>());
    EXPECT_DOUBLE_EQ(l.at("mac_lane_utilization").get<double>(), 1.0);
    for (const char* k : {"inp", "wgt", "acc", "uop", "out", "total"}) EXPECT_TRUE(l.at("bytes").contains(k)) << k;
    const auto& b = l["bytes"];
    EXPECT_EQ(b["total"].get<uint64_t>(), b["inp"].get<uint64_t>() + b["wgt"].get<uint64_t>() +
                                              b["acc"].get<uint64_t>() + b["uop"].get<uint64_t>() +
                                              b["out"].get<uint64_t>());
    EXPECT_GT(l.at("lower_bound_bytes").get<uint64_t>(), 0u);
    EXPECT_NEAR(l.at("total_over_bound").get<double>(),
                double(b["total"].get<uint64_t>()) / double(l["lower_bound_bytes"].get<uint64_t>()), 1e-9);
    EXPECT_TRUE(l.at("tiling").contains("oc_blocks"));
    EXPECT_TRUE(l.contains("strategy"));
    EXPECT_GT(l.at("instructions").get<uint64_t>(), 0u);
    EXPECT_GE(l.at("compile_seconds").get<double>(), 0.0);
    EXPECT_GE(l.at("run_seconds").get<double>(), 0.0);
    // Device time: the best of --repeat runs, and its G MAC/s.
    ASSERT_EQ(l.at("device_seconds_runs").size(), 2u);
    const double best = l.at("device_seconds").get<double>();
    EXPECT_GT(best, 0.0);
    for (const auto& t : l["device_seconds_runs"]) EXPECT_GE(t.get<double>(), best);
    EXPECT_NEAR(l.at("gmacs_per_second").get<double>(), double(l.at("macs").get<uint64_t>()) / best * 1e-9, 1e-6);
    ASSERT_TRUE(l.at("apache_vta").is_object());
    EXPECT_GT(l["apache_vta"].at("total_over_bound").get<double>(), 1.0);
    // The target: at most 1.3x the lower bound per layer.
    EXPECT_LE(l.at("total_over_bound").get<double>(), 1.3);
  }
  // Apache VTA's published figures for these two layers (resnet18_counters.md).
  EXPECT_EQ(j["layers"][0]["apache_vta"]["total_bytes"].get<uint64_t>(), 244880u);
  EXPECT_EQ(j["layers"][1]["apache_vta"]["lower_bound_bytes"].get<uint64_t>(), 2411520u);
  // Apache VTA's recorded fsim times (ms per invocation) and the ratio to ours.
  EXPECT_DOUBLE_EQ(j["layers"][0]["apache_vta"]["fsim_ms"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(j["layers"][1]["apache_vta"]["fsim_ms"].get<double>(), 49.4);
  EXPECT_NEAR(j["layers"][1]["apache_vta"]["fsim_ms_over_ours"].get<double>(),
              49.4 / (j["layers"][1]["device_seconds"].get<double>() * 1e3), 1e-9);
  EXPECT_EQ(j.at("repeat").get<uint32_t>(), 2u);
  const auto& t = j.at("totals");
  EXPECT_EQ(t.at("gemm_uops").get<uint64_t>(), t.at("gemm_uops_ideal").get<uint64_t>());
  EXPECT_EQ(t.at("lower_bound_bytes").get<uint64_t>(), 208384u + 2411520u);
}

// On a timed target: cycles per layer against the roofline, the core's counters, the weighted total.
TEST(BenchConv2dCli, CyclesAgainstTheRooflineOnATimedTarget) {
  const Result targets = run("bench conv2d --target nonexistent");
  if (targets.out.find("tsim") == std::string::npos) GTEST_SKIP() << "no tsim in this build";
  const fs::path json_path = temp_json("cycles");
  const Result r = run("bench conv2d --target tsim --layers C4,C10,C11 --repeat 1 --json " + json_path.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("Cycles on tsim (DRAM"), std::string::npos) << r.out;
  std::ifstream in(json_path);
  const nlohmann::json j = nlohmann::json::parse(in);
  fs::remove(json_path);
  const auto& c = j.at("cycles");
  ASSERT_EQ(c.at("layers").size(), 3u);
  uint64_t weighted = 0;
  for (const auto& l : c.at("layers")) {
    const uint64_t cycles = l.at("cycles"), roof = l.at("roofline_cycles");
    EXPECT_GT(roof, 0u);
    EXPECT_GE(cycles, roof) << l.at("layer");  // nothing beats its roofline
    EXPECT_EQ(roof, std::max(l.at("compute_bound_cycles").get<uint64_t>(), l.at("memory_bound_cycles").get<uint64_t>()));
    EXPECT_GT(l.at("counters").at("compute_busy_cycles").get<uint64_t>(), 0u);
    EXPECT_LE(l.at("counters").at("compute_busy_cycles").get<uint64_t>(), cycles);
    // on DRAM: the load (store) module's busy cycles that are not token waits
    const auto& k = l.at("counters");
    EXPECT_EQ(l.at("load_on_dram_cycles").get<uint64_t>(),
              k.at("load_busy_cycles").get<uint64_t>() - k.at("load_stall_cycles").get<uint64_t>());
    EXPECT_EQ(l.at("store_on_dram_cycles").get<uint64_t>(),
              k.at("store_busy_cycles").get<uint64_t>() - k.at("store_stall_cycles").get<uint64_t>());
    EXPECT_GT(l.at("load_on_dram_cycles").get<uint64_t>(), 0u);
    weighted += cycles * l.at("occurrences").get<uint64_t>();
  }
  // The memory bound counts the input pixels a kernel reads: C4 (1x1, stride 2) reads 28x28 of its 56x56
  // pixels; 64 channels of them, 128x64 weights, 128x28x28 outputs, 128 int32 biases (the full input would
  // put the bound above the cycles the core takes).
  EXPECT_EQ(c.at("layers")[0].at("memory_bound_bytes").get<uint64_t>(), 64u * 28 * 28 + 128 * 64 + 128 * 28 * 28 + 128 * 4);
  const uint64_t bpc = c.at("dram_bytes_per_cycle");
  EXPECT_EQ(c.at("layers")[0].at("memory_bound_cycles").get<uint64_t>(),
            (64u * 28 * 28 + 128 * 64 + 128 * 28 * 28 + 128 * 4 + bpc - 1) / bpc);
  // C11 (3x3, stride 1, pad 1) reads every input pixel
  EXPECT_EQ(c.at("layers")[2].at("memory_bound_bytes").get<uint64_t>(), 512u * 7 * 7 + 512 * 512 * 9 + 512 * 7 * 7 + 512 * 4);
  EXPECT_EQ(c.at("layers")[2].at("occurrences"), 3);  // C11 occurs three times in ResNet-18
  EXPECT_EQ(c.at("weighted_cycles").get<uint64_t>(), weighted);
  EXPECT_FALSE(c.at("whole_resnet18").get<bool>());
  EXPECT_GT(c.at("dram_bytes_per_cycle").get<uint64_t>(), 0u);
  // the simulator's speed over the same layers: device seconds weighted as the cycles, and their ratio
  EXPECT_NE(r.out.find("M simulated cycles/s"), std::string::npos) << r.out;
  double seconds = 0;
  for (const auto& l : j.at("layers")) {
    const std::string name = l.at("name");
    seconds += l.at("device_seconds").get<double>() * (name == "C11" ? 3 : 1);
  }
  EXPECT_NEAR(c.at("weighted_device_seconds").get<double>(), seconds, 1e-9);
  ASSERT_GT(seconds, 0);
  EXPECT_NEAR(c.at("simulated_cycles_per_second").get<double>(), double(weighted) / seconds, 1e-6 * double(weighted) / seconds);
}

// --tiling forces the tiling the layer runs with (checked like the compiler's own), and one that does not
// fit or does not parse is an error naming why.
TEST(BenchConv2dCli, ForcedTilingRunsAndBadOnesAreErrors) {
  const fs::path json_path = temp_json("tiling");
  const Result r = run("bench conv2d --layers C10 --repeat 1 --tiling oc=8,rows=7,cols=7,ic=4,pieces=2 --json " +
                       json_path.string());
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream in(json_path);
  const nlohmann::json j = nlohmann::json::parse(in);
  fs::remove(json_path);
  const auto& t = j.at("layers").at(0).at("tiling");
  EXPECT_EQ(t.at("oc_blocks"), 8);
  EXPECT_EQ(t.at("out_rows"), 7);
  EXPECT_EQ(t.at("out_cols"), 7);
  EXPECT_EQ(t.at("ic_blocks"), 4);
  EXPECT_EQ(t.at("first_pieces"), 2);
  EXPECT_TRUE(j.at("all_passed").get<bool>());

  const Result big = run("bench conv2d --layers C10 --repeat 1 --tiling oc=32,rows=14,cols=14,ic=16");
  EXPECT_EQ(big.code, 1);
  EXPECT_NE(big.out.find("does not fit"), std::string::npos) << big.out;
  const Result bad = run("bench conv2d --layers C10 --repeat 1 --tiling oc=8,rows=seven");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("rows must be a positive integer"), std::string::npos) << bad.out;
}

TEST(BenchConv2dCli, UnknownLayerAndWorkloadAreErrors) {
  EXPECT_EQ(run("bench conv2d --layers C12").code, 1);
  EXPECT_EQ(run("bench conv2d --layers C10 --repeat 0").code, 1);
  const Result w = run("bench conv2d --workload resnet50");
  EXPECT_EQ(w.code, 1);
  EXPECT_NE(w.out.find("expected resnet18 or shapes"), std::string::npos) << w.out;
  EXPECT_EQ(run("bench conv2d --workload shapes --layers C10").code, 1);  // not a layer of that workload
  EXPECT_NE(run("bench conv2d --layers C10 --objective fastest").code, 0);
}

// The other shapes run and check like ResNet-18's layers, under either tiling objective; the JSON says
// which.
TEST(BenchConv2dCli, OtherShapesUnderBothObjectives) {
  for (const char* objective : {"time", "traffic"}) {
    const fs::path json_path = temp_json(objective);
    const Result r = run(std::string("bench conv2d --workload shapes --layers 64x16-64k3,256x7-512k1 --repeat 1 "
                                     "--objective ") + objective + " --json " + json_path.string());
    ASSERT_EQ(r.code, 0) << r.out;
    std::ifstream in(json_path);
    const nlohmann::json j = nlohmann::json::parse(in);
    fs::remove(json_path);
    EXPECT_EQ(j.at("workload"), "shapes");
    EXPECT_EQ(j.at("objective"), objective);
    ASSERT_EQ(j.at("layers").size(), 2u);
    EXPECT_EQ(j.at("layers")[1].at("name"), "256x7-512k1");
    EXPECT_TRUE(j.at("all_passed").get<bool>());
  }
}

// VTA_FSIM_SIMD picks the fast kernel's path; every path gives the same (checked) results, and an
// unknown name is a clear error.
TEST(BenchConv2dCli, SimdPathFromEnvironment) {
  const auto with_env = [](const std::string& env, const std::string& args) {
    return vta::test::run_command(env + " " + std::string(VTA_BIN) + " " + args + " 2>&1");
  };
  const Result generic = with_env("VTA_FSIM_SIMD=generic", "bench conv2d --layers C10 --repeat 1");
  EXPECT_EQ(generic.code, 0) << generic.out;
  EXPECT_NE(generic.out.find("fast kernel: generic"), std::string::npos) << generic.out;
  const Result bad = with_env("VTA_FSIM_SIMD=avx9000", "bench conv2d --layers C10 --repeat 1");
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("VTA_FSIM_SIMD"), std::string::npos) << bad.out;
  EXPECT_EQ(run("bench conv2d --workload vgg16").code, 1);
}

}  // namespace
