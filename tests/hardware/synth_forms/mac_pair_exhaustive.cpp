// Every input of vta_mac_pair's synthesis form (two int8 products from one DSP48; the registers left out,
// REGS = 0) against the products computed here: 2^24 cases (tests/hardware/synth_forms/prove.sh).
#include <cstdint>
#include <cstdio>
#include "Vvta_mac_pair.h"

int main() {
  Vvta_mac_pair m;
  uint64_t bad = 0;
  for (int x = -128; x < 128; ++x) {
    for (int lo = -128; lo < 128; ++lo) {
      for (int hi = -128; hi < 128; ++hi) {
        m.x_i = static_cast<uint8_t>(x);
        m.w_lo_i = static_cast<uint8_t>(lo);
        m.w_hi_i = static_cast<uint8_t>(hi);
        m.eval();
        const auto want_lo = static_cast<uint16_t>(x * lo + 0x8000);
        const auto want_hi = static_cast<uint16_t>(x * hi + 0x8000);
        if (m.lo_o != want_lo || m.hi_o != want_hi) {
          if (bad++ < 5) std::printf("x %d w_lo %d w_hi %d: lo %04x (want %04x) hi %04x (want %04x)\n", x, lo, hi,
                                     m.lo_o, want_lo, m.hi_o, want_hi);
        }
      }
    }
  }
  std::printf("mac_pair exhaustive: %llu of 16777216 wrong\n", static_cast<unsigned long long>(bad));
  return bad == 0 ? 0 : 1;
}
