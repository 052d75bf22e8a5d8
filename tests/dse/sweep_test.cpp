// Sweep specifications: parsing, the numbering of points, the configs they make, sweep files and shards.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "vta/dse/sweep.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"

namespace vta::dse {
namespace {

using nlohmann::json;

json base() { return isa::HwConfig::default_config().to_json(); }

TEST(Sweep, AxisValuesKeepTheirTypes) {
  const SweepAxis a = SweepAxis::parse("timing.clock_mhz=100,142.5,fast,true");
  EXPECT_EQ(a.key, "timing.clock_mhz");
  ASSERT_EQ(a.values.size(), 4u);
  EXPECT_TRUE(a.values[0].is_number_integer());
  EXPECT_DOUBLE_EQ(a.values[1].get<double>(), 142.5);
  EXPECT_EQ(a.values[2], "fast");
  EXPECT_EQ(a.values[3], true);
  for (const char* bad : {"LOG_BLOCK", "LOG_BLOCK=", "=3,4", "LOG_BLOCK=3,,4", "a..b=1", ".a=1", "a.=1"})
    EXPECT_THROW(SweepAxis::parse(bad), Error) << bad;
}

TEST(Sweep, PointsAreNumberedWithTheLastAxisFastest) {
  const SweepSpec s(base(), {SweepAxis::parse("LOG_BATCH=0,1"), SweepAxis::parse("LOG_BLOCK=3,4,5")});
  ASSERT_EQ(s.point_count(), 6u);
  EXPECT_EQ(s.values(0), (std::vector<json>{0, 3}));
  EXPECT_EQ(s.values(2), (std::vector<json>{0, 5}));
  EXPECT_EQ(s.values(3), (std::vector<json>{1, 3}));
  EXPECT_EQ(s.values(5), (std::vector<json>{1, 5}));
  EXPECT_THROW(s.values(6), Error);
  EXPECT_EQ(s.labels(4), (json{{"LOG_BATCH", 1}, {"LOG_BLOCK", 4}}));
  // Every point's config differs from the others in exactly the swept keys.
  std::set<std::string> names;
  for (uint64_t p = 0; p < 6; ++p) names.insert(s.config_json(p).dump());
  EXPECT_EQ(names.size(), 6u);
}

TEST(Sweep, NestedKeysAreSetInsideObjects) {
  const SweepSpec s(base(), {SweepAxis::parse("timing.dram_bytes_per_cycle=4,32")});
  const isa::HwConfig c = isa::HwConfig::from_json(s.config_json(1));
  EXPECT_EQ(c.timing().dram_bytes_per_cycle, 32u);
  EXPECT_EQ(c.log_block_in(), 4u);  // the rest is the base
  // A key through a non-object is a clear error.
  const SweepSpec bad(base(), {SweepAxis::parse("LOG_BLOCK.x=1")});
  EXPECT_THROW(bad.config_json(0), Error);
}

TEST(Sweep, RejectsDuplicateKeysAndHugeSweeps) {
  EXPECT_THROW(SweepSpec(base(), {SweepAxis::parse("LOG_BLOCK=3"), SweepAxis::parse("LOG_BLOCK=4")}), Error);
  std::vector<SweepAxis> axes;
  for (int i = 0; i < 7; ++i) axes.push_back(SweepAxis::parse("K" + std::to_string(i) + "=1,2,3,4,5,6,7,8,9,10"));
  EXPECT_THROW(SweepSpec(base(), axes), Error);
}

TEST(Sweep, FingerprintNamesTheSweep) {
  const SweepSpec a(base(), {SweepAxis::parse("LOG_BLOCK=3,4")});
  const SweepSpec b(base(), {SweepAxis::parse("LOG_BLOCK=3,4")});
  const SweepSpec c(base(), {SweepAxis::parse("LOG_BLOCK=4,3")});
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
  EXPECT_NE(a.fingerprint(), c.fingerprint());
}

TEST(Sweep, SweepFiles) {
  const std::string path = ::testing::TempDir() + "/sweep_test.json";
  std::ofstream(path) << R"({"base": {"LOG_ACC_BUFF_SIZE": 16}, "sweep": {"LOG_BATCH": [0, 1], "timing.dram_bytes_per_cycle": [8, 16, 32]}})";
  const SweepSpec s = SweepSpec::from_file(path, base());
  EXPECT_EQ(s.point_count(), 6u);
  EXPECT_EQ(s.axes()[0].key, "LOG_BATCH");
  EXPECT_EQ(s.config_json(0)["LOG_ACC_BUFF_SIZE"], 16);
  for (const char* bad : {"{", "[]", R"({"sweep": []})", R"({"sweep": {"A": []}})", R"({"sweep": {"A": 3}})",
                          R"({"base": 1, "sweep": {"A": [1]}})"}) {
    std::ofstream(path) << bad;
    EXPECT_THROW(SweepSpec::from_file(path, base()), Error) << bad;
  }
  EXPECT_THROW(SweepSpec::from_file(path + ".missing", base()), Error);
}

TEST(Shard, PartitionsThePoints) {
  const Shard s = Shard::parse("2/5");
  EXPECT_EQ(s.index, 2u);
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.to_string(), "2/5");
  for (uint64_t p = 0; p < 100; ++p) {
    int owners = 0;
    for (uint32_t i = 0; i < 5; ++i) owners += Shard{i, 5}.owns(p);
    EXPECT_EQ(owners, 1) << p;
  }
  for (const char* bad : {"", "3", "5/5", "-1/4", "1/0", "a/b", "1/", "/4", "1/4x"}) EXPECT_THROW(Shard::parse(bad), Error) << bad;
}

}  // namespace
}  // namespace vta::dse
