// The libFuzzer entry point of one harness binary; CMake compiles this file once per harness with
// VTA_FUZZ_MAIN set to the harness function's name.
#include "fuzz_common.h"

#ifndef VTA_FUZZ_MAIN
#error "VTA_FUZZ_MAIN must name the harness function"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vta::fuzz::VTA_FUZZ_MAIN(vta::fuzz::Bytes(data, size));
  return 0;
}
