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
  std::vector<bool> owned;  // false for a buffer aliased to another program's
  driver::DeviceBuffer insn_buffer;

  // Encodes the stream against the current buffer addresses into the instruction buffer.
  void write_instructions() {
    std::vector<uint64_t> addresses;
    for (const driver::DeviceBuffer& b : buffers) addresses.push_back(b.device_address);
    const std::vector<uint8_t> code =
        detail::encode_relocated(program.config, program.instructions, program.relocations, addresses);
    if (!insn_buffer) insn_buffer = device().allocate(code.size(), 64);
    std::memcpy(insn_buffer.host, code.data(), code.size());
    device().flush(insn_buffer, 0, code.size());
  }

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
    for (size_t i = 0; i < buffers.size(); ++i) {
      try {
        if (buffers[i] && owned[i]) device().free(buffers[i]);
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

void LoadedProgram::alias(BufferId id, LoadedProgram& other, BufferId other_id) {
  Impl& me = *impl_;
  const Impl& o = *other.impl_;
  if (me.session != o.session) throw Error("LoadedProgram::alias: the programs are loaded on different sessions");
  if (id >= me.buffers.size() || other_id >= o.buffers.size()) {
    throw Error(fmt::format("LoadedProgram::alias: no buffer {} / {}", id, other_id));
  }
  const ProgramBuffer& mine = me.program.buffers[id];
  const ProgramBuffer& theirs = o.program.buffers[other_id];
  if (mine.bytes != theirs.bytes) {
    throw Error(fmt::format("LoadedProgram::alias: buffer '{}' has {} bytes, '{}' has {}", mine.name, mine.bytes,
                            theirs.name, theirs.bytes));
  }
  const driver::DeviceBuffer shared = o.buffers[other_id];
  if (shared.device_address % mine.alignment != 0) {
    throw Error(fmt::format("LoadedProgram::alias: '{}' at {:#x} is not aligned to {} bytes as '{}' needs",
                            theirs.name, shared.device_address, mine.alignment, mine.name));
  }
  if (me.owned[id]) me.device().free(me.buffers[id]);
  me.buffers[id] = shared;
  me.owned[id] = false;
  me.write_instructions();
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

  for (const ProgramBuffer& b : program.buffers) {
    if (b.role == BufferRole::kExternal) {
      throw Error(fmt::format("program buffer '{}' is external: only a CommandQueue binds those", b.name));
    }
    const driver::DeviceBuffer d = dev.allocate(std::max<uint64_t>(b.bytes, 1), std::max<uint64_t>(b.alignment, 64));
    li.buffers.push_back(d);
    li.owned.push_back(true);
    ProgramBuffer meta = b;
    meta.data.clear();
    li.program.buffers.push_back(std::move(meta));
    if (!b.data.empty()) {
      if (b.data.size() != b.bytes) {
        throw Error(fmt::format("program buffer '{}': {} bytes of data for {} bytes", b.name, b.data.size(), b.bytes));
      }
      std::memcpy(d.host, b.data.data(), b.data.size());
      dev.flush(d, 0, b.data.size());
    }
  }
  li.write_instructions();
  return std::unique_ptr<LoadedProgram>(new LoadedProgram(std::move(loaded.impl_)));
}

}  // namespace vta::runtime
