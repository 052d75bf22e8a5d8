#include "vta/runtime/session.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "device_run.h"
#include "stream_builder.h"
#include "vta/driver/device.h"
#include "vta/isa/error.h"

namespace vta::runtime {

struct Session::Impl {
  std::unique_ptr<driver::Device> owned;
  driver::Device* device = nullptr;
  SessionOptions options;
  uint32_t run_index = 0;
};

struct LoadedProgram::Impl {
  Session::Impl* session = nullptr;
  Program program;  // buffers keep their metadata; constant data is dropped after upload
  std::vector<driver::DeviceBuffer> buffers;
  driver::DeviceBuffer insn_buffer;

  driver::Device& device() { return *session->device; }

  const driver::DeviceBuffer& checked(BufferId id, uint64_t bytes, uint64_t offset, const char* what) const {
    if (id >= buffers.size()) throw Error(fmt::format("{}: program has no buffer {}", what, id));
    const driver::DeviceBuffer& b = buffers[id];
    if (offset > b.size || bytes > b.size - offset) {
      throw Error(fmt::format("{}: [{}, {}) is outside buffer '{}' of {} bytes", what, offset, offset + bytes,
                              program.buffers[id].name, b.size));
    }
    return b;
  }

  void release() noexcept {
    for (const driver::DeviceBuffer& b : buffers) {
      try {
        if (b) device().free(b);
      } catch (...) {
      }
    }
    buffers.clear();
    try {
      if (insn_buffer) device().free(insn_buffer);
    } catch (...) {
    }
    insn_buffer = {};
  }
};

LoadedProgram::LoadedProgram(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LoadedProgram::~LoadedProgram() {
  if (impl_) impl_->release();
}

const Program& LoadedProgram::program() const { return impl_->program; }

void LoadedProgram::write(BufferId id, const void* data, uint64_t bytes, uint64_t offset) {
  const driver::DeviceBuffer& b = impl_->checked(id, bytes, offset, "LoadedProgram::write");
  if (bytes == 0) return;
  std::memcpy(b.host + offset, data, bytes);
  impl_->device().flush(b, offset, bytes);
}

void LoadedProgram::read(BufferId id, void* out, uint64_t bytes, uint64_t offset) {
  const driver::DeviceBuffer& b = impl_->checked(id, bytes, offset, "LoadedProgram::read");
  if (bytes == 0) return;
  impl_->device().invalidate(b, offset, bytes);
  std::memcpy(out, b.host + offset, bytes);
}

std::vector<uint8_t> LoadedProgram::read(BufferId id) {
  if (id >= impl_->buffers.size()) throw Error(fmt::format("LoadedProgram::read: program has no buffer {}", id));
  std::vector<uint8_t> out(impl_->buffers[id].size);
  read(id, out.data(), out.size());
  return out;
}

RunStats LoadedProgram::run() {
  Session::Impl& s = *impl_->session;
  std::optional<std::filesystem::path> trace;
  if (s.options.trace_dir) trace = *s.options.trace_dir / fmt::format("run{:03d}", s.run_index);
  ++s.run_index;
  const auto count = static_cast<uint32_t>(impl_->program.instructions.size());
  const driver::RunResult r =
      detail::run_on_device(impl_->device(), impl_->insn_buffer.device_address, count, s.options.timeout, trace);
  // Outputs are read through read(), which invalidates; scratch stays on the device.
  RunStats stats;
  stats.counters = r.counters;
  stats.instructions = count;
  stats.wall_seconds = r.wall_seconds;
  stats.warnings = r.warnings;
  return stats;
}

Session::Session(std::string_view target, const isa::HwConfig& config, SessionOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->owned = driver::open_device(target, config);
  impl_->device = impl_->owned.get();
  impl_->options = std::move(options);
}

Session::Session(driver::Device& device, SessionOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->device = &device;
  impl_->options = std::move(options);
}

Session::~Session() = default;

const isa::HwConfig& Session::config() const { return impl_->device->config(); }
std::string Session::device_name() const { return impl_->device->name(); }
driver::Device& Session::device() { return *impl_->device; }

std::unique_ptr<LoadedProgram> Session::load(const Program& program) {
  driver::Device& dev = *impl_->device;
  if (!(program.config == dev.config())) {
    throw Error(fmt::format("program was compiled for config {} ({}), the device '{}' runs {} ({})",
                            program.config.name(), program.config.hash(), dev.name(), dev.config().name(),
                            dev.config().hash()));
  }
  if (program.instructions.empty()) throw Error("cannot load an empty program (no instructions)");
  auto impl = std::make_unique<LoadedProgram::Impl>();
  impl->session = impl_.get();
  impl->program.config = program.config;
  impl->program.instructions = program.instructions;
  impl->program.relocations = program.relocations;
  impl->program.kernel_cache_hits = program.kernel_cache_hits;
  impl->program.kernel_cache_misses = program.kernel_cache_misses;
  LoadedProgram loaded(std::move(impl));  // frees whatever was allocated if anything below throws
  LoadedProgram::Impl& li = *loaded.impl_;

  std::vector<uint64_t> addresses;
  for (const ProgramBuffer& b : program.buffers) {
    if (b.role == BufferRole::kExternal) {
      throw Error(fmt::format("program buffer '{}' is external: only a CommandQueue binds those", b.name));
    }
    const driver::DeviceBuffer d = dev.allocate(std::max<uint64_t>(b.bytes, 1), std::max<uint64_t>(b.alignment, 64));
    li.buffers.push_back(d);
    ProgramBuffer meta = b;
    meta.data.clear();
    li.program.buffers.push_back(std::move(meta));
    addresses.push_back(d.device_address);
    if (!b.data.empty()) {
      if (b.data.size() != b.bytes) {
        throw Error(fmt::format("program buffer '{}': {} bytes of data for {} bytes", b.name, b.data.size(), b.bytes));
      }
      std::memcpy(d.host, b.data.data(), b.data.size());
      dev.flush(d, 0, b.data.size());
    }
  }
  const std::vector<uint8_t> code =
      detail::encode_relocated(program.config, program.instructions, program.relocations, addresses);
  li.insn_buffer = dev.allocate(code.size(), 64);
  std::memcpy(li.insn_buffer.host, code.data(), code.size());
  dev.flush(li.insn_buffer, 0, code.size());
  return std::unique_ptr<LoadedProgram>(new LoadedProgram(std::move(loaded.impl_)));
}

}  // namespace vta::runtime
