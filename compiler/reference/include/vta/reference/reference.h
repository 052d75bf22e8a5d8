// Plain CPU reference operators for testing the lowering: written straightforwardly, independent of
// the compiler's packing, tiling and device code. Tensors are flat std::vectors in C order.
#pragma once

#include <cstdint>
#include <vector>

namespace vta::reference {

struct RequantParams {
  int shift = 0;
  bool relu = false;
  int clip_lo = -128, clip_hi = 127;
};

// out = clip((sum + bias) >> shift), sum accumulated in (wrapping) 32-bit arithmetic.
int8_t requantize(int32_t acc, const RequantParams& rq);

struct ConvGeometry {
  int n = 1, c = 1, h = 1, w = 1;  // input NCHW
  int o = 1, kh = 1, kw = 1;       // weight OIHW (I = c)
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int out_h() const { return (h + pad_top + pad_bottom - kh) / stride_h + 1; }
  int out_w() const { return (w + pad_left + pad_right - kw) / stride_w + 1; }
};

// int8 NCHW x int8 OIHW (+ int32 bias, may be empty) -> int8 NCHW.
std::vector<int8_t> conv2d(const std::vector<int8_t>& input, const std::vector<int8_t>& weight,
                           const std::vector<int32_t>& bias, const ConvGeometry& g, const RequantParams& rq);

// int8 x (n, k) times int8 weight (m, k) (+ int32 bias (m), may be empty) -> int8 (n, m).
std::vector<int8_t> dense(const std::vector<int8_t>& x, const std::vector<int8_t>& weight,
                          const std::vector<int32_t>& bias, int n, int k, int m, const RequantParams& rq);

// int8 a (m, k) times int8 b (k, n), both row-major -> int8 (m, n): requantized when `rq` is given,
// otherwise the low byte of the wrapping int32 sum (what a STORE of an unshifted accumulator writes).
std::vector<int8_t> matmul(const std::vector<int8_t>& a, const std::vector<int8_t>& b, int m, int k, int n,
                           const RequantParams* rq);

// out[i] = clip((a[i] + b[i]) >> shift) for int8 a, b of the same length.
std::vector<int8_t> add(const std::vector<int8_t>& a, const std::vector<int8_t>& b, const RequantParams& rq);

struct PoolGeometry {
  int n = 1, c = 1, h = 1, w = 1;
  int kh = 2, kw = 2, stride_h = 2, stride_w = 2;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int out_h() const { return (h + pad_top + pad_bottom - kh) / stride_h + 1; }
  int out_w() const { return (w + pad_left + pad_right - kw) / stride_w + 1; }
};

// int8 NCHW max pooling over the real pixels of each window (padding is ignored, never a candidate).
std::vector<int8_t> max_pool2d(const std::vector<int8_t>& input, const PoolGeometry& g);

}  // namespace vta::reference
