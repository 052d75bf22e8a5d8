// The unchanged Zynq backend (driver/zynq) against the board emulator (simulator/board): the Verilated
// core behind a file-backed register window and contiguous memory, through real mmap and register
// polling. The Apache VTA recordings, random programs against fsim, ResNet-18 layers through the compiler
// and runtime, cache maintenance, and the failures a board has: a core that never reports done, memory
// error responses, a board that vanishes mid-run, a missing device node, another core's bitstream, memory
// beyond the port's addresses.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "vta/board/board_emulator.h"
#include "vta/compiler/conv2d.h"
#include "vta/compiler/tensor.h"
#include "vta/compiler/workloads.h"
#include "vta/driver/device.h"
#include "vta/driver/program_trace.h"
#include "vta/driver/zynq_device.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"
#include "vta/isa/instruction_codec.h"
#include "vta/runtime/session.h"
#include "vta/test/board_checks.h"
#include "vta/test/device_regions.h"
#include "vta/test/random_program.h"
#include "vta/test/test_data.h"

namespace vta::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

isa::HwConfig default_config() { return isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/default.json"); }

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(VTA_TEST_OUTPUT_DIR) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// The Zynq backend's options for an emulator's files, as a user would pass them for a u-dma-buf board.
driver::ZynqDeviceOptions zynq_options(const board::BoardEmulator& emu) {
  driver::ZynqDeviceOptions o;
  o.regs_path = emu.regs_path().string();
  o.mem_path = emu.mem_path().string();
  o.sysfs_dir = emu.sysfs_dir().string();  // phys_addr and size are read from here
  o.default_timeout = 60s;
  return o;
}

struct Board {
  explicit Board(const std::string& name, const isa::HwConfig& config = default_config(),
                 board::BoardFaults faults = {}) {
    board::BoardEmulatorOptions o;
    o.dir = fresh_dir(name);
    o.mem_size = 48ull << 20;
    o.faults = faults;
    emulator = std::make_unique<board::BoardEmulator>(config, o);
    emulator->start();
    device = std::make_unique<driver::ZynqDevice>("zynq", config, zynq_options(*emulator));
  }
  std::unique_ptr<board::BoardEmulator> emulator;
  std::unique_ptr<driver::ZynqDevice> device;
};

uint64_t read_number(const fs::path& p) {
  std::ifstream in(p);
  uint64_t v = 0;
  in >> v;
  return v;
}

TEST(ZynqBoard, ApacheVtaRecordingsReplayExactly) {
  std::unique_ptr<Board> b;
  const int replayed = expect_recordings_replay(
      fresh_dir("zynq_recordings"),
      [&](const driver::ProgramTrace& trace, const std::string& name) -> driver::Device& {
        b = std::make_unique<Board>("zynq_board_" + name, trace.config);
        return *b->device;
      },
      [&](const driver::ProgramTrace& trace) {
        EXPECT_EQ(b->emulator->runs(), 1u);
        // Not coherent by default: every region was flushed before and invalidated after the run.
        EXPECT_EQ(b->device->syncs_for_device(), trace.regions.size());
        EXPECT_EQ(b->device->syncs_for_cpu(), trace.regions.size());
      });
  EXPECT_EQ(replayed, 3);
}

TEST(ZynqBoard, RandomProgramsMatchFsim) {
  Board b("zynq_random");
  expect_random_programs_match_fsim(*b.device, default_config(), 0x2a7e0000u, 64);
  EXPECT_EQ(b.emulator->runs(), 64u);
}

TEST(ZynqBoard, ResNet18LayersThroughTheRuntimeMatchFsim) {
  const isa::HwConfig config = default_config();
  Board b("zynq_resnet");
  for (const compiler::Conv2dWorkload& layer : compiler::kResNet18Conv2d) {
    const std::string name = layer.name;
    if (name != "C4" && name != "C7" && name != "C10") continue;  // the small ones: tsim time
    SCOPED_TRACE(name);
    const compiler::RandomConv2d data = compiler::random_conv2d(layer, 7);
    const auto run = [&](driver::Device& device) {
      runtime::Session queue(device);
      return compiler::conv2d(queue, data.x, data.w, &data.b, data.params);
    };
    const auto fsim = driver::open_device("fsim", config);
    const compiler::OpRun f = run(*fsim);
    const compiler::OpRun z = run(*b.device);
    EXPECT_EQ(f.output.to_vector<int8_t>(), z.output.to_vector<int8_t>());
    isa::ExecutionCounters fc = f.counters, zc = z.counters;
    fc.cycle_count = zc.cycle_count = 0;
    EXPECT_EQ(fc, zc);
    EXPECT_GT(z.counters.cycle_count, 0u);
  }
}

TEST(ZynqBoard, CacheMaintenanceGoesThroughUdmabufSysfs) {
  Board b("zynq_sync");
  const driver::DeviceBuffer buf = b.device->allocate(4096);
  EXPECT_EQ(buf.device_address % 64, 0u);
  EXPECT_GE(buf.device_address, b.device->memory_base());
  b.device->flush(buf, 128, 256);
  const fs::path sysfs = b.emulator->sysfs_dir();
  EXPECT_EQ(read_number(sysfs / "sync_offset"), buf.device_address - b.device->memory_base() + 128);
  EXPECT_EQ(read_number(sysfs / "sync_size"), 256u);
  EXPECT_EQ(read_number(sysfs / "sync_direction"), 1u);  // DMA_TO_DEVICE
  EXPECT_EQ(read_number(sysfs / "sync_for_device"), 1u);
  b.device->invalidate(buf, 0, 64);
  EXPECT_EQ(read_number(sysfs / "sync_direction"), 2u);  // DMA_FROM_DEVICE
  EXPECT_EQ(read_number(sysfs / "sync_for_cpu"), 1u);
  EXPECT_THROW(b.device->flush(buf, 4000, 200), MemoryError);
  // Host writes land in the memory the core reads (the same file through another mapping).
  buf.host[5] = 0x5a;
  std::ifstream mem(b.emulator->mem_path(), std::ios::binary);
  mem.seekg(static_cast<std::streamoff>(buf.device_address - b.device->memory_base() + 5));
  EXPECT_EQ(mem.get(), 0x5a);
  b.device->free(buf);
  EXPECT_THROW(b.device->free(buf), MemoryError);
  EXPECT_THROW(b.device->map_at(b.device->memory_base() + b.device->memory_size(), 16), MemoryError);
  EXPECT_THROW(b.device->allocate(b.device->memory_size() + 1), MemoryError);
}

TEST(ZynqBoard, CoherentPortNeedsNoMaintenance) {
  board::BoardEmulatorOptions o;
  o.dir = fresh_dir("zynq_coherent");
  board::BoardEmulator emu(default_config(), o);
  emu.start();
  driver::ZynqDeviceOptions z = zynq_options(emu);
  z.cache = driver::ZynqCacheMode::kCoherent;
  driver::ZynqDevice dev("zynq", default_config(), z);
  const driver::DeviceBuffer buf = dev.allocate(256);
  dev.flush(buf, 0, 256);
  dev.invalidate(buf, 0, 256);
  EXPECT_EQ(dev.syncs_for_device() + dev.syncs_for_cpu(), 0u);
}

TEST(ZynqBoard, ACoreThatNeverReportsDoneTimesOut) {
  board::BoardFaults f;
  f.never_done = true;
  Board b("zynq_never_done", default_config(), f);
  RandomProgramGenerator gen(default_config(), 5);
  const GeneratedProgram g = gen.next();
  load_regions(*b.device, g);
  const auto start = std::chrono::steady_clock::now();
  const driver::RunResult r = b.device->run(g.insn_address, g.insn_count, 300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(r.status, driver::RunStatus::kTimeout);
  EXPECT_NE(r.message.find("no done from the core after 300 ms"), std::string::npos) << r.message;
  // The soft reset was taken, so the device works again once the core does.
  b.emulator->set_faults({});
  const driver::RunResult again = b.device->run(g.insn_address, g.insn_count, 0ms);
  EXPECT_TRUE(again.ok()) << again.message;
}

TEST(ZynqBoard, MemoryErrorResponseIsReportedAndRecovered) {
  board::BoardFaults f;
  f.memory.read_error_after_beats = 3;
  Board b("zynq_bus_error", default_config(), f);
  RandomProgramGenerator gen(default_config(), 9);
  const GeneratedProgram g = gen.next();
  load_regions(*b.device, g);
  const driver::RunResult r = b.device->run(g.insn_address, g.insn_count, 0ms);
  EXPECT_EQ(r.status, driver::RunStatus::kError);
  EXPECT_NE(r.message.find("hardware error 5"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("SLVERR"), std::string::npos) << r.message;
  // One-shot: the next run is clean.
  const driver::RunResult again = b.device->run(g.insn_address, g.insn_count, 0ms);
  EXPECT_TRUE(again.ok()) << again.message;
}

TEST(ZynqBoard, ABoardThatVanishesMidRunEndsInAClearError) {
  board::BoardFaults f;
  f.vanish_at_run = 1;
  Board b("zynq_vanish", default_config(), f);
  RandomProgramGenerator gen(default_config(), 13);
  const GeneratedProgram g = gen.next();
  load_regions(*b.device, g);
  EXPECT_TRUE(b.device->run(g.insn_address, g.insn_count, 0ms).ok());
  const driver::RunResult r = b.device->run(g.insn_address, g.insn_count, 300ms);
  EXPECT_EQ(r.status, driver::RunStatus::kTimeout);
  EXPECT_NE(r.message.find("the soft reset did not finish either"), std::string::npos) << r.message;
}

TEST(ZynqBoard, ProgramErrorsNameTheInstruction) {
  Board b("zynq_program_error");
  const isa::HwConfig config = default_config();
  // A LOAD INP whose tile ends past the INP buffer: error 7 at instruction 0.
  isa::InstructionCodec codec(config);
  const auto load = isa::make_mem(isa::Opcode::kLoad, isa::MemoryType::kInp, static_cast<uint32_t>(config.inp().depth - 1),
                                  0x100, 1, 4, 4, 0, 0, 0, 0);
  std::vector<isa::RawInstruction> raw = {codec.encode(load), codec.encode(isa::Instruction{isa::FinishInsn{}})};
  std::vector<uint8_t> bytes;
  isa::raw_instructions_to_bytes(raw, bytes);
  const driver::DeviceBuffer data = b.device->allocate(64 * 1024);
  const driver::DeviceBuffer insns = b.device->allocate(bytes.size());
  std::memcpy(insns.host, bytes.data(), bytes.size());
  b.device->flush(insns, 0, insns.size);
  (void)data;
  const driver::RunResult r = b.device->run(insns.device_address, 2, 0ms);
  EXPECT_EQ(r.status, driver::RunStatus::kError);
  EXPECT_NE(r.message.find("hardware error 7"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("at instruction 0"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("INP index"), std::string::npos) << r.message;
}

TEST(ZynqDevice, MissingDeviceNodeIsAClearError) {
  driver::ZynqDeviceOptions o;
  o.regs_path = "/nonexistent/uio7";
  o.mem_path = "/nonexistent/udmabuf7";
  o.mem_phys_addr = 0x10000000;
  o.mem_size = 1 << 20;
  try {
    driver::ZynqDevice dev("zynq", default_config(), o);
    FAIL() << "opened a missing node";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/uio7: cannot open"), std::string::npos) << e.what();
  }
  o.sysfs_dir = "/nonexistent/sysfs";
  o.mem_phys_addr.reset();
  try {
    driver::ZynqDevice dev("zynq", default_config(), o);
    FAIL() << "no phys_addr";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("phys_addr"), std::string::npos) << e.what();
  }
}

TEST(ZynqDevice, AnotherCoresBitstreamIsRefused) {
  board::BoardEmulatorOptions o;
  o.dir = fresh_dir("zynq_other_core");
  board::BoardEmulator emu(default_config(), o);
  const isa::HwConfig other = isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/block8.json");
  try {
    driver::ZynqDevice dev("zynq", other, zynq_options(emu));
    FAIL() << "accepted a core built for another config";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("generated for another hardware config"), std::string::npos) << e.what();
  }
  // A window of zeros: no core at all.
  std::ofstream(o.dir / "blank", std::ios::binary) << std::string(4096, '\0');
  driver::ZynqDeviceOptions z = zynq_options(emu);
  z.regs_path = (o.dir / "blank").string();
  try {
    driver::ZynqDevice dev("zynq", default_config(), z);
    FAIL() << "accepted a blank window";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no VTA core answers"), std::string::npos) << e.what();
  }
}

TEST(ZynqDevice, MemoryBeyondThePortsAddressesIsRefused) {
  board::BoardEmulatorOptions o;
  o.dir = fresh_dir("zynq_high_memory");
  board::BoardEmulator emu(default_config(), o);
  driver::ZynqDeviceOptions z = zynq_options(emu);
  z.mem_phys_addr = 0xfff00000ull;  // 48 MB from here crosses 4 GB
  try {
    driver::ZynqDevice dev("zynq", default_config(), z);
    FAIL() << "accepted memory above 4 GB on a 32-bit port";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("beyond the 32-bit addresses"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vta::test
