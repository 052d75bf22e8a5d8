#include "fuzz_common.h"

#include "vta/driver/device.h"
#include "vta/driver/program_trace.h"
#include "vta/isa/instruction_codec.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string_view>
#include <unistd.h>

namespace vta::fuzz {

const std::vector<isa::HwConfig>& shipped_configs() {
  static const std::vector<isa::HwConfig> configs = [] {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(VTA_CONFIG_DIR)) {
      if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<isa::HwConfig> out;
    for (const auto& f : files) out.push_back(isa::HwConfig::from_file(f));
    if (out.empty()) out.push_back(isa::HwConfig::default_config());
    return out;
  }();
  return configs;
}

namespace {
// Removes the scratch directories when the process exits normally.
struct ScratchDirs {
  std::vector<std::filesystem::path> dirs;
  ~ScratchDirs() {
    std::error_code ec;
    for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
  }
};
}  // namespace

std::filesystem::path scratch_dir(const std::string& harness) {
  static ScratchDirs created;
  // One directory per process and harness, under $TMPDIR (libFuzzer's -fork/-jobs run several processes).
  const auto dir = std::filesystem::temp_directory_path() /
                   ("vta-fuzz-" + harness + "-" + std::to_string(static_cast<long>(::getpid())));
  if (std::find(created.dirs.begin(), created.dirs.end(), dir) == created.dirs.end()) created.dirs.push_back(dir);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void write_file(const std::filesystem::path& path, Bytes bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) property_failed(__FILE__, __LINE__, "cannot write scratch file " + path.string());
}

namespace {
constexpr std::string_view kFileMarker = "\n--file ";

bool safe_name(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}
}  // namespace

void write_files(const std::filesystem::path& dir, Bytes data, const std::string& first) {
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  size_t pos = text.find(kFileMarker);
  write_file(dir / first, data.first(std::min(pos, text.size())));
  while (pos != std::string_view::npos) {
    const size_t name_start = pos + kFileMarker.size();
    const size_t name_end = std::min(text.find('\n', name_start), text.size());
    const size_t next = text.find(kFileMarker, name_end);
    const size_t body_start = std::min(name_end + 1, text.size());
    const size_t body_end = next == std::string_view::npos ? text.size() : next;
    const std::string_view name = text.substr(name_start, name_end - name_start);
    if (safe_name(name) && name != first && body_end >= body_start)
      write_file(dir / std::string(name), data.subspan(body_start, body_end - body_start));
    pos = next;
  }
}

void replay_small_trace(const std::filesystem::path& dir, TraceLimits limits) {
  driver::ProgramTrace trace;
  if (!accepts([&] { trace = driver::ProgramTrace::load(dir); })) return;
  uint64_t buffer_bytes = 0;
  for (isa::MemoryType t : {isa::MemoryType::kUop, isa::MemoryType::kInp, isa::MemoryType::kWgt, isa::MemoryType::kAcc})
    buffer_bytes += trace.config.buffer(t).size_bytes;
  if (buffer_bytes > limits.max_buffer_bytes) return;
  for (const driver::TraceRegion& r : trace.regions) {
    if (trace.insn_address >= r.address && trace.insn_address - r.address < r.size) {
      std::ifstream in(dir / r.file, std::ios::binary);
      const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const uint64_t offset = std::min<uint64_t>(trace.insn_address - r.address, bytes.size());
      const Bytes stream =
          Bytes(bytes).subspan(offset, std::min<uint64_t>(uint64_t{trace.insn_count} * 16, bytes.size() - offset));
      if (stream_work(trace.config, stream) > limits.max_uops) return;
    }
  }
  accepts([&] {
    const auto device = driver::open_device("fsim", trace.config);  // as `vta exec` replays
    const driver::ReplayResult result = driver::replay(trace, dir, *device, dir / "dump");
    VTA_FUZZ_CHECK(result.run.ok() || !result.run.message.empty(), "a failed replay without a message");
  });
}

uint64_t loop_work(const isa::Instruction& insn) {
  const isa::LoopNest* loop = nullptr;
  if (const auto* g = std::get_if<isa::GemmInsn>(&insn)) loop = &g->loop;
  if (const auto* a = std::get_if<isa::AluInsn>(&insn)) loop = &a->loop;
  if (!loop || loop->uop_end <= loop->uop_bgn) return 0;
  return uint64_t{loop->iter_out} * loop->iter_in * (loop->uop_end - loop->uop_bgn);
}

uint64_t stream_work(const isa::HwConfig& config, Bytes stream) {
  const isa::InstructionCodec codec(config);
  uint64_t work = 0;
  for (const isa::RawInstruction& raw : isa::raw_instructions_from_bytes(stream.first(stream.size() / 16 * 16))) {
    accepts([&] { work += loop_work(codec.decode(raw)); });
  }
  return work;
}

}  // namespace vta::fuzz
