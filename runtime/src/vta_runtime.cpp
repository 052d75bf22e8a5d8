// C ABI mirroring Apache VTA's runtime calls over a thread-local CommandQueue (see docs/runtime.md).
//
// One device per process (VTA_TARGET / VTA_CONFIG, opened on first use) shared by every thread; each
// thread has its own CommandQueue on it. Calls that touch the device are serialized by a process-wide
// mutex. Every failing call returns -1 (or a null/zero value) and leaves its message in
// VTAGetLastError() for the calling thread.
#include "vta/runtime/vta_runtime.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "vta/driver/device.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"
#include "vta/runtime/command_queue.h"
#include "vta/runtime/uop_kernel.h"

namespace {

using vta::Error;
using vta::runtime::CommandQueue;
using vta::runtime::KernelMode;
using vta::runtime::UopKernel;
using vta::runtime::UopKernelBuilder;

struct BufferHandle {
  vta::driver::DeviceBuffer buffer;
};

// The per-call-site kernel cache VTAPushGEMMOp/VTAPushALUOp keep behind *uop_handle: one kernel per
// distinct signature.
struct KernelSlot {
  std::unordered_map<std::string, UopKernel> kernels;
};

struct Process {
  std::recursive_mutex mutex;
  std::shared_ptr<vta::driver::Device> device;
  std::unordered_map<const void*, std::unique_ptr<BufferHandle>> buffers;
  std::unordered_map<const void*, std::unique_ptr<KernelSlot>> slots;

  std::shared_ptr<vta::driver::Device> get_device() {
    if (!device) {
      const char* target = std::getenv("VTA_TARGET");
      const char* config_path = std::getenv("VTA_CONFIG");
      const vta::isa::HwConfig config = (config_path && *config_path)
                                            ? vta::isa::HwConfig::from_file(config_path)
                                            : vta::isa::HwConfig::default_config();
      device = std::shared_ptr<vta::driver::Device>(
          vta::driver::open_device((target && *target) ? target : "fsim", config).release());
    }
    return device;
  }

  BufferHandle& buffer(const void* handle, const char* what) {
    auto it = buffers.find(handle);
    if (handle == nullptr || it == buffers.end()) {
      throw Error(fmt::format("{}: {} is not a buffer returned by VTABufferAlloc", what, handle));
    }
    return *it->second;
  }
};

Process& process() {
  static Process* p = new Process();  // never destroyed: threads may outlive static destruction
  return *p;
}

// Kernel recording state while a finit callback runs.
struct Recording {
  struct LoopBegin {
    uint32_t extent, dst, src, wgt;
  };
  struct LoopEnd {};
  struct Push {
    uint32_t dst, src, wgt;
  };
  std::vector<std::variant<LoopBegin, LoopEnd, Push>> events;
  bool have_attrs = false;
  uint32_t mode = 0, reset = 0, opcode = 0, use_imm = 0;
  int32_t imm = 0;
  std::string error;
};

struct ThreadState {
  ThreadState() = default;
  ThreadState(const ThreadState&) = delete;
  ThreadState& operator=(const ThreadState&) = delete;
  // Destroyed at thread exit too: freeing the queue's device buffers must not race other threads.
  ~ThreadState() {
    std::lock_guard<std::recursive_mutex> lock(process().mutex);
    queue.reset();
  }

  std::shared_ptr<vta::driver::Device> device;  // keeps the device alive while the queue exists
  std::unique_ptr<CommandQueue> queue;
  Recording* recording = nullptr;
};

thread_local std::unique_ptr<ThreadState> tls_state;
thread_local std::string tls_last_error;

int fail(const std::string& message) {
  tls_last_error = message;
  return -1;
}

// Runs `body`, turning any exception into -1 plus the last error.
template <typename F>
int guarded(const char* what, F&& body) {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    return fail(fmt::format("{}: {}", what, e.what()));
  } catch (...) {
    return fail(fmt::format("{}: unknown error", what));
  }
}

ThreadState& thread_state() {
  if (!tls_state) {
    auto state = std::make_unique<ThreadState>();
    state->device = process().get_device();
    state->queue = std::make_unique<CommandQueue>(*state->device);
    tls_state = std::move(state);
  }
  return *tls_state;
}

CommandQueue& queue_of(VTACommandHandle cmd, const char* what) {
  if (cmd == nullptr || !tls_state || cmd != static_cast<void*>(tls_state.get())) {
    throw Error(fmt::format("{}: {} is not this thread's command handle (use VTATLSCommandHandle())", what, cmd));
  }
  return *tls_state->queue;
}

vta::runtime::Stage stage_of(int qid, const char* what) {
  if (qid < VTA_STAGE_LOAD || qid > VTA_STAGE_STORE) {
    throw Error(fmt::format("{}: invalid queue id {} (1 = load, 2 = compute, 3 = store)", what, qid));
  }
  return static_cast<vta::runtime::Stage>(qid);
}

vta::isa::MemoryType memory_type_of(uint32_t raw, const char* what) {
  if (!vta::isa::is_valid_memory_type(raw)) {
    throw Error(fmt::format("{}: invalid memory type {} (0 = uop, 1 = wgt, 2 = inp, 3 = acc, 4 = out)", what, raw));
  }
  return static_cast<vta::isa::MemoryType>(raw);
}

uint64_t buffer_alignment(const vta::isa::HwConfig& c) {
  uint64_t a = 64;
  for (vta::isa::MemoryType t : vta::isa::kAllMemoryTypes) a = std::max<uint64_t>(a, c.buffer(t).element_bytes);
  return a;
}

UopKernel record_kernel(KernelMode expected, int (*finit)(void*), void* signature) {
  ThreadState& ts = thread_state();
  if (ts.recording) throw Error("nested kernel recording (VTAPush*Op called from a kernel callback)");
  if (finit == nullptr) throw Error("null kernel callback");
  Recording rec;
  ts.recording = &rec;
  int rc = 0;
  try {
    rc = finit(signature);
  } catch (...) {
    ts.recording = nullptr;
    throw;
  }
  ts.recording = nullptr;
  if (!rec.error.empty()) throw Error(rec.error);
  if (rc != 0) throw Error(fmt::format("kernel callback returned {}", rc));
  if (!rec.have_attrs) throw Error("empty kernel: the callback pushed no micro-op");
  const KernelMode mode = rec.mode == 0 ? KernelMode::kGemm : KernelMode::kAlu;
  if (mode != expected) {
    throw Error(expected == KernelMode::kGemm ? "the callback recorded ALU micro-ops (mode 1) for a GEMM op"
                                              : "the callback recorded GEMM micro-ops (mode 0) for an ALU op");
  }
  UopKernelBuilder b(mode, rec.reset != 0);
  if (mode == KernelMode::kAlu) {
    b.alu(static_cast<vta::isa::AluOpcode>(rec.opcode), rec.use_imm != 0, rec.imm);
  }
  for (const auto& ev : rec.events) {
    if (const auto* lb = std::get_if<Recording::LoopBegin>(&ev)) {
      b.loop_begin(lb->extent, lb->dst, lb->src, lb->wgt);
    } else if (std::holds_alternative<Recording::LoopEnd>(ev)) {
      b.loop_end();
    } else {
      const auto& p = std::get<Recording::Push>(ev);
      b.push(p.dst, p.src, p.wgt);
    }
  }
  return b.build();
}

int push_op(KernelMode mode, void** uop_handle, int (*finit)(void*), void* signature, int nbytes) {
  const char* what = mode == KernelMode::kGemm ? "VTAPushGEMMOp" : "VTAPushALUOp";
  return guarded(what, [&] {
    Process& p = process();
    std::lock_guard<std::recursive_mutex> lock(p.mutex);
    if (uop_handle == nullptr) throw Error("null uop_handle");
    if (nbytes < 0 || (nbytes > 0 && signature == nullptr)) throw Error("bad kernel signature");
    ThreadState& ts = thread_state();
    KernelSlot* slot = static_cast<KernelSlot*>(*uop_handle);
    if (slot == nullptr) {
      auto fresh = std::make_unique<KernelSlot>();
      slot = fresh.get();
      p.slots.emplace(slot, std::move(fresh));
      *uop_handle = slot;
    } else if (!p.slots.count(slot)) {
      throw Error("*uop_handle does not hold a kernel handle (initialize it to NULL)");
    }
    std::string key(static_cast<const char*>(signature), static_cast<const char*>(signature) + nbytes);
    auto it = slot->kernels.find(key);
    if (it == slot->kernels.end()) {
      it = slot->kernels.emplace(std::move(key), record_kernel(mode, finit, signature)).first;
    } else if (it->second.mode != mode) {
      throw Error("the cached kernel for this signature has the other mode");
    }
    if (mode == KernelMode::kGemm) {
      ts.queue->push_gemm(it->second);
    } else {
      ts.queue->push_alu(it->second);
    }
  });
}

Recording& active_recording(const char* what) {
  if (!tls_state || tls_state->recording == nullptr) {
    throw Error(fmt::format("{} called outside of a VTAPushGEMMOp/VTAPushALUOp kernel callback", what));
  }
  return *tls_state->recording;
}

// Records an error inside a kernel callback so the enclosing VTAPush*Op fails too.
int fail_recording(const std::string& message) {
  if (tls_state && tls_state->recording && tls_state->recording->error.empty()) {
    tls_state->recording->error = message;
  }
  return fail(message);
}

}  // namespace

extern "C" {

const char* VTAGetLastError(void) { return tls_last_error.c_str(); }

void* VTABufferAlloc(size_t size) {
  void* result = nullptr;
  guarded("VTABufferAlloc", [&] {
    Process& p = process();
    std::lock_guard<std::recursive_mutex> lock(p.mutex);
    auto device = p.get_device();
    auto handle = std::make_unique<BufferHandle>();
    handle->buffer = device->allocate(std::max<uint64_t>(size, 1), buffer_alignment(device->config()));
    result = handle.get();
    p.buffers.emplace(result, std::move(handle));
  });
  return result;
}

void VTABufferFree(void* buffer) {
  if (buffer == nullptr) return;
  guarded("VTABufferFree", [&] {
    Process& p = process();
    std::lock_guard<std::recursive_mutex> lock(p.mutex);
    BufferHandle& h = p.buffer(buffer, "VTABufferFree");
    p.device->free(h.buffer);
    p.buffers.erase(buffer);
  });
}

int VTABufferCopy(const void* from, size_t from_offset, void* to, size_t to_offset, size_t size, int kind_mask) {
  return guarded("VTABufferCopy", [&] {
    if (kind_mask < VTA_MEMCPY_H2D || kind_mask > VTA_MEMCPY_D2D) {
      throw Error(fmt::format("invalid copy kind {} (1 = H2D, 2 = D2H, 3 = D2D)", kind_mask));
    }
    Process& p = process();
    std::lock_guard<std::recursive_mutex> lock(p.mutex);
    // As in VTA: `from` is a device buffer when the D2H bit is set, `to` when the H2D bit is set.
    const bool from_device = (kind_mask & VTA_MEMCPY_D2H) != 0;
    const bool to_device = (kind_mask & VTA_MEMCPY_H2D) != 0;
    const uint8_t* src = static_cast<const uint8_t*>(from);
    uint8_t* dst = static_cast<uint8_t*>(to);
    if (src == nullptr || dst == nullptr) throw Error("null source or destination");
    if (from_device) {
      BufferHandle& h = p.buffer(from, "VTABufferCopy source");
      if (from_offset > h.buffer.size || size > h.buffer.size - from_offset) {
        throw Error(fmt::format("source range [{}, {}) exceeds the {}-byte buffer", from_offset,
                                from_offset + size, h.buffer.size));
      }
      p.device->invalidate(h.buffer, from_offset, size);
      src = h.buffer.host + from_offset;
    } else {
      src += from_offset;
    }
    BufferHandle* to_handle = nullptr;
    if (to_device) {
      to_handle = &p.buffer(to, "VTABufferCopy destination");
      if (to_offset > to_handle->buffer.size || size > to_handle->buffer.size - to_offset) {
        throw Error(fmt::format("destination range [{}, {}) exceeds the {}-byte buffer", to_offset, to_offset + size,
                                to_handle->buffer.size));
      }
      dst = to_handle->buffer.host + to_offset;
    } else {
      dst += to_offset;
    }
    if (size > 0) std::memmove(dst, src, size);
    if (to_handle) p.device->flush(to_handle->buffer, to_offset, size);
  });
}

void* VTABufferCPUPtr(VTACommandHandle cmd, void* buffer) {
  (void)cmd;
  void* result = nullptr;
  guarded("VTABufferCPUPtr", [&] {
    Process& p = process();
    std::lock_guard<std::recursive_mutex> lock(p.mutex);
    result = p.buffer(buffer, "VTABufferCPUPtr").buffer.host;
  });
  return result;
}

uint64_t VTABufferPhysAddr(void* buffer) {
  uint64_t result = 0;
  guarded("VTABufferPhysAddr", [&] {
    Process& p = process();
    std::lock_guard<std::recursive_mutex> lock(p.mutex);
    result = p.buffer(buffer, "VTABufferPhysAddr").buffer.device_address;
  });
  return result;
}

VTACommandHandle VTATLSCommandHandle(void) {
  VTACommandHandle result = nullptr;
  guarded("VTATLSCommandHandle", [&] {
    Process& p = process();
    std::lock_guard<std::recursive_mutex> lock(p.mutex);
    result = &thread_state();
  });
  return result;
}

void VTARuntimeShutdown(void) {
  guarded("VTARuntimeShutdown", [&] {
    Process& p = process();
    std::lock_guard<std::recursive_mutex> lock(p.mutex);
    tls_state.reset();
  });
}

int VTALoadBuffer2D(VTACommandHandle cmd, void* src_dram_addr, uint32_t src_elem_offset, uint32_t x_size,
                    uint32_t y_size, uint32_t x_stride, uint32_t x_pad_before, uint32_t y_pad_before,
                    uint32_t x_pad_after, uint32_t y_pad_after, uint32_t dst_sram_index, uint32_t dst_memory_type) {
  return guarded("VTALoadBuffer2D", [&] {
    Process& p = process();
    std::lock_guard<std::recursive_mutex> lock(p.mutex);
    CommandQueue& q = queue_of(cmd, "command handle");
    const vta::isa::MemoryType type = memory_type_of(dst_memory_type, "dst_memory_type");
    const BufferHandle& h = p.buffer(src_dram_addr, "src_dram_addr");
    q.load_2d(h.buffer, src_elem_offset, x_size, y_size, x_stride, x_pad_before, y_pad_before, x_pad_after,
              y_pad_after, dst_sram_index, type);
  });
}

int VTAStoreBuffer2D(VTACommandHandle cmd, uint32_t src_sram_index, uint32_t src_memory_type, void* dst_dram_addr,
                     uint32_t dst_elem_offset, uint32_t x_size, uint32_t y_size, uint32_t x_stride) {
  return guarded("VTAStoreBuffer2D", [&] {
    Process& p = process();
    std::lock_guard<std::recursive_mutex> lock(p.mutex);
    CommandQueue& q = queue_of(cmd, "command handle");
    const vta::isa::MemoryType type = memory_type_of(src_memory_type, "src_memory_type");
    const BufferHandle& h = p.buffer(dst_dram_addr, "dst_dram_addr");
    q.store_2d(src_sram_index, type, h.buffer, dst_elem_offset, x_size, y_size, x_stride);
  });
}

int VTAUopPush(uint32_t mode, uint32_t reset_out, uint32_t dst_index, uint32_t src_index, uint32_t wgt_index,
               uint32_t opcode, uint32_t use_imm, int32_t imm_val) {
  try {
    Recording& rec = active_recording("VTAUopPush");
    if (mode > 1) return fail_recording(fmt::format("VTAUopPush: invalid mode {} (0 = GEMM, 1 = ALU)", mode));
    if (!rec.have_attrs) {
      rec.have_attrs = true;
      rec.mode = mode;
      rec.reset = reset_out;
      rec.opcode = opcode;
      rec.use_imm = use_imm;
      rec.imm = imm_val;
    } else if (rec.mode != mode || rec.reset != reset_out || rec.opcode != opcode || rec.use_imm != use_imm ||
               rec.imm != imm_val) {
      return fail_recording(
          "VTAUopPush: mode, reset, opcode and immediate must be the same for every micro-op of a kernel");
    }
    rec.events.emplace_back(Recording::Push{dst_index, src_index, wgt_index});
    return 0;
  } catch (const std::exception& e) {
    return fail_recording(e.what());
  }
}

int VTAUopLoopBegin(uint32_t extent, uint32_t dst_factor, uint32_t src_factor, uint32_t wgt_factor) {
  try {
    Recording& rec = active_recording("VTAUopLoopBegin");
    rec.events.emplace_back(Recording::LoopBegin{extent, dst_factor, src_factor, wgt_factor});
    return 0;
  } catch (const std::exception& e) {
    return fail_recording(e.what());
  }
}

int VTAUopLoopEnd(void) {
  try {
    Recording& rec = active_recording("VTAUopLoopEnd");
    rec.events.emplace_back(Recording::LoopEnd{});
    return 0;
  } catch (const std::exception& e) {
    return fail_recording(e.what());
  }
}

int VTAPushGEMMOp(void** uop_handle, int (*finit)(void*), void* signature, int nbytes) {
  return push_op(KernelMode::kGemm, uop_handle, finit, signature, nbytes);
}

int VTAPushALUOp(void** uop_handle, int (*finit)(void*), void* signature, int nbytes) {
  return push_op(KernelMode::kAlu, uop_handle, finit, signature, nbytes);
}

int VTADepPush(VTACommandHandle cmd, int from_qid, int to_qid) {
  return guarded("VTADepPush", [&] {
    CommandQueue& q = queue_of(cmd, "command handle");
    q.dep_push(stage_of(from_qid, "from_qid"), stage_of(to_qid, "to_qid"));
  });
}

int VTADepPop(VTACommandHandle cmd, int from_qid, int to_qid) {
  return guarded("VTADepPop", [&] {
    CommandQueue& q = queue_of(cmd, "command handle");
    q.dep_pop(stage_of(from_qid, "from_qid"), stage_of(to_qid, "to_qid"));
  });
}

int VTASynchronize(VTACommandHandle cmd, uint32_t wait_cycles) {
  return guarded("VTASynchronize", [&] {
    Process& p = process();
    std::lock_guard<std::recursive_mutex> lock(p.mutex);
    CommandQueue& q = queue_of(cmd, "command handle");
    if (wait_cycles == 0) {
      q.synchronize();
      return;
    }
    // The cycle budget at the config's clock, with a 1 s floor: simulators run slower than hardware.
    const double mhz = q.config().timing().clock_mhz > 0 ? q.config().timing().clock_mhz : 100.0;
    const double ms = std::ceil(static_cast<double>(wait_cycles) / (mhz * 1000.0));
    q.synchronize(std::chrono::milliseconds(std::max<int64_t>(1000, static_cast<int64_t>(ms))));
  });
}

}  // extern "C"
