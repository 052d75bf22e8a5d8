// Harness dram_image: the VTADRAM1 container reader (DramImage::read_vtadram).
// Property: an accepted file is canonical, so writing the image back gives the same bytes.
#include <fstream>
#include <iterator>

#include "fuzz_common.h"
#include "vta/driver/dram_image.h"

namespace vta::fuzz {

void dram_image(Bytes data) {
  const auto dir = scratch_dir("dram_image");
  write_file(dir / "in.bin", data);
  driver::DramImage image;
  if (!accepts([&] { image = driver::DramImage::read_vtadram(dir / "in.bin"); })) return;
  image.write_vtadram(dir / "out.bin");
  std::ifstream back(dir / "out.bin", std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(back)), std::istreambuf_iterator<char>());
  VTA_FUZZ_CHECK(std::equal(bytes.begin(), bytes.end(), data.begin(), data.end()),
                 "an accepted VTADRAM1 file does not write back to the same bytes");
}

}  // namespace vta::fuzz
