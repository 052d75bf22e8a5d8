// The board backends' error paths that need no board and no RTL: the xrt target without a card or with
// no / a missing xclbin, the zynq target without device nodes, and their environment settings.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <fstream>
#include <string>

#include "vta/driver/device.h"
#include "vta/driver/xrt_device.h"
#include "vta/driver/zynq_device.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"

namespace vta::driver {
namespace {

// Sets an environment variable for the scope of one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string open_error(const char* target) {
  try {
    open_device(target, isa::HwConfig::default_config());
  } catch (const Error& e) {
    return e.what();
  }
  return "(opened)";
}

TEST(XrtBackend, IsAKnownTarget) {
  const auto targets = known_targets();
  EXPECT_NE(std::find(targets.begin(), targets.end(), "xrt"), targets.end());
  EXPECT_NE(std::find(targets.begin(), targets.end(), "zynq"), targets.end());
}

TEST(XrtBackend, NoXclbinSaysWhatToSet) {
  ScopedEnv x("VTA_XRT_XCLBIN", nullptr);
  const std::string e = open_error("xrt");
  if (!xrt_supported()) {
    EXPECT_NE(e.find("no XRT support"), std::string::npos) << e;
    return;
  }
  EXPECT_NE(e.find("no xclbin given: set VTA_XRT_XCLBIN"), std::string::npos) << e;
}

TEST(XrtBackend, MissingXclbinIsNamed) {
  if (!xrt_supported()) GTEST_SKIP() << "built without libxrt";
  ScopedEnv x("VTA_XRT_XCLBIN", "/nonexistent/vta.xclbin");
  const std::string e = open_error("xrt");
  EXPECT_NE(e.find("/nonexistent/vta.xclbin: no such file"), std::string::npos) << e;
}

TEST(XrtBackend, NoCardIsAClearError) {
  if (!xrt_supported()) GTEST_SKIP() << "built without libxrt";
  const std::string path = ::testing::TempDir() + "/not_an.xclbin";
  std::ofstream(path) << "not an xclbin";
  ScopedEnv x("VTA_XRT_XCLBIN", path.c_str());
  ScopedEnv d("VTA_XRT_DEVICE", "0000:ff:1f.7");
  const std::string e = open_error("xrt");
  // No card here: whatever XRT says, the message names the device and what to check.
  EXPECT_NE(e.find("xrt: cannot open device 0000:ff:1f.7"), std::string::npos) << e;
  EXPECT_NE(e.find("xbutil examine"), std::string::npos) << e;
}

TEST(XrtBackend, BadEnvironmentValuesAreNamed) {
  ScopedEnv a("VTA_XRT_ARENA_MB", "lots");
  EXPECT_THROW(XrtDeviceOptions::from_environment(), Error);
  ScopedEnv b("VTA_XRT_ARENA_MB", "0");
  try {
    XrtDeviceOptions::from_environment();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("VTA_XRT_ARENA_MB"), std::string::npos);
  }
}

TEST(ZynqBackend, NoDeviceNodeSaysWhatToCheck) {
  ScopedEnv r("VTA_ZYNQ_REGS", "/nonexistent/uio0");
  ScopedEnv p("VTA_ZYNQ_MEM_PHYS", "0x10000000");
  ScopedEnv s("VTA_ZYNQ_MEM_SIZE", "0x100000");
  const std::string e = open_error("zynq");
  EXPECT_NE(e.find("/nonexistent/uio0: cannot open"), std::string::npos) << e;
}

TEST(ZynqBackend, BadEnvironmentValuesAreNamed) {
  ScopedEnv c("VTA_ZYNQ_CACHE", "sometimes");
  try {
    ZynqDeviceOptions::from_environment();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("VTA_ZYNQ_CACHE"), std::string::npos);
  }
  ScopedEnv c2("VTA_ZYNQ_CACHE", "coherent");
  ScopedEnv b("VTA_ZYNQ_ADDRESS_BITS", "80");
  EXPECT_THROW(ZynqDeviceOptions::from_environment(), Error);
}

}  // namespace
}  // namespace vta::driver
