// An operator compiled onto the core, ready to run on any Session of its config: the Program (buffers
// "input" and "output", constants such as "weight" and "bias") and, as plain data, the host-side layout
// transforms around it (packing into the core's blocked layouts, the few-channel repack, the row/lane
// mappings of dense and add). Being plain data, a CompiledOp can be saved in a package and restored
// without recompiling.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "vta/compiler/conv2d.h"
#include "vta/compiler/eltwise.h"
#include "vta/runtime/program.h"
#include "vta/runtime/session.h"

namespace vta::compiler {

enum class CoreOpKind : uint8_t { kConv2d, kDense, kAdd, kMaxPool };
std::string_view to_string(CoreOpKind k);

struct CoreOpLayout {
  CoreOpKind kind = CoreOpKind::kConv2d;
  std::vector<int64_t> input_shape;   // the logical input (kAdd: each of the two inputs)
  std::vector<int64_t> output_shape;  // the logical output
  // kConv2d, kDense, kAdd: the conv2d the core runs before its repack; kMaxPool: n, c, h, w, oh, ow only.
  Conv2dShape conv;
  Conv2dParams params;
  InputRepack repack;
  // kConv2d with a fused residual add (params.residual): a second input, the shortcut (output_shape),
  // packed by pack_op_residual into program buffer "residual".
  bool has_residual() const { return kind == CoreOpKind::kConv2d && params.residual.has_value(); }

  nlohmann::json to_json() const;
  static CoreOpLayout from_json(const nlohmann::json& j);  // vta::Error on a malformed description
};

struct CompiledOp {
  CoreOpLayout layout;
  runtime::Program program;
  Conv2dTiling tiling;  // kMaxPool: the tile as oc_blocks (1) x out_rows x out_cols
  double compile_seconds = 0;
};

// Host transforms: the logical int8 inputs (one; two for kAdd and for a conv2d with a residual, whose
// second input goes to pack_op_residual) -> the bytes of buffer "input", and the bytes of buffer "output"
// -> the logical int8 output.
std::vector<int8_t> pack_op_input(const CoreOpLayout& layout, const isa::HwConfig& cfg,
                                  std::span<const Tensor* const> inputs);
// A conv2d's residual (int8, the output's shape) -> the bytes of buffer "residual" (the output's packed
// layout).
std::vector<int8_t> pack_op_residual(const CoreOpLayout& layout, const isa::HwConfig& cfg, const Tensor& residual);
Tensor unpack_op_output(const CoreOpLayout& layout, const isa::HwConfig& cfg, const std::vector<int8_t>& bytes);

// Packs, loads, runs once and unpacks (compile_seconds copied into the OpRun).
OpRun run_compiled(runtime::Session& session, const CompiledOp& op, std::span<const Tensor* const> inputs);

// Compilers for each operator (checked like the run-once functions in conv2d.h, dense.h, eltwise.h).
CompiledOp compile_conv2d(const isa::HwConfig& cfg, const std::vector<int64_t>& input_shape, const Tensor& weight,
                          const Tensor* bias, const Conv2dParams& params, const LoweringOptions& options = {});
// `channel_shift`: one shift per output feature replacing requant.shift (see Conv2dParams::channel_shift).
CompiledOp compile_dense(const isa::HwConfig& cfg, const std::vector<int64_t>& x_shape, const Tensor& weight,
                         const Tensor* bias, const Requantize& requant, const LoweringOptions& options = {},
                         const std::vector<int32_t>& channel_shift = {});
// out = clip(((a << shift_a) + (b << shift_b) + bias) >> shift, lo, hi).
struct AddParams {
  int32_t shift_a = 0, shift_b = 0;  // 0..6: the identity weights are 2^shift (int8)
  int32_t bias = 0;                  // e.g. the rounding term 2^(shift - 1)
};
CompiledOp compile_add(const isa::HwConfig& cfg, const std::vector<int64_t>& shape, const Requantize& requant,
                       const AddParams& add = {}, const LoweringOptions& options = {});
CompiledOp compile_max_pool2d(const isa::HwConfig& cfg, const std::vector<int64_t>& x_shape, const MaxPoolParams& p);

}  // namespace vta::compiler
