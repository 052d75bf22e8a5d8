#include "vta/compiler/packing.h"

#include <fmt/format.h>

namespace vta::compiler {
namespace {

void require_rank(const Tensor& t, size_t rank, const char* what) {
  if (t.rank() != rank) {
    throw Error(fmt::format("{}: expected a rank-{} tensor, got shape {}", what, rank, t.shape_string()));
  }
}

}  // namespace

std::vector<int8_t> pack_activations(const Tensor& nchw, uint32_t batch, uint32_t block) {
  require_rank(nchw, 4, "pack_activations");
  const int64_t n = nchw.dim(0), c = nchw.dim(1), h = nchw.dim(2), w = nchw.dim(3);
  const int64_t nb = ceil_div(n, batch), cb = ceil_div(c, block);
  std::vector<int8_t> out(static_cast<size_t>(nb * cb * h * w) * batch * block, 0);
  const int8_t* src = nchw.data<int8_t>();
  for (int64_t in = 0; in < n; ++in) {
    const int64_t bo = in / batch, bi = in % batch;
    for (int64_t ic = 0; ic < c; ++ic) {
      const int64_t co = ic / block, ci = ic % block;
      for (int64_t y = 0; y < h; ++y) {
        for (int64_t x = 0; x < w; ++x) {
          const int64_t elem = ((bo * cb + co) * h + y) * w + x;
          out[static_cast<size_t>((elem * batch + bi) * block + ci)] = src[((in * c + ic) * h + y) * w + x];
        }
      }
    }
  }
  return out;
}

Tensor unpack_activations(const std::vector<int8_t>& packed, int64_t n, int64_t c, int64_t h, int64_t w,
                          uint32_t batch, uint32_t block) {
  const int64_t nb = ceil_div(n, batch), cb = ceil_div(c, block);
  const size_t need = static_cast<size_t>(nb * cb * h * w) * batch * block;
  if (packed.size() < need) {
    throw Error(fmt::format("unpack_activations: {} packed bytes, need {}", packed.size(), need));
  }
  Tensor t(DType::kInt8, {n, c, h, w});
  int8_t* dst = t.data<int8_t>();
  for (int64_t in = 0; in < n; ++in) {
    const int64_t bo = in / batch, bi = in % batch;
    for (int64_t ic = 0; ic < c; ++ic) {
      const int64_t co = ic / block, ci = ic % block;
      for (int64_t y = 0; y < h; ++y) {
        for (int64_t x = 0; x < w; ++x) {
          const int64_t elem = ((bo * cb + co) * h + y) * w + x;
          dst[((in * c + ic) * h + y) * w + x] = packed[static_cast<size_t>((elem * batch + bi) * block + ci)];
        }
      }
    }
  }
  return t;
}

std::vector<int8_t> pack_weights(const Tensor& oihw, uint32_t block_out, uint32_t block_in) {
  require_rank(oihw, 4, "pack_weights");
  const int64_t o = oihw.dim(0), i = oihw.dim(1), kh = oihw.dim(2), kw = oihw.dim(3);
  const int64_t ob = ceil_div(o, block_out), ib = ceil_div(i, block_in);
  std::vector<int8_t> out(static_cast<size_t>(ob * ib * kh * kw) * block_out * block_in, 0);
  const int8_t* src = oihw.data<int8_t>();
  for (int64_t oc = 0; oc < o; ++oc) {
    for (int64_t ic = 0; ic < i; ++ic) {
      for (int64_t y = 0; y < kh; ++y) {
        for (int64_t x = 0; x < kw; ++x) {
          const int64_t elem = (((oc / block_out) * ib + ic / block_in) * kh + y) * kw + x;
          const int64_t lane = (oc % block_out) * block_in + ic % block_in;
          out[static_cast<size_t>(elem * block_out * block_in + lane)] = src[((oc * i + ic) * kh + y) * kw + x];
        }
      }
    }
  }
  return out;
}

Tensor unpack_weights(const std::vector<int8_t>& packed, int64_t o, int64_t i, int64_t kh, int64_t kw,
                      uint32_t block_out, uint32_t block_in) {
  const int64_t ob = ceil_div(o, block_out), ib = ceil_div(i, block_in);
  const size_t need = static_cast<size_t>(ob * ib * kh * kw) * block_out * block_in;
  if (packed.size() < need) throw Error(fmt::format("unpack_weights: {} packed bytes, need {}", packed.size(), need));
  Tensor t(DType::kInt8, {o, i, kh, kw});
  int8_t* dst = t.data<int8_t>();
  for (int64_t oc = 0; oc < o; ++oc) {
    for (int64_t ic = 0; ic < i; ++ic) {
      for (int64_t y = 0; y < kh; ++y) {
        for (int64_t x = 0; x < kw; ++x) {
          const int64_t elem = (((oc / block_out) * ib + ic / block_in) * kh + y) * kw + x;
          const int64_t lane = (oc % block_out) * block_in + ic % block_in;
          dst[((oc * i + ic) * kh + y) * kw + x] = packed[static_cast<size_t>(elem * block_out * block_in + lane)];
        }
      }
    }
  }
  return t;
}

std::vector<int32_t> pack_bias(const Tensor& bias, uint32_t batch, uint32_t block_out) {
  require_rank(bias, 1, "pack_bias");
  const int64_t o = bias.dim(0), ob = ceil_div(o, block_out);
  std::vector<int32_t> out(static_cast<size_t>(ob) * batch * block_out, 0);
  const int32_t* src = bias.data<int32_t>();
  for (int64_t oc = 0; oc < o; ++oc) {
    for (uint32_t b = 0; b < batch; ++b) {
      out[static_cast<size_t>(((oc / block_out) * batch + b) * block_out + oc % block_out)] = src[oc];
    }
  }
  return out;
}

}  // namespace vta::compiler
