// import_vta_recording(): Apache VTA's conformance recording (run000.*, meta.json) -> trace directory.
#include <charconv>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "src/file_util.h"
#include "src/trace_internal.h"
#include "vta/driver/dram_image.h"
#include "vta/driver/program_trace.h"
#include "vta/isa/error.h"

namespace vta::driver {
namespace {

constexpr uint64_t kInstructionBytes = 16;

struct RecordingMeta {
  uint64_t insn_phy_addr = 0;
  uint64_t insn_count = 0;
};

uint64_t parse_meta_number(const std::filesystem::path& path, const std::string& key, std::string_view text) {
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    throw Error(fmt::format("{}: {} is not a non-negative integer", path.string(), key));
  }
  return value;
}

RecordingMeta read_meta_txt(const std::filesystem::path& path) {
  std::istringstream in(detail::read_text_file(path));
  RecordingMeta meta;
  bool have_addr = false, have_count = false;
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    const std::string_view value = std::string_view(line).substr(eq + 1);
    if (key == "insn_phy_addr") {
      meta.insn_phy_addr = parse_meta_number(path, key, value);
      have_addr = true;
    } else if (key == "insn_count") {
      meta.insn_count = parse_meta_number(path, key, value);
      have_count = true;
    }
  }
  if (!have_addr) throw Error(fmt::format("{}: missing insn_phy_addr=", path.string()));
  if (!have_count) throw Error(fmt::format("{}: missing insn_count=", path.string()));
  if (meta.insn_count == 0 || meta.insn_count > std::numeric_limits<uint32_t>::max()) {
    throw Error(fmt::format("{}: insn_count {} is out of range", path.string(), meta.insn_count));
  }
  return meta;
}

}  // namespace

void import_vta_recording(const std::filesystem::path& vta_dir, const std::filesystem::path& trace_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(vta_dir, ec)) {
    throw Error(fmt::format("VTA recording directory {} does not exist", vta_dir.string()));
  }
  const RecordingMeta meta = read_meta_txt(vta_dir / "run000.meta.txt");
  const auto insn_path = vta_dir / "run000.insn.bin";
  const auto insns = detail::read_binary_file(insn_path);
  if (insns.size() != meta.insn_count * kInstructionBytes) {
    throw Error(fmt::format("{}: {} bytes, but insn_count={} needs {}", insn_path.string(), insns.size(),
                            meta.insn_count, meta.insn_count * kInstructionBytes));
  }
  const auto pre_path = vta_dir / "run000.dram_pre.bin";
  const auto post_path = vta_dir / "run000.dram_post.bin";
  const DramImage pre = DramImage::read_vtadram(pre_path);
  const DramImage post = DramImage::read_vtadram(post_path);
  if (pre.regions.size() != post.regions.size()) {
    throw Error(fmt::format("{} has {} regions but {} has {}", pre_path.string(), pre.regions.size(),
                            post_path.string(), post.regions.size()));
  }
  for (size_t i = 0; i < pre.regions.size(); ++i) {
    if (pre.regions[i].address != post.regions[i].address ||
        pre.regions[i].bytes.size() != post.regions[i].bytes.size()) {
      throw Error(fmt::format("region {} differs between {} ({:#x}, {} bytes) and {} ({:#x}, {} bytes)", i,
                              pre_path.string(), pre.regions[i].address, pre.regions[i].bytes.size(),
                              post_path.string(), post.regions[i].address, post.regions[i].bytes.size()));
    }
  }
  if (insns.size() > std::numeric_limits<uint64_t>::max() - meta.insn_phy_addr) {
    throw Error(fmt::format("{}: the instruction stream at insn_phy_addr={:#x} ({} bytes) wraps around the 64-bit "
                            "address space",
                            vta_dir.string(), meta.insn_phy_addr, insns.size()));
  }
  const uint64_t insn_end = meta.insn_phy_addr + insns.size();
  for (const auto& region : pre.regions) {
    if (meta.insn_phy_addr < region.address + region.bytes.size() && region.address < insn_end) {
      throw Error(fmt::format("{}: the instruction stream [{:#x}, {:#x}) overlaps the DRAM region at {:#x} of {}",
                              vta_dir.string(), meta.insn_phy_addr, insn_end, region.address, pre_path.string()));
    }
  }

  ProgramTrace trace;
  trace.insn_address = meta.insn_phy_addr;
  trace.insn_count = static_cast<uint32_t>(meta.insn_count);

  const auto meta_json_path = vta_dir / "meta.json";
  if (std::filesystem::exists(meta_json_path, ec)) {
    nlohmann::json meta_json;
    try {
      meta_json = nlohmann::json::parse(detail::read_text_file(meta_json_path));
    } catch (const nlohmann::json::exception& e) {
      throw Error(fmt::format("{}: malformed JSON: {}", meta_json_path.string(), e.what()));
    }
    if (!meta_json.is_object()) throw Error(fmt::format("{}: must hold a JSON object", meta_json_path.string()));
    if (const auto cfg = meta_json.find("vta_cfg"); cfg != meta_json.end()) {
      try {
        trace.config = isa::HwConfig::from_json(*cfg);
      } catch (const ConfigError& e) {
        throw Error(fmt::format("{}: \"vta_cfg\": {}", meta_json_path.string(), e.what()));
      }
    }
    if (const auto stats = meta_json.find("stats"); stats != meta_json.end()) {
      if (!stats->is_object()) throw Error(fmt::format("{}: \"stats\" must be an object", meta_json_path.string()));
      isa::ExecutionCounters expected;
      // VTA's simulator counts a subset of our counters (no instruction counts, no cycles): only the
      // counters it reports become expectations.
      for (const auto& entry : stats->items()) {
        if (!detail::is_counter_name(entry.key())) continue;
        if (!entry.value().is_number_unsigned()) {
          throw Error(fmt::format("{}: stats.{} must be a non-negative integer", meta_json_path.string(),
                                  entry.key()));
        }
        detail::set_counter(expected, entry.key(), entry.value().get<uint64_t>());
        trace.expected_counter_names.push_back(entry.key());
      }
      if (!trace.expected_counter_names.empty()) trace.expected_counters = expected;
    }
  }

  std::filesystem::create_directories(trace_dir, ec);
  if (ec) throw Error(fmt::format("cannot create trace directory {}: {}", trace_dir.string(), ec.message()));

  TraceRegion insn_region;
  insn_region.name = "instructions";
  insn_region.address = meta.insn_phy_addr;
  insn_region.size = insns.size();
  insn_region.file = "instructions.bin";
  detail::write_binary_file(trace_dir / insn_region.file, insns);

  bool insn_placed = false;
  for (size_t i = 0; i < pre.regions.size(); ++i) {
    const auto& region = pre.regions[i];
    if (!insn_placed && meta.insn_phy_addr < region.address) {
      trace.regions.push_back(insn_region);
      insn_placed = true;
    }
    TraceRegion r;
    r.name = fmt::format("dram_{:08x}", region.address);
    r.address = region.address;
    r.size = region.bytes.size();
    r.file = r.name + ".bin";
    r.dump = true;
    r.expected_file = r.name + ".expected.bin";
    detail::write_binary_file(trace_dir / r.file, region.bytes);
    detail::write_binary_file(trace_dir / *r.expected_file, post.regions[i].bytes);
    trace.regions.push_back(std::move(r));
  }
  if (!insn_placed) trace.regions.push_back(insn_region);
  trace.save_manifest(trace_dir);
}

}  // namespace vta::driver
