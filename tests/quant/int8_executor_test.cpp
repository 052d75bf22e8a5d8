// The int8 executor against hand-computed cases of every step's semantics (qmodel.h), and against
// vta::reference for random convs (groups split into independent groups == 1 convs) and dense layers.
#include <gtest/gtest.h>

#include <climits>

#include "quant_test_util.h"
#include "vta/quant/int8_executor.h"
#include "vta/reference/reference.h"

namespace vta::quant {
namespace {

using test::f32;
using test::i32;
using test::i8;
using test::ints;
using test::ModelBuilder;

// One step on one input; returns the output.
Tensor run1(ModelBuilder& b, const Tensor& in) {
  return execute_step(b.m, b.m.steps.back(), {&in});
}

TEST(Int8Executor, QuantizeRoundsHalfToEvenAndSaturates) {
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kFloat32, {9});
  const TensorId q = b.tensor("x.q", DType::kInt8, {9}, 1);
  b.step(QOp::kQuantize, {x}, q);
  // x * 2 = 0.5, 1.5, -0.5, -1.5, 2.5, 200, -200, 0, -0.74
  const Tensor y = run1(b, f32({9}, {0.25f, 0.75f, -0.25f, -0.75f, 1.25f, 100.0f, -100.0f, 0.0f, -0.37f}));
  EXPECT_EQ(ints(y), (std::vector<int>{0, 2, 0, -2, 2, 127, -128, 0, -1}));
}

TEST(Int8Executor, QuantizeWithNegativeExp) {
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kFloat32, {4});
  b.step(QOp::kQuantize, {x}, b.tensor("q", DType::kInt8, {4}, -2));  // units of 4
  EXPECT_EQ(ints(run1(b, f32({4}, {6.0f, 10.0f, -14.0f, 1000.0f}))), (std::vector<int>{2, 2, -4, 127}));
}

TEST(Int8Executor, Dequantize) {
  ModelBuilder b;
  const TensorId q = b.tensor("q", DType::kInt8, {3}, 2);
  b.step(QOp::kDequantize, {q}, b.tensor("x", DType::kFloat32, {3}));
  const Tensor y = run1(b, i8({3}, {-128, 1, 127}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{-32.0f, 0.25f, 31.75f}));
  b.m.tensors[static_cast<size_t>(q)].exp = -1;
  EXPECT_EQ(run1(b, i8({3}, {-128, 1, 127})).to_vector<float>(), (std::vector<float>{-256.0f, 2.0f, 254.0f}));
}

// A 1x1 conv with a single weight w: out = clamp((q * w + bias) >> shift).
ModelBuilder conv1x1(int8_t w, int32_t bias, int32_t shift, int64_t n_pixels) {
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {1, 1, 1, n_pixels}, 0);
  QStep& s = b.step(QOp::kConv2d, {x}, b.tensor("y", DType::kInt8, {1, 1, 1, n_pixels}, 0));
  s.weight = i8({1, 1, 1, 1}, {w});
  s.bias = i32({1}, {bias});
  s.requant.shift = shift;
  return b;
}

TEST(Int8Executor, ConvRoundingTermRoundsTiesUp) {
  // bias 1 = 2^(shift-1): (q + 1) >> 1 = round(q / 2) with ties towards +inf.
  ModelBuilder b = conv1x1(1, 1, 1, 6);
  EXPECT_EQ(ints(run1(b, i8({1, 1, 1, 6}, {3, 5, -3, -5, 4, -4}))), (std::vector<int>{2, 3, -1, -2, 2, -2}));
}

TEST(Int8Executor, ConvSaturatesAndClips) {
  ModelBuilder b = conv1x1(127, 0, 0, 4);
  const Tensor x = i8({1, 1, 1, 4}, {127, -128, 1, -1});
  EXPECT_EQ(ints(run1(b, x)), (std::vector<int>{127, -128, 127, -127}));
  b.m.steps[0].requant.relu = true;
  EXPECT_EQ(ints(run1(b, x)), (std::vector<int>{127, 0, 127, 0}));
  b.m.steps[0].requant.relu = false;
  b.m.steps[0].requant.clip_lo = -10;
  b.m.steps[0].requant.clip_hi = 20;
  EXPECT_EQ(ints(run1(b, x)), (std::vector<int>{20, -10, 20, -10}));
  // relu raises a negative lo to 0 but keeps a positive one
  b.m.steps[0].requant.relu = true;
  b.m.steps[0].requant.clip_lo = 5;
  EXPECT_EQ(ints(run1(b, x)), (std::vector<int>{20, 5, 20, 5}));
}

TEST(Int8Executor, ConvAccumulatesWrappingInt32) {
  // 1 * 1 + INT32_MAX wraps to INT32_MIN; >> 31 gives -1 (an int64 sum would give +1).
  ModelBuilder b = conv1x1(1, INT32_MAX, 31, 1);
  EXPECT_EQ(ints(run1(b, i8({1, 1, 1, 1}, {1}))), (std::vector<int>{-1}));
  b.m.steps[0].bias = i32({1}, {INT32_MIN});
  EXPECT_EQ(ints(run1(b, i8({1, 1, 1, 1}, {-1}))), (std::vector<int>{0}));  // wraps to INT32_MAX: >> 31 = 0
}

TEST(Int8Executor, ConvHandComputed3x3WithPaddingAndStride) {
  // 3x3 input 1..9, 3x3 weight of ones, pad 1, stride 2: outputs at (0,0), (0,2), (2,0), (2,2) are the sums
  // of the 2x2 corners: 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9.
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {1, 1, 3, 3});
  QStep& s = b.step(QOp::kConv2d, {x}, b.tensor("y", DType::kInt8, {1, 1, 2, 2}));
  s.weight = i8({1, 1, 3, 3}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  s.conv = ConvAttrs{2, 2, 1, 1, 1, 1, 1};
  EXPECT_EQ(ints(run1(b, i8({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}))), (std::vector<int>{12, 16, 24, 28}));
}

void expect_conv_matches_reference(int64_t c, int64_t o, int64_t groups, int64_t k, int64_t stride, int64_t pad, uint32_t seed) {
  SCOPED_TRACE(testing::Message() << "c=" << c << " o=" << o << " groups=" << groups << " k=" << k);
  const int64_t h = 7, w = 6;
  const int64_t oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {2, c, h, w});
  QStep& s = b.step(QOp::kConv2d, {x}, b.tensor("y", DType::kInt8, {2, o, oh, ow}));
  const int64_t cg = c / groups, og = o / groups;
  s.weight = test::random_i8({o, cg, k, k}, seed);
  std::vector<int32_t> bias;
  for (int64_t i = 0; i < o; ++i) bias.push_back(static_cast<int32_t>(i * 997 - 3000));
  s.bias = i32({o}, bias);
  const auto p = static_cast<uint32_t>(pad), st = static_cast<uint32_t>(stride);
  s.conv = ConvAttrs{st, st, p, p, p, p, static_cast<uint32_t>(groups)};
  s.requant.shift = 7;
  s.requant.relu = seed % 2 == 0;
  const Tensor in = test::random_i8({2, c, h, w}, seed + 1);
  const Tensor got = execute_step(b.m, s, {&in});

  // Reference: one groups == 1 conv per group on the group's channels.
  reference::RequantParams rq{7, s.requant.relu, -128, 127};
  for (int64_t g = 0; g < groups; ++g) {
    std::vector<int8_t> xin, wg;
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t ci = g * cg; ci < (g + 1) * cg; ++ci)
        for (int64_t i = 0; i < h * w; ++i) xin.push_back(in.data<int8_t>()[static_cast<size_t>((n * c + ci) * h * w + i)]);
    const size_t wsize = static_cast<size_t>(cg * k * k);
    wg.assign(s.weight->data<int8_t>() + static_cast<size_t>(g * og) * wsize, s.weight->data<int8_t>() + static_cast<size_t>((g + 1) * og) * wsize);
    const std::vector<int32_t> bg(bias.begin() + g * og, bias.begin() + (g + 1) * og);
    reference::ConvGeometry geo{2, static_cast<int>(cg), static_cast<int>(h), static_cast<int>(w), static_cast<int>(og),
                                static_cast<int>(k), static_cast<int>(k), static_cast<int>(stride), static_cast<int>(stride),
                                static_cast<int>(pad), static_cast<int>(pad), static_cast<int>(pad), static_cast<int>(pad)};
    const std::vector<int8_t> want = reference::conv2d(xin, wg, bg, geo, rq);
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t oi = 0; oi < og; ++oi)
        for (int64_t i = 0; i < oh * ow; ++i) {
          const auto gi = static_cast<size_t>((n * o + g * og + oi) * oh * ow + i);
          const auto ri = static_cast<size_t>((n * og + oi) * oh * ow + i);
          ASSERT_EQ(got.data<int8_t>()[gi], want[ri]) << "group " << g << " element " << gi;
        }
  }
}

TEST(Int8Executor, ConvMatchesReferenceIncludingGroupedAndDepthwise) {
  expect_conv_matches_reference(3, 5, 1, 3, 1, 1, 1);
  expect_conv_matches_reference(4, 6, 2, 3, 2, 1, 2);   // grouped
  expect_conv_matches_reference(8, 8, 8, 3, 1, 1, 3);   // depthwise
  expect_conv_matches_reference(4, 8, 4, 3, 2, 0, 4);   // depthwise with multiplier 2
  expect_conv_matches_reference(6, 4, 1, 1, 1, 0, 5);
}

TEST(Int8Executor, DenseMatchesReference) {
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {3, 40});
  QStep& s = b.step(QOp::kDense, {x}, b.tensor("y", DType::kInt8, {3, 7}));
  s.weight = test::random_i8({7, 40}, 11);
  std::vector<int32_t> bias{-500, 0, 64, 1000, -64, 3, 100000};
  s.bias = i32({7}, bias);
  s.requant.shift = 8;
  s.requant.clip_lo = -100;
  s.requant.clip_hi = 90;
  const Tensor in = test::random_i8({3, 40}, 12);
  const auto want = reference::dense(in.to_vector<int8_t>(), s.weight->to_vector<int8_t>(), bias, 3, 40, 7,
                                     reference::RequantParams{8, false, -100, 90});
  EXPECT_EQ(execute_step(b.m, s, {&in}).to_vector<int8_t>(), want);
}

TEST(Int8Executor, AddAlignsShiftsAndRounds) {
  ModelBuilder b;
  const TensorId a = b.tensor("a", DType::kInt8, {5}, 4), c = b.tensor("b", DType::kInt8, {5}, 3);
  QStep& s = b.step(QOp::kAdd, {a, c}, b.tensor("y", DType::kInt8, {5}, 3));
  s.shift_a = 0;
  s.shift_b = 1;
  s.requant.shift = 1;  // round = 1
  const Tensor ta = i8({5}, {10, -10, 127, 1, -1}), tb = i8({5}, {3, 3, 127, 0, 0});
  // (a + 2b + 1) >> 1: (10+6+1)>>1=8, (-10+6+1)>>1=-2, (127+254+1)>>1=191->127, (1+1)>>1=1, (-1+1)>>1=0
  EXPECT_EQ(ints(execute_step(b.m, s, {&ta, &tb})), (std::vector<int>{8, -2, 127, 1, 0}));
  s.requant.shift = 0;
  s.requant.relu = true;
  // shift 0: no rounding term; a + 2b clamped, relu
  EXPECT_EQ(ints(execute_step(b.m, s, {&ta, &tb})), (std::vector<int>{16, 0, 127, 1, 0}));
}

TEST(Int8Executor, MaxPoolPaddingNeverWins) {
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {1, 1, 2, 2});
  QStep& s = b.step(QOp::kMaxPool, {x}, b.tensor("y", DType::kInt8, {1, 1, 3, 3}));
  s.pool = PoolAttrs{2, 2, 1, 1, 1, 1, 1, 1, false};
  EXPECT_EQ(ints(run1(b, i8({1, 1, 2, 2}, {-5, -7, -9, -100}))), (std::vector<int>{-5, -5, -7, -5, -5, -7, -9, -9, -100}));
}

TEST(Int8Executor, AvgPoolRoundsHalfAwayFromZero) {
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {1, 1, 1, 6});
  QStep& s = b.step(QOp::kAvgPool, {x}, b.tensor("y", DType::kInt8, {1, 1, 1, 3}));
  s.pool = PoolAttrs{1, 2, 1, 2, 0, 0, 0, 0, false};
  // 3/2 = 1.5 -> 2, -3/2 -> -2, 1/2 -> 1
  EXPECT_EQ(ints(run1(b, i8({1, 1, 1, 6}, {1, 2, -1, -2, 0, 1}))), (std::vector<int>{2, -2, 1}));
}

TEST(Int8Executor, AvgPoolCountIncludePad) {
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {1, 1, 1, 2});
  QStep& s = b.step(QOp::kAvgPool, {x}, b.tensor("y", DType::kInt8, {1, 1, 1, 2}));
  s.pool = PoolAttrs{1, 3, 1, 1, 0, 1, 0, 1, false};
  const Tensor in = i8({1, 1, 1, 2}, {3, 4});
  EXPECT_EQ(ints(run1(b, in)), (std::vector<int>{4, 4}));  // 7/2 = 3.5 -> 4 over the 2 real pixels
  b.m.steps[0].pool.count_include_pad = true;
  EXPECT_EQ(ints(run1(b, in)), (std::vector<int>{2, 2}));  // 7/3 = 2.33 -> 2
}

TEST(Int8Executor, GlobalAvgPool) {
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {1, 3, 2, 2});
  b.step(QOp::kGlobalAvgPool, {x}, b.tensor("y", DType::kInt8, {1, 3, 1, 1}));
  // 11/4 = 2.75 -> 3, -10/4 = -2.5 -> -3, 508/4 = 127
  EXPECT_EQ(ints(run1(b, i8({1, 3, 2, 2}, {1, 2, 3, 5, -1, -2, -3, -4, 127, 127, 127, 127}))), (std::vector<int>{3, -3, 127}));
}

TEST(Int8Executor, ConcatRequantizesEachInput) {
  ModelBuilder b;
  const TensorId a = b.tensor("a", DType::kInt8, {1, 4}, 3), c = b.tensor("b", DType::kInt8, {1, 2}, 1);
  QStep& s = b.step(QOp::kConcat, {a, c}, b.tensor("y", DType::kInt8, {1, 6}, 1));
  s.axis = 1;
  const Tensor ta = i8({1, 4}, {6, -6, 127, -128}), tb = i8({1, 2}, {-128, 5});
  // a: d = 2, (q + 2) >> 2: 2, -1, 32, -32; b unchanged
  EXPECT_EQ(ints(execute_step(b.m, s, {&ta, &tb})), (std::vector<int>{2, -1, 32, -32, -128, 5}));
  // output exp 2: b is shifted left by 1 and saturates; a: d = 1
  b.m.tensors[static_cast<size_t>(s.output)].exp = 2;
  EXPECT_EQ(ints(execute_step(b.m, s, {&ta, &tb})), (std::vector<int>{3, -3, 64, -64, -128, 10}));
}

TEST(Int8Executor, ConcatAlongChannelsInterleavesPerBatch) {
  ModelBuilder b;
  const TensorId a = b.tensor("a", DType::kInt8, {2, 1, 2}, 0), c = b.tensor("b", DType::kInt8, {2, 2, 2}, 0);
  QStep& s = b.step(QOp::kConcat, {a, c}, b.tensor("y", DType::kInt8, {2, 3, 2}, 0));
  s.axis = 1;
  const Tensor ta = i8({2, 1, 2}, {1, 2, 3, 4}), tb = i8({2, 2, 2}, {10, 11, 12, 13, 14, 15, 16, 17});
  EXPECT_EQ(ints(execute_step(b.m, s, {&ta, &tb})), (std::vector<int>{1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17}));
}

TEST(Int8Executor, ReluClipReshape) {
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {2, 2});
  b.step(QOp::kRelu, {x}, b.tensor("r", DType::kInt8, {2, 2}));
  const Tensor in = i8({2, 2}, {-3, 0, 5, -128});
  EXPECT_EQ(ints(run1(b, in)), (std::vector<int>{0, 0, 5, 0}));
  QStep& c = b.step(QOp::kClip, {x}, b.tensor("c", DType::kInt8, {2, 2}));
  c.clip_lo = -2;
  c.clip_hi = 3;
  EXPECT_EQ(ints(run1(b, in)), (std::vector<int>{-2, 0, 3, -2}));
  b.step(QOp::kReshape, {x}, b.tensor("f", DType::kInt8, {4}));
  const Tensor r = run1(b, in);
  EXPECT_EQ(r.shape(), (std::vector<int64_t>{4}));
  EXPECT_EQ(ints(r), ints(in));
}

TEST(Int8Executor, SoftmaxOfDequantizedValues) {
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {2, 2}, 1);
  QStep& s = b.step(QOp::kSoftmax, {x}, b.tensor("p", DType::kFloat32, {2, 2}));
  s.axis = 1;
  const Tensor p = run1(b, i8({2, 2}, {0, 2, -4, -4}));  // real {0, 1}, {-2, -2}
  const float e = static_cast<float>(std::exp(1.0));
  EXPECT_FLOAT_EQ(p.data<float>()[0], 1 / (1 + e));
  EXPECT_FLOAT_EQ(p.data<float>()[1], e / (1 + e));
  EXPECT_FLOAT_EQ(p.data<float>()[2], 0.5f);
  EXPECT_FLOAT_EQ(p.data<float>()[3], 0.5f);
}

TEST(Int8Executor, RunsAModelAndReportsEveryTensor) {
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kFloat32, {1, 4});
  const TensorId q = b.tensor("x.q", DType::kInt8, {1, 4}, 2);
  const TensorId d = b.tensor("d", DType::kInt8, {1, 2}, 1);
  const TensorId y = b.tensor("d.dq", DType::kFloat32, {1, 2});
  b.m.input = x;
  b.m.output = y;
  b.step(QOp::kQuantize, {x}, q);
  QStep& dense = b.step(QOp::kDense, {q}, d);
  dense.weight = i8({2, 4}, {1, 1, 1, 1, 2, 0, 0, -2});  // exp 0
  dense.bias = i32({2}, {1, 1});                        // shift 1: round term only
  dense.requant.shift = 1;
  b.step(QOp::kDequantize, {d}, y);
  const Tensor in = f32({1, 4}, {0.25f, 0.5f, 0.75f, 1.0f});  // q = 1, 2, 3, 4
  // sums 10 and 2 - 8 = -6 in units of 2^-2; >> 1 -> 5 and -3 (units of 2^-1) -> 2.5, -1.5
  std::vector<TensorId> seen;
  const auto out = run_int8(b.m, in, [&](TensorId t, const Tensor&) { seen.push_back(t); });
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to_vector<float>(), (std::vector<float>{2.5f, -1.5f}));
  EXPECT_EQ(seen, (std::vector<TensorId>{q, d, y}));
  const auto all = run_int8_all(b.m, in);
  EXPECT_EQ(ints(all[static_cast<size_t>(q)]), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(test::error_of([&] { run_int8(b.m, f32({1, 3}, {0, 0, 0})); }),
            "qmodel '': input 'x' expects float32[1,4], got float32[1,3]");
}

TEST(Int8Executor, ChecksInputs) {
  ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {2, 2});
  b.step(QOp::kRelu, {x}, b.tensor("r", DType::kInt8, {2, 2}));
  const Tensor wrong = i8({4}, {0, 0, 0, 0});
  EXPECT_EQ(test::error_of([&] { run1(b, wrong); }), "step 'Relu0' (Relu): input 0 ('x') expects int8[2,2], got int8[4]");
}

}  // namespace
}  // namespace vta::quant
