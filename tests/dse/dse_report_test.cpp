// Evaluating points end to end (compiler, runtime, a driver target), reports in JSON and CSV, and merging
// shards back into the unsharded result.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "vta/driver/device.h"
#include "vta/dse/evaluate.h"
#include "vta/dse/report.h"
#include "vta/dse/synth.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"

namespace vta::dse {
namespace {

using nlohmann::json;

SweepSpec small_sweep() {
  return SweepSpec(isa::HwConfig::default_config().to_json(),
                   {SweepAxis::parse("LOG_BATCH=0,1"), SweepAxis::parse("timing.dram_bytes_per_cycle=2,8"),
                    SweepAxis::parse("LOG_BLOCK=3,4")});
}

// tlm runs on SystemC coroutines, whose stack switches AddressSanitizer cannot follow (it reports false
// errors afterwards, see scripts/test.sh), so sanitized builds take fsim where tlm is optional.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
bool have(const std::string& target) {
  const auto t = driver::known_targets();
  return std::find(t.begin(), t.end(), target) != t.end() && !(target == "tlm" && kAddressSanitizer);
}

DseReport run(const SweepSpec& s, const EvalOptions& o, Shard shard) {
  DseReport r;
  r.sweep = s.to_json();
  r.fingerprint = s.fingerprint();
  r.target = o.target;
  r.workload = o.workload;
  r.budget = o.budget;
  r.point_count = s.point_count();
  r.shard = shard;
  for (uint64_t p = 0; p < s.point_count(); ++p)
    if (shard.owns(p)) r.points.push_back(evaluate_point(s, p, o));
  return r;
}

// The report without wall times (which differ run to run).
json comparable(const DseReport& r) {
  json j = r.to_json();
  j.erase("wall_seconds");
  j.erase("shard");
  for (auto& p : j["points"]) p.erase("wall_seconds");
  return j;
}

EvalOptions options(const std::string& target) {
  EvalOptions o;
  o.target = target;
  o.layers = {"C11"};
  o.budget = "xczu3eg";
  return o;
}

TEST(DseEvaluate, InvalidPointsAreReportedNotThrown) {
  const SweepSpec s = small_sweep();
  const PointResult bad = evaluate_point(s, 0, options("fsim"));  // block 3 overflows the micro-op fields
  EXPECT_EQ(bad.status, "invalid");
  EXPECT_NE(bad.error.find("micro-op"), std::string::npos) << bad.error;
  EXPECT_TRUE(bad.layers.empty());
  const SweepSpec typo(isa::HwConfig::default_config().to_json(), {SweepAxis::parse("LOG_BLOKC=3")});
  EXPECT_EQ(evaluate_point(typo, 0, options("fsim")).status, "invalid");
  const PointResult good = evaluate_point(s, 1, options("fsim"));
  ASSERT_EQ(good.status, "ok") << good.error;
  ASSERT_EQ(good.layers.size(), 1u);
  EXPECT_GT(good.dram_bytes, 50176u + 2359296u);  // C11 moves at least its input and weights
  EXPECT_GT(good.area.lut, 0);
  EXPECT_THROW(check_options([] { EvalOptions o; o.workload = "resnet50"; return o; }()), Error);
  EXPECT_THROW(check_options([] { EvalOptions o; o.layers = {"C12"}; return o; }()), Error);
  EXPECT_THROW(check_options([] { EvalOptions o; o.budget = "xc9"; return o; }()), Error);
}

TEST(DseEvaluate, TimedPointsOnTlm) {
  if (!have("tlm")) GTEST_SKIP() << "tlm is not part of this build (SystemC missing) or cannot run under ASan";
  const SweepSpec s = small_sweep();
  const PointResult slow = evaluate_point(s, 1, options("tlm")), fast = evaluate_point(s, 3, options("tlm"));
  ASSERT_TRUE(slow.ok() && fast.ok()) << slow.error << fast.error;
  EXPECT_GT(slow.cycles, 0u);
  EXPECT_LT(fast.cycles, slow.cycles);  // four times the DRAM bandwidth (C11 is memory-bound at 2 B/cycle)
  // the compiler picks each point's tiling for its DRAM timing, so the bytes may differ; both move C11's
  // input and weights at least
  EXPECT_GT(fast.dram_bytes, 50176u + 2359296u);
  EXPECT_GT(slow.dram_bytes, 50176u + 2359296u);
  EXPECT_NEAR(slow.device_ms, double(slow.cycles) / 1e5, 1e-9);  // 100 MHz
}

TEST(DseEvaluate, AnOnnxModelIsAWorkload) {
#if VTA_HAVE_ONNX
  if (!have("tlm")) GTEST_SKIP() << "tlm is not part of this build or cannot run under ASan";
  EvalOptions o;
  o.target = "tlm";
  o.workload = std::string(VTA_MODELS_DIR) + "/fashion_mnist_cnn.onnx";
  check_options(o);
  const SweepSpec s(isa::HwConfig::default_config().to_json(), {SweepAxis::parse("timing.dram_bytes_per_cycle=4,16")});
  const PointResult narrow = evaluate_point(s, 0, o), wide = evaluate_point(s, 1, o);
  ASSERT_TRUE(narrow.ok() && wide.ok()) << narrow.error << wide.error;
  // Every core step of the model is a row (its conv and dense steps), with cycles from tlm.
  ASSERT_GE(narrow.layers.size(), 3u);
  for (const auto& l : narrow.layers) EXPECT_GT(l.cycles, 0u) << l.name;
  EXPECT_LT(wide.cycles, narrow.cycles);
  // the compiler picks each layer's tiling for the point's DRAM timing (within the layer's traffic budget),
  // so the bytes may differ a little
  EXPECT_NEAR(double(wide.dram_bytes), double(narrow.dram_bytes), 0.05 * double(narrow.dram_bytes));
  EvalOptions missing = o;
  missing.workload = "/nonexistent/model.onnx";
  EXPECT_THROW(check_options(missing), Error);
  EvalOptions with_layers = o;
  with_layers.layers = {"C2"};
  EXPECT_THROW(check_options(with_layers), Error);
#else
  GTEST_SKIP() << "built without the ONNX front end";
#endif
}

TEST(DseReport, JsonRoundTripAndCsv) {
  const DseReport r = run(small_sweep(), options("fsim"), Shard{});
  const DseReport back = DseReport::from_json(json::parse(r.to_json().dump()));
  EXPECT_EQ(back.to_json(), r.to_json());
  const std::string csv = r.csv();
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 8);
  EXPECT_EQ(csv.rfind("point,LOG_BATCH,timing.dram_bytes_per_cycle,LOG_BLOCK,config,status", 0), 0u) << csv;
  EXPECT_NE(csv.find("invalid"), std::string::npos);
  EXPECT_THROW(DseReport::from_json(json{{"format", "other"}}), Error);
  EXPECT_THROW(DseReport::from_json(json::object()), Error);
}

TEST(DseReport, MergedShardsEqualTheUnshardedSweep) {
  const std::string target = have("tlm") ? "tlm" : "fsim";
  const SweepSpec s = small_sweep();
  const DseReport whole = run(s, options(target), Shard{});
  std::vector<DseReport> shards;
  for (uint32_t i = 0; i < 3; ++i) shards.push_back(run(s, options(target), Shard{i, 3}));
  std::reverse(shards.begin(), shards.end());  // order does not matter
  EXPECT_EQ(comparable(merge(shards)), comparable(whole));

  // Through files, as `vta dse merge` reads them.
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "dse_merge_test";
  std::filesystem::remove_all(dir);
  for (size_t i = 0; i < shards.size(); ++i) shards[i].write(dir / std::to_string(i));
  std::vector<DseReport> read;
  for (size_t i = 0; i < shards.size(); ++i) read.push_back(DseReport::read(dir / std::to_string(i) / "dse.json"));
  EXPECT_EQ(comparable(merge(read)), comparable(whole));
  EXPECT_TRUE(std::filesystem::exists(dir / "0" / "pareto.svg"));

  // A missing shard, a shard given twice, a shard of another sweep.
  EXPECT_THROW(merge({shards[0], shards[1]}), Error);
  EXPECT_THROW(merge({shards[0], shards[1], shards[2], shards[2]}), Error);
  DseReport other = shards[2];
  other.fingerprint = "0000000000000000";
  EXPECT_THROW(merge({shards[0], shards[1], other}), Error);
  EXPECT_THROW(merge({}), Error);
}

// --synth reads a config's figures from the cache (keyed by the config hash and part) before it runs
// Yosys, and reports them as the point's area.
TEST(DseSynth, CachedResultsAreUsedPerConfigHash) {
  const std::filesystem::path cache = std::filesystem::path(::testing::TempDir()) / "dse_synth_cache";
  std::filesystem::remove_all(cache);
  const isa::HwConfig config = isa::HwConfig::default_config();
  std::filesystem::create_directories(cache / (config.hash() + "-xc7z020"));
  std::ofstream(cache / (config.hash() + "-xc7z020") / "report.json")
      << R"({"resources": {"lut": 1234, "ff": 567, "dsp": 89, "bram36": 10.5}})";
  SynthOptions so;
  so.cache_dir = cache;
  const area::Resources r = synthesize(config, so);
  EXPECT_EQ(r.lut, 1234);
  EXPECT_EQ(r.dsp, 89);
  EXPECT_EQ(r.bram36, 10.5);

  const SweepSpec s(config.to_json(), {SweepAxis::parse("timing.dram_bytes_per_cycle=8,16")});  // one RTL config
  EvalOptions o = options("fsim");
  o.synth = true;
  o.synth_cache = cache;
  o.budget = "xc7z020";
  for (uint64_t p = 0; p < 2; ++p) {
    const PointResult pr = evaluate_point(s, p, o);
    ASSERT_TRUE(pr.ok()) << pr.error;
    EXPECT_EQ(pr.area_source, "yosys");
    EXPECT_EQ(pr.area.lut, 1234);
    EXPECT_TRUE(pr.fits);
  }
}

}  // namespace
}  // namespace vta::dse
