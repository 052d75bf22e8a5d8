// Harness trace: program trace directories (ProgramTrace::load, then replay on fsim as `vta exec` does).
// Input: the text of manifest.json, then any number of files, each introduced by a line
// "--file NAME" (NAME of letters, digits, '_', '-', '.'; other names are skipped) and running to the
// next such line. An accepted trace is replayed when its program is small enough to run (fsim has no
// work limit) and its config's buffers fit in 64 MiB; the replay must end with a result or a vta::Error.
#include <fstream>
#include <iterator>
#include <string_view>

#include "fuzz_common.h"
#include "vta/driver/device.h"
#include "vta/driver/program_trace.h"

namespace vta::fuzz {
namespace {

constexpr std::string_view kFileMarker = "\n--file ";
constexpr uint64_t kMaxReplayWork = uint64_t{1} << 16;    // micro-op executions
constexpr uint64_t kMaxBufferBytes = uint64_t{64} << 20;  // on-chip buffers of the trace's config

bool safe_name(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name == "manifest.json" || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void trace(Bytes data) {
  const auto dir = scratch_dir("trace");
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  size_t pos = text.find(kFileMarker);
  write_file(dir / "manifest.json", data.first(std::min(pos, text.size())));
  while (pos != std::string_view::npos) {
    const size_t name_start = pos + kFileMarker.size();
    const size_t name_end = std::min(text.find('\n', name_start), text.size());
    const size_t next = text.find(kFileMarker, name_end);
    const size_t body_start = std::min(name_end + 1, text.size());
    const size_t body_end = next == std::string_view::npos ? text.size() : next;
    const std::string_view name = text.substr(name_start, name_end - name_start);
    if (safe_name(name) && body_end >= body_start) {
      write_file(dir / std::string(name), data.subspan(body_start, body_end - body_start));
    }
    pos = next;
  }

  driver::ProgramTrace trace;
  if (!accepts([&] { trace = driver::ProgramTrace::load(dir); })) return;

  uint64_t buffer_bytes = 0;
  for (isa::MemoryType t : {isa::MemoryType::kUop, isa::MemoryType::kInp, isa::MemoryType::kWgt, isa::MemoryType::kAcc})
    buffer_bytes += trace.config.buffer(t).size_bytes;
  if (buffer_bytes > kMaxBufferBytes) return;
  for (const driver::TraceRegion& r : trace.regions) {
    if (trace.insn_address >= r.address && trace.insn_address - r.address < r.size) {
      const std::vector<uint8_t> bytes = [&] {
        std::ifstream in(dir / r.file, std::ios::binary);
        return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      }();
      const uint64_t offset = trace.insn_address - r.address;
      const Bytes stream = Bytes(bytes).subspan(offset, std::min<uint64_t>(uint64_t{trace.insn_count} * 16, bytes.size() - offset));
      if (stream_work(trace.config, stream) > kMaxReplayWork) return;
    }
  }
  accepts([&] {
    const auto device = driver::open_device("fsim", trace.config);  // as `vta exec` replays
    const driver::ReplayResult result = driver::replay(trace, dir, *device, dir / "dump");
    VTA_FUZZ_CHECK(result.run.ok() || !result.run.message.empty(), "a failed replay without a message");
  });
}

}  // namespace vta::fuzz
