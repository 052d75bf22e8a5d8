#include "vta/reference/reference.h"

#include <algorithm>

namespace vta::reference {

int8_t requantize(int32_t acc, const RequantParams& rq) {
  int64_t v = acc >> rq.shift;  // arithmetic shift of a signed value
  int lo = rq.clip_lo;
  if (rq.relu) lo = std::max(lo, 0);
  v = std::min<int64_t>(v, rq.clip_hi);
  v = std::max<int64_t>(v, lo);
  return static_cast<int8_t>(v);
}

namespace {
int32_t wrap_add(int32_t a, int64_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(static_cast<int32_t>(b)));
}
}  // namespace

std::vector<int8_t> conv2d(const std::vector<int8_t>& input, const std::vector<int8_t>& weight,
                           const std::vector<int32_t>& bias, const ConvGeometry& g, const RequantParams& rq) {
  const int oh = g.out_h(), ow = g.out_w();
  std::vector<int8_t> out(static_cast<size_t>(g.n) * g.o * oh * ow);
  for (int n = 0; n < g.n; ++n) {
    for (int o = 0; o < g.o; ++o) {
      for (int y = 0; y < oh; ++y) {
        for (int x = 0; x < ow; ++x) {
          int64_t sum = 0;
          for (int c = 0; c < g.c; ++c) {
            for (int ky = 0; ky < g.kh; ++ky) {
              for (int kx = 0; kx < g.kw; ++kx) {
                const int iy = y * g.stride_h - g.pad_top + ky;
                const int ix = x * g.stride_w - g.pad_left + kx;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                const int64_t a = input[((static_cast<size_t>(n) * g.c + c) * g.h + iy) * g.w + ix];
                const int64_t b = weight[((static_cast<size_t>(o) * g.c + c) * g.kh + ky) * g.kw + kx];
                sum += a * b;
              }
            }
          }
          int32_t acc = wrap_add(0, sum);
          if (!bias.empty()) acc = wrap_add(acc, bias[static_cast<size_t>(o)]);
          out[((static_cast<size_t>(n) * g.o + o) * oh + y) * ow + x] = requantize(acc, rq);
        }
      }
    }
  }
  return out;
}

std::vector<int8_t> dense(const std::vector<int8_t>& x, const std::vector<int8_t>& weight,
                          const std::vector<int32_t>& bias, int n, int k, int m, const RequantParams& rq) {
  std::vector<int8_t> out(static_cast<size_t>(n) * m);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < m; ++j) {
      int64_t sum = 0;
      for (int t = 0; t < k; ++t) {
        sum += int64_t{x[static_cast<size_t>(i) * k + t]} * weight[static_cast<size_t>(j) * k + t];
      }
      int32_t acc = wrap_add(0, sum);
      if (!bias.empty()) acc = wrap_add(acc, bias[static_cast<size_t>(j)]);
      out[static_cast<size_t>(i) * m + j] = requantize(acc, rq);
    }
  }
  return out;
}

std::vector<int8_t> add(const std::vector<int8_t>& a, const std::vector<int8_t>& b, const RequantParams& rq) {
  std::vector<int8_t> out(a.size());
  for (size_t i = 0; i < a.size(); ++i) out[i] = requantize(int32_t{a[i]} + int32_t{b[i]}, rq);
  return out;
}

std::vector<int8_t> max_pool2d(const std::vector<int8_t>& input, const PoolGeometry& g) {
  const int oh = g.out_h(), ow = g.out_w();
  std::vector<int8_t> out(static_cast<size_t>(g.n) * g.c * oh * ow);
  for (int n = 0; n < g.n; ++n)
    for (int c = 0; c < g.c; ++c)
      for (int y = 0; y < oh; ++y)
        for (int x = 0; x < ow; ++x) {
          int best = -1000;
          for (int ky = 0; ky < g.kh; ++ky)
            for (int kx = 0; kx < g.kw; ++kx) {
              const int iy = y * g.stride_h - g.pad_top + ky, ix = x * g.stride_w - g.pad_left + kx;
              if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
              best = std::max<int>(best, input[((static_cast<size_t>(n) * g.c + c) * g.h + iy) * g.w + ix]);
            }
          out[((static_cast<size_t>(n) * g.c + c) * oh + y) * ow + x] = static_cast<int8_t>(best);
        }
  return out;
}

std::vector<int8_t> matmul(const std::vector<int8_t>& a, const std::vector<int8_t>& b, int m, int k, int n,
                           const RequantParams* rq) {
  std::vector<int8_t> c(static_cast<size_t>(m) * n);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      int32_t acc = 0;
      for (int p = 0; p < k; ++p) {
        acc = wrap_add(acc, int64_t{a[static_cast<size_t>(i) * k + p]} * b[static_cast<size_t>(p) * n + j]);
      }
      c[static_cast<size_t>(i) * n + j] =
          rq ? requantize(acc, *rq) : static_cast<int8_t>(static_cast<uint8_t>(static_cast<uint32_t>(acc) & 0xffu));
    }
  }
  return c;
}

}  // namespace vta::reference
