// Shared pieces of the fuzz harnesses (tests/fuzz, docs/fuzzing.md).
//
// Each harness is one function `void vta::fuzz::<name>(std::span<const uint8_t>)` that feeds the bytes to
// one reader. Its contract: it returns when the reader accepted the input or rejected it with a
// vta::Error; anything else (another exception, a failed property check, a crash, a sanitizer report, a
// hang) is a bug. The same function is the libFuzzer entry point (VTA_FUZZ=ON builds one binary per
// harness) and is replayed over the committed corpus and regression inputs by fuzz_replay_test (label
// `unit`), so every build runs every committed input.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"

namespace vta::fuzz {

using Bytes = std::span<const uint8_t>;

// A violated property: print what and abort, so libFuzzer records the input as a crash.
[[noreturn]] inline void property_failed(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "%s:%d: fuzz property failed: %s\n", file, line, what.c_str());
  std::abort();
}
#define VTA_FUZZ_CHECK(cond, what) \
  do {                             \
    if (!(cond)) ::vta::fuzz::property_failed(__FILE__, __LINE__, what); \
  } while (0)

// Runs `body`; a vta::Error is an accepted outcome (the reader rejected the input clearly). Every other
// exception escapes, which is a finding.
template <class F>
bool accepts(F&& body) {
  try {
    body();
    return true;
  } catch (const vta::Error&) {
    return false;
  }
}

inline std::string as_string(Bytes data) { return std::string(reinterpret_cast<const char*>(data.data()), data.size()); }

// Little-endian fields read from the front of a byte span; missing bytes read as zero.
class ByteReader {
 public:
  explicit ByteReader(Bytes data) : data_(data) {}
  uint8_t u8() { return pos_ < data_.size() ? data_[pos_++] : 0; }
  uint32_t u16() { return static_cast<uint32_t>(u8()) | static_cast<uint32_t>(u8()) << 8; }
  uint32_t u32() { return u16() | u16() << 16; }
  Bytes take(size_t n) {
    n = std::min(n, data_.size() - pos_);
    Bytes out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  Bytes rest() { return take(data_.size() - pos_); }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  Bytes data_;
  size_t pos_ = 0;
};

// The shipped configs (config/*.json, in name order), read once; harnesses pick one by an input byte.
const std::vector<isa::HwConfig>& shipped_configs();

// A per-process scratch directory (emptied on each call), for readers that take a path.
std::filesystem::path scratch_dir(const std::string& harness);
void write_file(const std::filesystem::path& path, Bytes bytes);
// Writes a directory given as one input: the bytes up to the first line "--file NAME" go to `first`,
// then each such line starts the file NAME (letters, digits, '_', '-', '.'; other names and `first`
// itself are skipped), running to the next marker.
void write_files(const std::filesystem::path& dir, Bytes data, const std::string& first);

// Micro-op executions a GEMM or ALU instruction asks for (iter_out x iter_in x micro-ops); 0 otherwise.
// fsim's own work limit (2^40 lane operations by default) bounds a run, but at seconds per input, so
// harnesses that run programs keep them far smaller.
uint64_t loop_work(const isa::Instruction& insn);
// The summed loop_work of a stream, decoding what decodes; the stream is bytes, 16 per instruction.
uint64_t stream_work(const isa::HwConfig& config, Bytes stream);

// Replays an accepted trace directory on fsim as `vta exec` does, when its program and its config's
// buffers are small enough for a fuzzing rate; the replay must end with a result or a vta::Error.
struct TraceLimits {
  uint64_t max_uops = uint64_t{1} << 16;          // micro-op executions of the stream
  uint64_t max_buffer_bytes = uint64_t{64} << 20;  // on-chip buffers of the trace's config
};
void replay_small_trace(const std::filesystem::path& dir, TraceLimits limits = {});

// The harnesses (one source file each).
void isa_decode(Bytes data);
void config(Bytes data);
void trace(Bytes data);
void dram_image(Bytes data);
void npy(Bytes data);
void fsim_program(Bytes data);
void vta_recording(Bytes data);
#if VTA_FUZZ_HAVE_ONNX
void onnx(Bytes data);
#endif
#if VTA_FUZZ_HAVE_MODEL
void package(Bytes data);
#endif

}  // namespace vta::fuzz
