// Per-output-channel requantization (QStep::channel_shift, QuantizeOptions::per_channel): the executor's
// semantics on hand cases (conv, dense, grouped/depthwise against a plain loop), the quantizer's exps,
// shifts, bias and notes, its accuracy on a conv whose channels differ in magnitude by 2^8, and the text.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>

#include "quant_test_util.h"
#include "vta/ir/float_executor.h"
#include "vta/ir/passes.h"
#include "vta/quant/int8_executor.h"
#include "vta/quant/quantize.h"

namespace vta::quant {
namespace {

using ir::Graph;
using ir::OpKind;
using ir::ValueId;
using test::attrs;
using test::error_of;
using test::f32;
using test::i32;
using test::i8;
using test::ints;
using test::ModelBuilder;

using Ints = std::vector<int64_t>;

using test::thresholds;

QuantizeOptions per_channel(bool on) {
  QuantizeOptions o;
  o.per_channel = on;
  return o;
}

// ---- executor ----

TEST(PerChannelExecutor, ConvHandCase) {
  // 1x1 conv, x (1,2,1,2) = pixels (10, 7) and (-10, 7); w = [[1, 2], [3, -1]]
  // acc: channel 0: 24, 4; channel 1: 23, -37. shifts {2, 0}; bias {0 + 2^1, 0}; clip [-128, 20]
  // channel 0: (24 + 2) >> 2 = 6, (4 + 2) >> 2 = 1; channel 1: 23 -> 20 (clip), -37.
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {1, 2, 1, 2});
  QStep& s = b.step(QOp::kConv2d, {x}, b.tensor("y", DType::kInt8, {1, 2, 1, 2}));
  s.weight = i8({2, 2, 1, 1}, {1, 2, 3, -1});
  s.bias = i32({2}, {2, 0});
  s.requant.shift = 0;  // ignored
  s.requant.clip_hi = 20;
  s.channel_shift = {2, 0};
  const Tensor in = i8({1, 2, 1, 2}, {10, -10, 7, 7});
  EXPECT_EQ(ints(execute_step(b.m, s, {&in})), (std::vector<int>{6, 1, 20, -37}));
  // the per-tensor form with the same shift everywhere equals uniform channel shifts
  s.channel_shift = {2, 2};
  const std::vector<int> uniform = ints(execute_step(b.m, s, {&in}));
  s.channel_shift.clear();
  s.requant.shift = 2;
  EXPECT_EQ(ints(execute_step(b.m, s, {&in})), uniform);
}

TEST(PerChannelExecutor, DenseHandCase) {
  // x = [[1, 2, 3], [-4, 5, -6]], w = [[1, 1, 1], [2, 0, -1]], shifts {3, 0}, bias {4, 0}
  // row 0: (6 + 4) >> 3 = 1, -1; row 1: (-5 + 4) >> 3 = -1, -8 + 6 = -2.
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {2, 3});
  QStep& s = b.step(QOp::kDense, {x}, b.tensor("y", DType::kInt8, {2, 2}));
  s.weight = i8({2, 3}, {1, 1, 1, 2, 0, -1});
  s.bias = i32({2}, {4, 0});
  s.channel_shift = {3, 0};
  const Tensor in = i8({2, 3}, {1, 2, 3, -4, 5, -6});
  EXPECT_EQ(ints(execute_step(b.m, s, {&in})), (std::vector<int>{1, -1, -1, -2}));
}

// clamp((conv + bias[o]) >> shift[o]) with groups, by a plain loop.
std::vector<int> grouped_loop(const Tensor& x, const Tensor& w, const Tensor& bias, const std::vector<int32_t>& shift,
                              int64_t groups, int64_t pad) {
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3), o = w.dim(0), k = w.dim(2);
  const int64_t cg = c / groups, og = o / groups, oh = h + 2 * pad - k + 1, ow = wd + 2 * pad - k + 1;
  std::vector<int> out;
  for (int64_t ni = 0; ni < n; ++ni)
    for (int64_t co = 0; co < o; ++co)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t xx = 0; xx < ow; ++xx) {
          int64_t acc = bias.data<int32_t>()[co];
          for (int64_t ic = 0; ic < cg; ++ic)
            for (int64_t ky = 0; ky < k; ++ky)
              for (int64_t kx = 0; kx < k; ++kx) {
                const int64_t iy = y - pad + ky, ix = xx - pad + kx, ci = (co / og) * cg + ic;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                acc += int64_t{x.data<int8_t>()[((ni * c + ci) * h + iy) * wd + ix]} *
                       w.data<int8_t>()[((co * cg + ic) * k + ky) * k + kx];
              }
          out.push_back(static_cast<int>(std::clamp<int64_t>(acc >> shift[static_cast<size_t>(co)], -128, 127)));
        }
  return out;
}

TEST(PerChannelExecutor, GroupedAndDepthwiseConvs) {
  for (int64_t groups : {int64_t{1}, int64_t{2}, int64_t{6}}) {
    SCOPED_TRACE(fmt::format("groups {}", groups));
    const int64_t c = 6, o = 6;
    ModelBuilder b;
    const TensorId x = b.tensor("x", DType::kInt8, {2, c, 5, 4});
    QStep& s = b.step(QOp::kConv2d, {x}, b.tensor("y", DType::kInt8, {2, o, 5, 4}));
    s.weight = test::random_i8({o, c / groups, 3, 3}, 10 + static_cast<uint32_t>(groups));
    s.bias = i32({o}, {100, -200, 3000, -4000, 0, 7});
    s.conv.groups = static_cast<uint32_t>(groups);
    s.conv.pad_top = s.conv.pad_left = s.conv.pad_bottom = s.conv.pad_right = 1;
    s.channel_shift = {0, 3, 6, 9, 12, 31};
    const Tensor in = test::random_i8({2, c, 5, 4}, 3);
    EXPECT_EQ(ints(execute_step(b.m, s, {&in})), grouped_loop(in, *s.weight, *s.bias, s.channel_shift, groups, 1));
  }
}

TEST(PerChannelExecutor, ChecksTheShifts) {
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {2, 3});
  QStep& s = b.step(QOp::kDense, {x}, b.tensor("y", DType::kInt8, {2, 2}));
  s.weight = i8({2, 3}, {1, 1, 1, 2, 0, -1});
  const Tensor in = i8({2, 3}, {1, 2, 3, -4, 5, -6});
  s.channel_shift = {3, 0, 1};
  EXPECT_EQ(error_of([&] { execute_step(b.m, s, {&in}); }), "step 'Dense0' (Dense): 3 channel shifts for 2 output channels");
  s.channel_shift = {3, 32};
  EXPECT_EQ(error_of([&] { execute_step(b.m, s, {&in}); }), "step 'Dense0' (Dense): channel shift 32 not in [0, 31]");
}

// ---- quantizer ----

// x (1,4,6,6) -> Conv 3x3 pad 1 (8 out, bias) -> y; output channels 4..7 have weights 2^8 times smaller.
struct SpreadConv {
  Graph g{"spread"};
  ValueId x, y;
  Tensor w;
};

SpreadConv spread_conv(float small = 1.0f / 256) {
  SpreadConv t;
  t.x = t.g.add_input("x", DType::kFloat32, {1, 4, 6, 6});
  t.w = test::random_f32({8, 4, 3, 3}, 21, -0.5f, 0.5f);
  for (size_t i = 4 * 36; i < t.w.size(); ++i) t.w.data<float>()[i] *= small;
  std::vector<float> b = {0.1f, -0.2f, 0.05f, 0.0f, 0.1f * small, -0.2f * small, 0.3f * small, 0.0f};
  t.y = t.g.add_value("y");
  t.g.add_node(OpKind::kConv, "conv", {t.x, t.g.add_constant("w", t.w), t.g.add_constant("b", f32({8}, b))}, {t.y},
               attrs({{"pads", Ints{1, 1, 1, 1}}}));
  t.g.add_output(t.y);
  ir::run_default_passes(t.g);
  return t;
}

// Relative L2 error of output channels [c0, c1) of int8 vs float over a few random inputs.
double channel_error(const Graph& g, const QModel& m, int64_t c0, int64_t c1) {
  double num = 0, den = 0;
  for (uint32_t s = 0; s < 4; ++s) {
    const Tensor in = test::random_f32({1, 4, 6, 6}, 300 + s);
    const Tensor got = run_int8(m, in)[0], want = ir::run_float(g, {in})[0];
    const int64_t plane = 36;
    for (int64_t i = c0 * plane; i < c1 * plane; ++i) {
      const double d = double{got.data<float>()[i]} - want.data<float>()[i];
      num += d * d;
      den += double{want.data<float>()[i]} * want.data<float>()[i];
    }
  }
  return std::sqrt(num / den);
}

TEST(PerChannelQuantize, ExpsShiftsAndBias) {
  SpreadConv t = spread_conv();
  // x: T 1 -> e6; y: T 2 -> e5 (the large channels' range)
  const QModel m = quantize(t.g, thresholds({{t.x, 1.0}, {t.y, 2.0}}), per_channel(true));
  const QStep& s = m.steps[1];
  ASSERT_EQ(s.channel_shift.size(), 8u);
  for (int64_t c = 0; c < 8; ++c) {
    double mx = 0;
    for (int64_t i = 0; i < 36; ++i) mx = std::max(mx, std::fabs(double{t.w.data<float>()[c * 36 + i]}));
    const auto e_w = static_cast<int32_t>(std::floor(std::log2(127.0 / mx)));
    EXPECT_EQ(s.channel_shift[static_cast<size_t>(c)], 6 + e_w - 5) << c;
    // each channel's largest weight fills [64, 127]
    int q = 0;
    for (int64_t i = 0; i < 36; ++i) q = std::max(q, std::abs(int{s.weight->data<int8_t>()[c * 36 + i]}));
    EXPECT_GE(q, 64) << c;
    // bias at 2^(e_in + e_w[c]) plus the channel's rounding term
    const double b = c == 0 ? double{0.1f} : c == 5 ? double{-0.2f * (1.0f / 256)} : 0.0;
    if (c == 0 || c == 5 || c == 3) {
      EXPECT_EQ(s.bias->data<int32_t>()[c], std::lround(b * std::ldexp(1.0, 6 + e_w)) + (1 << (s.channel_shift[c] - 1))) << c;
    }
  }
  // the small channels shift about 8 more
  for (size_t c = 0; c < 4; ++c) {
    EXPECT_GE(s.channel_shift[c + 4] - s.channel_shift[c], 7);
    EXPECT_LE(s.channel_shift[c + 4] - s.channel_shift[c], 9);
  }
  EXPECT_EQ(s.requant.shift, *std::min_element(s.channel_shift.begin(), s.channel_shift.end()));
  EXPECT_EQ(s.weight_exp, s.requant.shift - 6 + 5);  // the coarsest channel
  EXPECT_EQ(m.tensor(s.output).exp, 5);
  EXPECT_TRUE(s.notes.empty());
}

TEST(PerChannelQuantize, NegativeShiftRaisesTheOutputExpByTheCoarsestChannel) {
  SpreadConv t = spread_conv();
  // x: T 100 -> e0; output T 1e-6 wants e26: the coarsest channel gets shift 0, the output exp
  // exp_in + its exp; the small channels shift about 8.
  const QModel m = quantize(t.g, thresholds({{t.x, 100.0}, {t.y, 1e-6}}), per_channel(true));
  const QStep& s = m.steps[1];
  ASSERT_EQ(s.channel_shift.size(), 8u);
  EXPECT_EQ(s.requant.shift, 0);
  EXPECT_EQ(*std::min_element(s.channel_shift.begin(), s.channel_shift.end()), 0);
  EXPECT_EQ(m.tensor(s.output).exp, s.weight_exp);
  for (size_t c = 4; c < 8; ++c) EXPECT_GE(s.channel_shift[c], 7) << c;
}

TEST(PerChannelQuantize, ChannelsTwoHundredFiftySixTimesSmallerLoseFarLess) {
  SpreadConv t = spread_conv();
  // Outputs calibrated to the small channels (the large ones saturate in both modes): the per-tensor
  // weight scale leaves the small channels' weights with about one bit, per channel they keep seven.
  const Calibration small_range = thresholds({{t.x, 1.0}, {t.y, 2.0 / 256}});
  const QModel per_tensor = quantize(t.g, small_range, per_channel(false));
  const QModel per_chan = quantize(t.g, small_range, per_channel(true));
  EXPECT_TRUE(per_tensor.steps[1].channel_shift.empty());
  EXPECT_FALSE(per_chan.steps[1].channel_shift.empty());
  const double e_tensor = channel_error(t.g, per_tensor, 4, 8), e_chan = channel_error(t.g, per_chan, 4, 8);
  EXPECT_GT(e_tensor, 0.5);   // measured 0.98
  EXPECT_LT(e_chan, 0.03);    // measured 0.014
  EXPECT_LT(e_chan * 10, e_tensor);
  // On the large channels (outputs calibrated to them) it is no worse.
  const Calibration large_range = thresholds({{t.x, 1.0}, {t.y, 2.0}});
  EXPECT_LE(channel_error(t.g, quantize(t.g, large_range, per_channel(true)), 0, 4),
            channel_error(t.g, quantize(t.g, large_range, per_channel(false)), 0, 4) * 1.05);
}

TEST(PerChannelQuantize, EqualShiftsGiveThePerTensorForm) {
  // Every channel with the same max |w|: per channel = per tensor, bit for bit.
  Graph g("eq");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 2, 4, 4});
  const ValueId y = g.add_value("y");
  Tensor w = test::random_f32({3, 2, 3, 3}, 5, -0.4f, 0.4f);
  for (int c = 0; c < 3; ++c) w.data<float>()[c * 18] = 0.45f;
  g.add_node(OpKind::kConv, "conv", {x, g.add_constant("w", w)}, {y}, attrs({{"pads", Ints{1, 1, 1, 1}}}));
  g.add_output(y);
  ir::run_default_passes(g);
  const Calibration cal = thresholds({{x, 1.0}, {y, 3.0}});
  const QModel a = quantize(g, cal, per_channel(true)), b = quantize(g, cal, per_channel(false));
  EXPECT_TRUE(a.steps[1].channel_shift.empty());
  EXPECT_EQ(a.to_text(), b.to_text());
  EXPECT_EQ(a.steps[1].weight->to_vector<int8_t>(), b.steps[1].weight->to_vector<int8_t>());
  EXPECT_EQ(a.steps[1].bias->to_vector<int32_t>(), b.steps[1].bias->to_vector<int32_t>());
}

TEST(PerChannelQuantize, AllZeroChannelTakesTheTensorExp) {
  SpreadConv t = spread_conv(0.0f);  // channels 4..7 all zero (bias too)
  const QModel m = quantize(t.g, thresholds({{t.x, 1.0}, {t.y, 2.0}}), per_channel(true));
  // channels 0..3 differ a little in max |w|, 4..7 take the tensor's (smallest) exp
  const QStep& s = m.steps[1];
  if (!s.channel_shift.empty()) {
    for (size_t c = 4; c < 8; ++c) EXPECT_EQ(s.channel_shift[c], s.requant.shift);
  }
  for (size_t i = 4 * 36; i < s.weight->size(); ++i) EXPECT_EQ(s.weight->data<int8_t>()[i], 0);
}

TEST(PerChannelQuantize, ShiftsAbove31LowerTheChannelExpWithANote) {
  SpreadConv t = spread_conv(1.0f / (1 << 20));
  // x: T 1 -> e6; y: T 1024 -> e-3. Large channels: exp 7 or 8, shift 16 or 17; small channels: exp
  // 27 or 28, shift 36 or 37 -> 31.
  const QModel m = quantize(t.g, thresholds({{t.x, 1.0}, {t.y, 1024.0}}), per_channel(true));
  const QStep& s = m.steps[1];
  ASSERT_EQ(s.channel_shift.size(), 8u);
  for (size_t c = 4; c < 8; ++c) EXPECT_EQ(s.channel_shift[c], 31) << c;
  ASSERT_FALSE(s.notes.empty());
  EXPECT_EQ(s.notes[0], "per-channel: 4 channel(s) with weights too small for shift 31 use a coarser weight scale (shift 31)");
}

TEST(PerChannelQuantize, BiasThatWouldNotFitLowersTheChannelExp) {
  // A tiny-weight channel with a large bias: at its natural exp the bias would exceed 2^30.
  Graph g("bias");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 1, 1, 4});
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::kConv, "conv",
             {x, g.add_constant("w", f32({2, 1, 1, 1}, {1.0f, 1.0f / (1 << 16)})), g.add_constant("b", f32({2}, {0.0f, 100.0f}))},
             {y});
  g.add_output(y);
  ir::run_default_passes(g);
  // x: T 1 -> e6; y: T 127 -> e0; w exps 6 and 22: shifts 12 and 28; bias 100 * 2^28 > 2^31.
  // Channel 1 at exp e: 100.5 * 2^(6 + e) + 128 * (2^(e - 16) + 1) < 2^31 -> e = 18, shift 24.
  const QModel m = quantize(g, thresholds({{x, 1.0}, {y, 127.0}}), per_channel(true));
  const QStep& s = m.steps[1];
  ASSERT_EQ(s.channel_shift.size(), 2u);
  EXPECT_EQ(s.channel_shift[0], 12);
  EXPECT_EQ(s.channel_shift[1], 24);
  EXPECT_EQ(s.bias->data<int32_t>()[1], 100 * (1 << 24) + (1 << 23));
  EXPECT_EQ(s.weight->data<int8_t>()[1], 4);  // 2^-16 * 2^18
  ASSERT_EQ(s.notes.size(), 1u);
  EXPECT_EQ(s.notes[0], "per-channel: 1 channel(s) use a coarser weight scale so that the bias fits the int32 accumulator");
  // and the result is right: 100 + x / 2^16 -> 100
  const Tensor in = f32({1, 1, 1, 4}, {0.5f, -0.5f, 1.0f, 0.0f});
  const Tensor out = run_int8(m, in)[0];
  for (int i = 0; i < 4; ++i) EXPECT_EQ(out.data<float>()[4 + i], 100.0f) << i;
}

TEST(PerChannelQuantize, DenseAndGoldenText) {
  // x (1,2,4,4) -> conv 3x3 (3 out, channel 1 eight times smaller) + relu -> flatten -> gemm (10 out) -> y
  Graph g("pc");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 2, 4, 4});
  const ValueId c = g.add_value("c"), r = g.add_value("r"), f = g.add_value("f"), y = g.add_value("y");
  std::vector<float> w(3 * 2 * 9);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 7) - 3) / (i / 18 == 1 ? 64.0f : 8.0f);
  g.add_node(OpKind::kConv, "conv", {x, g.add_constant("w", f32({3, 2, 3, 3}, w)), g.add_constant("b", f32({3}, {0.5f, 0, -0.5f}))},
             {c}, attrs({{"pads", Ints{1, 1, 1, 1}}}));
  g.add_node(OpKind::kRelu, "relu", {c}, {r});
  g.add_node(OpKind::kFlatten, "flatten", {r}, {f}, attrs({{"axis", int64_t{1}}}));
  std::vector<float> fw(10 * 48);
  for (size_t i = 0; i < fw.size(); ++i) fw[i] = static_cast<float>(static_cast<int>(i % 5) - 2) * std::ldexp(1.0f, -static_cast<int>(i / 48) - 2);
  g.add_node(OpKind::kGemm, "fc", {f, g.add_constant("fw", f32({10, 48}, fw))}, {y}, attrs({{"transB", int64_t{1}}}));
  g.add_output(y);
  ir::run_default_passes(g);
  // x: e6; w: channels 0, 2 at 3/8 -> e8, channel 1 at 3/64 -> e11; r: T 4 -> e4: shifts 10, 13, 10.
  // fw row j: max 2^-(j+1) -> e(j+7); f e4, y T 16 -> e2: shifts 9..18, weight_exp 7.
  const QModel m = quantize(g, thresholds({{x, 1.0}, {c, 4.0}, {r, 4.0}, {f, 4.0}, {y, 16.0}}), per_channel(true));
  EXPECT_EQ(m.to_text(),
            "qmodel \"pc\": %x:f32[1,2,4,4] -> %y.dq:f32[1,10]\n"
            "# note: calibration: max over 1 sample(s)\n"
            "%x.q:i8[1,2,4,4]@e6 = Quantize(%x:f32[1,2,4,4])\n"
            "%r:i8[1,3,4,4]@e4 = Conv2d(%x.q:i8[1,2,4,4]@e6) {w=i8[3,2,3,3]@e8, bias=i32[3], stride=1x1, pad=1,1,1,1, "
            "groups=1, shift=ch{10,13,10}, clip=[0,127]}\n"
            "%f:i8[1,48]@e4 = Reshape(%r:i8[1,3,4,4]@e4)\n"
            "%y:i8[1,10]@e2 = Dense(%f:i8[1,48]@e4) {w=i8[10,48]@e7, bias=i32[10], shift=ch{9..18}, clip=[-128,127]}\n"
            "%y.dq:f32[1,10] = Dequantize(%y:i8[1,10]@e2)\n");
  EXPECT_EQ(m.steps[1].channel_shift, (std::vector<int32_t>{10, 13, 10}));
  // bias: 0.5 * 2^14 + 2^9 (channel 0), 2^12 (channel 1: 0 + rounding term)
  EXPECT_EQ(m.steps[1].bias->to_vector<int32_t>(), (std::vector<int32_t>{8192 + 512, 4096, -8192 + 512}));
  const QStep& fc = m.steps[3];
  ASSERT_EQ(fc.channel_shift.size(), 10u);
  for (int32_t j = 0; j < 10; ++j) EXPECT_EQ(fc.channel_shift[static_cast<size_t>(j)], 9 + j);
  // no less accurate than per tensor
  const QModel pt = quantize(g, thresholds({{x, 1.0}, {c, 4.0}, {r, 4.0}, {f, 4.0}, {y, 16.0}}), per_channel(false));
  for (uint32_t seed = 9; seed < 13; ++seed) {
    const Tensor in = test::random_f32({1, 2, 4, 4}, seed);
    const Tensor want = ir::run_float(g, {in})[0];
    EXPECT_LE(test::relative_l2(run_int8(m, in)[0], want), test::relative_l2(run_int8(pt, in)[0], want) + 1e-9);
  }
}

}  // namespace
}  // namespace vta::quant
