// The XRT backend's logic (driver/xrt: arena placement, address checks, the board protocol, counters,
// errors) against the board emulator: an XrtPlatform whose register reads and writes and whose one buffer
// object are the emulator's files, in place of the libxrt calls (the only part left for a real card).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "vta/board/board_emulator.h"
#include "vta/driver/board_protocol.h"
#include "vta/driver/device.h"
#include "vta/driver/program_trace.h"
#include "vta/driver/xrt_device.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"
#include "vta/test/board_checks.h"
#include "vta/test/device_regions.h"
#include "vta/test/random_program.h"
#include "vta/test/test_data.h"

namespace vta::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

isa::HwConfig default_config() { return isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/default.json"); }

uint8_t* map_file(const fs::path& path, uint64_t size) {
  const int fd = ::open(path.c_str(), O_RDWR);
  if (fd < 0) throw Error("cannot open " + path.string());
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) throw Error("cannot map " + path.string());
  return static_cast<uint8_t*>(p);
}

// XRT as the emulator's files: registers = the window, bank 0 = the contiguous memory; bank 1 stands
// for a bank that sits above 4 GB.
class EmulatedXrt final : public driver::XrtPlatform {
 public:
  explicit EmulatedXrt(const board::BoardEmulator& emu)
      : emu_(emu), regs_(map_file(emu.regs_path(), 4096)),
        mem_(map_file(emu.mem_path(), emu.options().mem_size)), window_(regs_, 4096) {}
  ~EmulatedXrt() override {
    ::munmap(regs_, 4096);
    ::munmap(mem_, emu_.options().mem_size);
  }
  uint32_t read_register(uint32_t offset) override { return window_.read(offset); }
  void write_register(uint32_t offset, uint32_t value) override { window_.write(offset, value); }
  Buffer allocate_arena(uint64_t bytes, uint32_t bank) override {
    const uint64_t base = bank == 1 ? 0x100000000ull + emu_.options().mem_phys_addr : emu_.options().mem_phys_addr;
    return {base, mem_, std::min<uint64_t>(bytes, emu_.options().mem_size)};
  }
  void sync_arena(uint64_t offset, uint64_t bytes, bool) override {
    if (offset + bytes > emu_.options().mem_size) throw Error("sync beyond the arena");
  }
  std::string where() const override { return "emulated XRT device (" + emu_.regs_path().string() + ")"; }

 private:
  const board::BoardEmulator& emu_;
  uint8_t* regs_;
  uint8_t* mem_;
  driver::MappedRegisterPort window_;
};

struct XrtBoard {
  explicit XrtBoard(const std::string& name, const isa::HwConfig& config = default_config(),
                    board::BoardFaults faults = {}) {
    board::BoardEmulatorOptions o;
    o.dir = fs::path(VTA_TEST_OUTPUT_DIR) / name;
    fs::remove_all(o.dir);
    o.mem_size = 48ull << 20;
    o.faults = faults;
    emulator = std::make_unique<board::BoardEmulator>(config, o);
    emulator->start();
    driver::XrtDeviceOptions x;
    x.arena_bytes = 48ull << 20;
    device = std::make_unique<driver::XrtDevice>("xrt", config, x, std::make_unique<EmulatedXrt>(*emulator));
  }
  std::unique_ptr<board::BoardEmulator> emulator;
  std::unique_ptr<driver::XrtDevice> device;
};

TEST(XrtBoard, ApacheVtaRecordingsReplayExactly) {
  std::unique_ptr<XrtBoard> b;
  const int replayed = expect_recordings_replay(
      fs::path(VTA_TEST_OUTPUT_DIR) / "xrt_recordings",
      [&](const driver::ProgramTrace& trace, const std::string& name) -> driver::Device& {
        b = std::make_unique<XrtBoard>("xrt_board_" + name, trace.config);
        return *b->device;
      },
      [&](const driver::ProgramTrace& trace) { EXPECT_EQ(b->device->syncs(), 2 * trace.regions.size()); });
  EXPECT_EQ(replayed, 3);
}

TEST(XrtBoard, RandomProgramsMatchFsim) {
  XrtBoard b("xrt_random");
  expect_random_programs_match_fsim(*b.device, default_config(), 0x7e700000u, 32);
  // The core's own counters come through the register block too.
  bool busy = false;
  for (const auto& [name, value] : b.device->extra_counters())
    if (name == "compute_busy_cycles" && value > 0) busy = true;
  EXPECT_TRUE(busy);
}

TEST(XrtBoard, AnArenaAbove4GBIsRefusedWithTheBankToChange) {
  board::BoardEmulatorOptions o;
  o.dir = fs::path(VTA_TEST_OUTPUT_DIR) / "xrt_high_bank";
  fs::remove_all(o.dir);
  board::BoardEmulator emu(default_config(), o);
  driver::XrtDeviceOptions x;
  x.memory_bank = 1;
  try {
    driver::XrtDevice dev("xrt", default_config(), x, std::make_unique<EmulatedXrt>(emu));
    FAIL() << "accepted an arena above 4 GB";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("beyond the 32-bit addresses"), std::string::npos) << m;
    EXPECT_NE(m.find("VTA_XRT_BANK"), std::string::npos) << m;
  }
}

TEST(XrtBoard, ACoreThatNeverReportsDoneTimesOutAndRecovers) {
  board::BoardFaults f;
  f.never_done = true;
  XrtBoard b("xrt_never_done", default_config(), f);
  RandomProgramGenerator gen(default_config(), 21);
  const GeneratedProgram g = gen.next();
  load_regions(*b.device, g);
  const driver::RunResult r = b.device->run(g.insn_address, g.insn_count, 250ms);
  EXPECT_EQ(r.status, driver::RunStatus::kTimeout);
  EXPECT_NE(r.message.find("no done from the core after 250 ms"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("emulated XRT device"), std::string::npos) << r.message;
  b.emulator->set_faults({});
  EXPECT_TRUE(b.device->run(g.insn_address, g.insn_count, 0ms).ok());
}

}  // namespace
}  // namespace vta::test
