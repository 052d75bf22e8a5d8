#include "fuzz_common.h"

#include "vta/isa/instruction_codec.h"

#include <algorithm>
#include <fstream>
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
