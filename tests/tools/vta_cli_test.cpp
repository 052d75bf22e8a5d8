// Runs the built `vta` binary as a user would and checks exit codes and output.
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "vta/test/test_data.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Result {
  int exit_code = -1;  // 128 + signal when the tool died from a signal
  std::string out;
  std::string err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "vta-cli-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// Runs `vta <args>` with stdout and stderr captured separately.
Result vta(const std::string& args) {
  TempDir tmp;
  const std::string cmd = quote(VTA_BIN) + " " + args + " >" + quote((tmp / "out").string()) + " 2>" +
                          quote((tmp / "err").string()) + " </dev/null";
  const int status = std::system(cmd.c_str());
  Result r;
  if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  else if (status != -1 && WIFSIGNALED(status)) r.exit_code = 128 + WTERMSIG(status);
  r.out = slurp(tmp / "out");
  r.err = slurp(tmp / "err");
  return r;
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

std::string config_path(const std::string& name) { return (fs::path(VTA_CONFIG_DIR) / name).string(); }

// An error exit: non-zero, not a crash (a signal shows up as 128+n through the shell), with a message.
void expect_clean_failure(const Result& r, const std::string& context) {
  EXPECT_NE(r.exit_code, 0) << context;
  EXPECT_LT(r.exit_code, 128) << context << ": the tool crashed\n" << r.err;
  EXPECT_NE(r.err.find("vta: error:"), std::string::npos) << context << ": stderr was\n" << r.err;
}

// --- global ---

TEST(VtaCli, VersionAndHelp) {
  const Result v = vta("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("vta "), std::string::npos);
  const Result h = vta("--help");
  EXPECT_EQ(h.exit_code, 0);
  for (const char* sub : {"info", "disasm", "exec", "import", "bench", "demo"})
    EXPECT_NE(h.out.find(sub), std::string::npos) << sub;
  const Result none = vta("");
  EXPECT_EQ(none.exit_code, 2);
  const Result bad = vta("frobnicate");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("vta: error:"), std::string::npos) << bad.err;
  const Result sub_help = vta("exec --help");
  EXPECT_EQ(sub_help.exit_code, 0);
  EXPECT_NE(sub_help.out.find("--check"), std::string::npos);
}

// --- info ---

void expect_default_geometry(const json& j) {
  const auto& b = j.at("buffers");
  EXPECT_EQ(b.at("inp").at("depth"), 2048);
  EXPECT_EQ(b.at("wgt").at("depth"), 1024);
  EXPECT_EQ(b.at("acc").at("depth"), 2048);
  EXPECT_EQ(b.at("uop").at("depth"), 8192);
  EXPECT_EQ(b.at("inp").at("element_bytes"), 16);
  EXPECT_EQ(b.at("wgt").at("element_bytes"), 256);
  EXPECT_EQ(b.at("acc").at("element_bytes"), 64);
  EXPECT_EQ(b.at("uop").at("element_bytes"), 4);
  EXPECT_EQ(b.at("out").at("depth"), 2048);
  EXPECT_EQ(b.at("out").at("element_bytes"), 16);
  EXPECT_EQ(j.at("name"), "1x16_i8w8a32_15_15_18_17");
}

TEST(VtaCli, InfoDefaultConfig) {
  const Result r = vta("info");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_default_geometry(json::parse(r.out));
}

TEST(VtaCli, InfoEveryShippedConfig) {
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(VTA_CONFIG_DIR)) {
    if (entry.path().extension() != ".json") continue;
    ++seen;
    const Result r = vta("info --config " + quote(entry.path().string()));
    ASSERT_EQ(r.exit_code, 0) << entry.path() << ": " << r.err;
    json j;
    ASSERT_NO_THROW(j = json::parse(r.out)) << entry.path();
    for (const char* buf : {"uop", "inp", "wgt", "acc", "out"}) {
      EXPECT_GT(j.at("buffers").at(buf).at("depth").get<uint64_t>(), 0u) << entry.path() << " " << buf;
    }
    if (entry.path().filename() == "default.json") expect_default_geometry(j);
  }
  EXPECT_GE(seen, 1);
}

TEST(VtaCli, InfoLayoutShowsDefaultBitPositions) {
  const Result r = vta("info --layout");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Positions from VTA 0.0.2 at the default config.
  EXPECT_NE(r.out.find("`[57:26]` | dram_base"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("`[34:21]` | uop_end"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("`[127:112]` | imm"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("`[31:22]` | wgt_idx"), std::string::npos) << r.out;
}

TEST(VtaCli, InfoRejectsBadConfigsNamingTheKey) {
  TempDir tmp;
  json good = json::parse(slurp(config_path("default.json")));

  json missing = good;
  missing.erase("LOG_ACC_BUFF_SIZE");
  write_file(tmp / "missing.json", missing.dump());
  Result r = vta("info --config " + quote((tmp / "missing.json").string()));
  expect_clean_failure(r, "missing key");
  EXPECT_NE(r.err.find("LOG_ACC_BUFF_SIZE"), std::string::npos) << r.err;

  json big_block = good;
  big_block["LOG_BLOCK"] = 9;
  write_file(tmp / "block9.json", big_block.dump());
  r = vta("info --config " + quote((tmp / "block9.json").string()));
  expect_clean_failure(r, "LOG_BLOCK 9");
  EXPECT_NE(r.err.find("LOG_BLOCK"), std::string::npos) << r.err;

  write_file(tmp / "garbage.json", "this is { not json");
  r = vta("info --config " + quote((tmp / "garbage.json").string()));
  expect_clean_failure(r, "non-JSON");

  r = vta("info --config " + quote((tmp / "does-not-exist.json").string()));
  expect_clean_failure(r, "missing file");
}

// --- disasm ---

// 128-bit instruction assembled by hand from VTA's default-config bit positions.
struct Word {
  uint64_t lo = 0, hi = 0;
  void set(uint32_t bit, uint32_t width, uint64_t value) {
    const uint64_t mask = width == 64 ? ~uint64_t{0} : ((uint64_t{1} << width) - 1);
    (bit < 64 ? lo : hi) |= (value & mask) << (bit % 64);
  }
  void append_to(std::string& bytes) const {
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((lo >> (8 * i)) & 0xff));
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((hi >> (8 * i)) & 0xff));
  }
  std::string hex() const {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(hi),
                  static_cast<unsigned long long>(lo));
    return buf;
  }
};

std::vector<Word> hand_assembled_program() {
  std::vector<Word> w(4);
  // LOAD INP sram 5, dram 256, 1 row of 4, stride 4, push_next.
  w[0].set(0, 3, 0);
  w[0].set(6, 1, 1);
  w[0].set(7, 3, 2);
  w[0].set(10, 16, 5);
  w[0].set(26, 32, 256);
  w[0].set(64, 16, 1);
  w[0].set(80, 16, 4);
  w[0].set(96, 16, 4);
  // GEMM pop_prev, uops [0,3), iter 2x4.
  w[1].set(0, 3, 2);
  w[1].set(3, 1, 1);
  w[1].set(8, 13, 0);
  w[1].set(21, 14, 3);
  w[1].set(35, 14, 2);
  w[1].set(49, 14, 4);
  w[1].set(64, 11, 16);
  // ALU SHR with immediate 8 (alu_opcode 3 at [110:108], use_imm [111], imm [127:112]).
  w[2].set(0, 3, 4);
  w[2].set(8, 13, 0);
  w[2].set(21, 14, 1);
  w[2].set(35, 14, 1);
  w[2].set(49, 14, 1);
  w[2].set(108, 3, 3);
  w[2].set(111, 1, 1);
  w[2].set(112, 16, 8);
  // FINISH.
  w[3].set(0, 3, 3);
  return w;
}

TEST(VtaCli, DisasmHandAssembledBinary) {
  TempDir tmp;
  std::string bytes;
  const auto words = hand_assembled_program();
  for (const auto& w : words) w.append_to(bytes);
  write_file(tmp / "prog.bin", bytes);

  const Result r = vta("disasm " + quote((tmp / "prog.bin").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), words.size()) << r.out;
  for (size_t i = 0; i < words.size(); ++i) {
    EXPECT_NE(lines[i].find(words[i].hex()), std::string::npos) << lines[i];
    EXPECT_EQ(lines[i].find(std::to_string(i)), lines[i].find_first_not_of(' ')) << lines[i];
  }
  EXPECT_NE(lines[0].find("LOAD"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("sram=5"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("dram=256"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("GEMM"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("ALU"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("imm=8"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find("FINISH"), std::string::npos) << lines[3];
}

TEST(VtaCli, DisasmRejectsMalformedStreams) {
  TempDir tmp;
  std::string bytes;
  for (const auto& w : hand_assembled_program()) w.append_to(bytes);

  write_file(tmp / "short.bin", bytes.substr(0, 17));
  Result r = vta("disasm " + quote((tmp / "short.bin").string()));
  expect_clean_failure(r, "size not a multiple of 16");
  EXPECT_NE(r.err.find("16"), std::string::npos) << r.err;

  std::string bad = bytes;
  bad[16 * 2] = static_cast<char>((bad[16 * 2] & ~0x7) | 0x6);  // instruction 2 gets opcode 6
  write_file(tmp / "badop.bin", bad);
  r = vta("disasm " + quote((tmp / "badop.bin").string()));
  expect_clean_failure(r, "unknown opcode");
  EXPECT_NE(r.err.find("instruction 2"), std::string::npos) << r.err;

  r = vta("disasm " + quote((tmp / "nothing-here.bin").string()));
  expect_clean_failure(r, "missing file");
}

// --- exec / import on the conformance recordings ---

fs::path conformance(const std::string& name) { return vta::test::conformance_recording(name); }

TEST(VtaCli, ExecRecordingDirectlyWithCheck) {
  const fs::path rec = conformance("tiny.T1");
  const Result r = vta("exec " + quote(rec.string()) + " --check");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("check: PASS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gemm_counter"), std::string::npos) << r.out;
}

TEST(VtaCli, ExecWaveformNeedsTsim) {
  const fs::path rec = conformance("tiny.T1");
  TempDir tmp;
  const Result r = vta("exec " + quote(rec.string()) + " --target fsim --trace " + quote((tmp / "w.fst").string()));
  expect_clean_failure(r, "--trace on fsim");
  EXPECT_NE(r.err.find("tsim"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "w.fst"));
}

TEST(VtaCli, ImportThenExecWithCheckAndDump) {
  const fs::path rec = conformance("resnet-18.C10");
  TempDir tmp;
  Result r = vta("import " + quote(rec.string()) + " " + quote((tmp / "trace").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(tmp / "trace" / "manifest.json"));

  r = vta("exec " + quote((tmp / "trace").string()) + " --target fsim --check --dump " + quote((tmp / "out").string()));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("check: PASS"), std::string::npos) << r.out;
  ASSERT_TRUE(fs::exists(tmp / "out" / "stats.json"));
  const json stats = json::parse(slurp(tmp / "out" / "stats.json"));
  EXPECT_FALSE(stats.empty());

  r = vta("exec " + quote((tmp / "trace").string()) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json result = json::parse(r.out);
  EXPECT_EQ(result.at("status"), "ok");
  EXPECT_GT(result.at("counters").at("gemm_counter").get<uint64_t>(), 0u);

  // A disassembly of the trace's stream has one line per instruction (plus the micro-op listing with --uops).
  r = vta("disasm " + quote((tmp / "trace").string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("FINISH"), std::string::npos);
}

TEST(VtaCli, ExecCheckFailsWhenExpectationsDiffer) {
  const fs::path rec = conformance("resnet-18.C10");
  TempDir tmp;
  ASSERT_EQ(vta("import " + quote(rec.string()) + " " + quote((tmp / "trace").string())).exit_code, 0);
  // Corrupt every expected file (flip its first byte): the run still succeeds but the check must fail.
  const json manifest = json::parse(slurp(tmp / "trace" / "manifest.json"));
  int corrupted = 0;
  for (const auto& region : manifest.at("regions")) {
    if (!region.contains("expected")) continue;
    const fs::path file = tmp / "trace" / region.at("expected").get<std::string>();
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    char c = 0;
    f.read(&c, 1);
    f.seekp(0);
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
    ++corrupted;
  }
  ASSERT_GT(corrupted, 0) << "the imported trace records no expected bytes";
  const Result r = vta("exec " + quote((tmp / "trace").string()) + " --check");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("check: FAIL"), std::string::npos) << r.err;
}

TEST(VtaCli, ExecRejectsBrokenTracesWithoutCrashing) {
  TempDir tmp;
  expect_clean_failure(vta("exec " + quote((tmp / "no-such-dir").string())), "missing directory");

  fs::create_directories(tmp / "empty");
  expect_clean_failure(vta("exec " + quote((tmp / "empty").string())), "no manifest");

  fs::create_directories(tmp / "garbage");
  write_file(tmp / "garbage" / "manifest.json", "{ this is not json");
  expect_clean_failure(vta("exec " + quote((tmp / "garbage").string())), "non-JSON manifest");

  fs::create_directories(tmp / "types");
  write_file(tmp / "types" / "manifest.json", R"({"config": 5, "regions": "many", "insn_count": -3})");
  expect_clean_failure(vta("exec " + quote((tmp / "types").string())), "wrong types");

  fs::create_directories(tmp / "array");
  write_file(tmp / "array" / "manifest.json", "[1, 2, 3]");
  expect_clean_failure(vta("exec " + quote((tmp / "array").string())), "array manifest");

  // A recording directory whose files are truncated.
  fs::create_directories(tmp / "rec");
  write_file(tmp / "rec" / "run000.insn.bin", std::string(20, '\0'));
  write_file(tmp / "rec" / "run000.meta.txt", "insn_phy_addr 4096\ninsn_count 2\n");
  write_file(tmp / "rec" / "run000.dram_pre.bin", "VTADRAM1");
  expect_clean_failure(vta("exec " + quote((tmp / "rec").string())), "truncated recording");

  expect_clean_failure(vta("exec " + quote((tmp / "empty").string()) + " --target no-such-backend"), "bad target");
}

// A trace directory (default config) holding `gemm` and FINISH at address 4096.
void write_gemm_finish_trace(const fs::path& dir, const Word& gemm) {
  fs::create_directories(dir);
  Word fin;
  fin.set(0, 3, 3);
  std::string bytes;
  gemm.append_to(bytes);
  fin.append_to(bytes);
  write_file(dir / "insn.bin", bytes);
  const json manifest = {
      {"format", "vta-trace"},
      {"version", 1},
      {"config", json::parse(slurp(config_path("default.json")))},
      {"instructions", {{"address", 4096}, {"count", 2}}},
      {"regions", json::array({{{"name", "insn"}, {"address", 4096}, {"size", bytes.size()}, {"file", "insn.bin"}}})}};
  write_file(dir / "manifest.json", manifest.dump(2));
}

// A two-instruction program whose GEMM waits for a load->compute token nobody pushes.
TEST(VtaCli, ExecReportsDeadlockWithTheStalledInstruction) {
  TempDir tmp;
  const fs::path dir = tmp / "deadlock";
  fs::create_directories(dir);
  Word gemm;
  gemm.set(0, 3, 2);   // GEMM
  gemm.set(3, 1, 1);   // pop_prev: wait for the load module
  gemm.set(21, 14, 1);  // uop_end 1
  gemm.set(35, 14, 1);  // iter_out 1
  gemm.set(49, 14, 1);  // iter_in 1
  write_gemm_finish_trace(dir, gemm);

  const Result r = vta("exec " + quote(dir.string()));
  expect_clean_failure(r, "deadlock");
  EXPECT_NE(r.err.find("deadlock"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("instruction 0"), std::string::npos) << r.err;
}

// A legal GEMM asking for 16383 x 16383 x 8000 micro-ops (days of simulation): fsim refuses it at its
// work limit, so the command ends at once with a clear error instead of hanging.
TEST(VtaCli, ExecEndsAHugeLegalProgramAtTheWorkLimit) {
  TempDir tmp;
  const fs::path dir = tmp / "huge";
  fs::create_directories(dir);
  Word gemm;
  gemm.set(0, 3, 2);       // GEMM
  gemm.set(21, 14, 8000);  // uop_end
  gemm.set(35, 14, 16383);  // iter_out
  gemm.set(49, 14, 16383);  // iter_in
  write_gemm_finish_trace(dir, gemm);

  const auto start = std::chrono::steady_clock::now();
  const Result r = vta("exec " + quote(dir.string()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  expect_clean_failure(r, "work limit");
  EXPECT_NE((r.out + r.err).find("work limit"), std::string::npos) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("instruction 0"), std::string::npos) << r.out << r.err;
}

// --- dse ---

TEST(VtaCli, DseSweepsReportsInvalidPointsAndMerges) {
  TempDir tmp;
  const std::string sweep = " --target fsim --layers C11 --sweep LOG_BLOCK=3,4 --sweep LOG_BATCH=0,1";
  const Result whole = vta("dse" + sweep + " -o " + quote((tmp / "whole").string()));
  ASSERT_EQ(whole.exit_code, 0) << whole.out << whole.err;
  EXPECT_NE(whole.out.find("4 points: 2 ran, 2 invalid, 0 failed"), std::string::npos) << whole.out;
  EXPECT_NE(whole.out.find("micro-op"), std::string::npos) << whole.out;  // why LOG_BLOCK=3 is invalid here
  const std::string csv = slurp(tmp / "whole" / "dse.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
  EXPECT_NE(slurp(tmp / "whole" / "pareto.svg").find("<svg"), std::string::npos);
  for (int i = 0; i < 2; ++i) {
    const Result shard = vta("dse" + sweep + " -q --shard " + std::to_string(i) + "/2 -o " +
                             quote((tmp / ("s" + std::to_string(i))).string()));
    ASSERT_EQ(shard.exit_code, 0) << shard.err;
  }
  const Result merged =
      vta("dse merge " + quote((tmp / "s0").string()) + " " + quote((tmp / "s1").string()) + " -o " + quote((tmp / "m").string()));
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  // The same report but for wall times and the shard field.
  const auto comparable = [&](const fs::path& file) {
    json j = json::parse(slurp(file));
    j.erase("wall_seconds");
    j.erase("shard");
    for (auto& p : j["points"]) p.erase("wall_seconds");
    return j;
  };
  EXPECT_EQ(comparable(tmp / "m" / "dse.json"), comparable(tmp / "whole" / "dse.json"));
  expect_clean_failure(vta("dse merge " + quote((tmp / "s0").string()) + " -o " + quote((tmp / "m2").string())),
                       "a missing shard");
}

TEST(VtaCli, DseRejectsBadOptions) {
  TempDir tmp;
  const std::string out = " -o " + quote((tmp / "o").string());
  expect_clean_failure(vta("dse" + out), "no sweep");
  expect_clean_failure(vta("dse --sweep LOG_BLOCK" + out), "no values");
  expect_clean_failure(vta("dse --sweep LOG_BLOCK=4 --layers C12" + out), "unknown layer");
  expect_clean_failure(vta("dse --sweep LOG_BLOCK=4 --budget xc9" + out), "unknown part");
  expect_clean_failure(vta("dse --sweep LOG_BLOCK=4 --workload resnet50" + out), "unknown workload");
  expect_clean_failure(vta("dse --sweep LOG_BLOCK=4 --shard 2/2" + out), "bad shard");
  expect_clean_failure(vta("dse --sweep-file " + quote((tmp / "none.json").string()) + out), "missing sweep file");
  expect_clean_failure(vta("dse merge " + quote((tmp / "none").string()) + out), "missing report");
}

// --- demo and bench ---

TEST(VtaCli, DemoPasses) {
  const Result r = vta("demo");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("PASS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("alu_counter"), std::string::npos) << r.out;
}

TEST(VtaCli, DemoPassesOnOtherConfigs) {
  for (const char* cfg : {"block8.json", "block32.json", "batch2.json", "in16_out32.json"}) {
    if (!fs::exists(config_path(cfg))) continue;
    const Result r = vta(std::string("demo --config ") + quote(config_path(cfg)));
    EXPECT_EQ(r.exit_code, 0) << cfg << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("PASS"), std::string::npos) << cfg << "\n" << r.out;
  }
}

TEST(VtaCli, SmallBenchChecksItsResult) {
  const Result r = vta("bench fsim --size 64 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json j = json::parse(r.out);
  EXPECT_TRUE(j.at("check_passed").get<bool>());
  EXPECT_EQ(j.at("macs"), 64 * 64 * 64);
  // One micro-op execution per (row, 16-column block, 16-deep block) at the default config.
  EXPECT_EQ(j.at("counters").at("gemm_counter"), 64 * (64 / 16) * (64 / 16));
}

}  // namespace
