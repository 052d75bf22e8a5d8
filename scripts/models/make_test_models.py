#!/usr/bin/env python3
"""Generates small ONNX test models with float reference outputs computed by PyTorch.

    /usr/bin/python3 scripts/models/make_test_models.py --out build/models/test [--only NAME ...] [--list]

For each model NAME it writes, into --out:
    NAME.onnx           opset 13, batch 1, static shapes, one input `input`, one output `output`
    NAME.input.npy      the input, float32
    NAME.expected.npy   the output computed by PyTorch (float32, eval mode) -- or, for the QDQ models,
                        by a numpy implementation of QuantizeLinear/DequantizeLinear + a float64 torch conv
and a manifest.json listing every model (ops, shapes, sizes, the check below).

These are an independent reference for the C++ importer and executors. Each model is also checked
here: onnx.checker (full check), and the ONNX graph run by the numpy interpreter onnx_ref.py must
reproduce NAME.expected.npy (max abs diff printed). Everything is seeded: the output is identical
from run to run. BatchNormalization nodes are kept (not folded into Conv), with non-trivial running
statistics, so BN handling is exercised.

Models (channel counts mostly multiples of 16, the accelerator's block size):
"""

import argparse
import json
import os
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import onnx_ref  # noqa: E402

SEED = 1234
OPSET = 13


# --------------------------------------------------------------------------------------------------
# torch models

def bn(c):
    """BatchNorm2d with random, non-trivial affine parameters and running statistics."""
    m = nn.BatchNorm2d(c)
    with torch.no_grad():
        m.weight.uniform_(0.5, 1.5)
        m.bias.uniform_(-0.3, 0.3)
        m.running_mean.normal_(0.0, 0.3)
        m.running_var.uniform_(0.5, 2.0)
    return m


class ConvBnReluMaxPool(nn.Module):
    """Conv 16->32 3x3 pad 1 + BN + ReLU + MaxPool 2x2/2: (1,16,16,16) -> (1,32,8,8)"""
    input_shape = (1, 16, 16, 16)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.bn = bn(32)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        return self.pool(F.relu(self.bn(self.conv(x))))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = bn(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = bn(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), bn(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResBlock(BasicBlock):
    """ResNet BasicBlock 32->32, identity residual Add: (1,32,8,8) -> (1,32,8,8)"""
    input_shape = (1, 32, 8, 8)

    def __init__(self):
        super().__init__(32, 32, 1)


class ResBlockDownsample(BasicBlock):
    """ResNet BasicBlock 16->32 stride 2, downsample 1x1/2 conv + BN on the residual: (1,16,8,8) -> (1,32,4,4)"""
    input_shape = (1, 16, 8, 8)

    def __init__(self):
        super().__init__(16, 32, 2)


class DepthwiseConv(nn.Module):
    """Depthwise 3x3 conv (groups=32) + BN + ReLU, then pointwise 1x1 32->32 with bias: (1,32,8,8) -> (1,32,8,8)"""
    input_shape = (1, 32, 8, 8)

    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False)
        self.bn = bn(32)
        self.pw = nn.Conv2d(32, 32, 1, bias=True)

    def forward(self, x):
        return self.pw(F.relu(self.bn(self.dw(x))))


class DepthwiseConvStride2(nn.Module):
    """Depthwise 3x3/2 conv with bias (groups=16) + ReLU: (1,16,9,9) -> (1,16,5,5)"""
    input_shape = (1, 16, 9, 9)

    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16, bias=True)

    def forward(self, x):
        return F.relu(self.dw(x))


class GroupedConv(nn.Module):
    """Grouped 3x3 conv 32->64, groups=2, pad 1, with bias + ReLU: (1,32,8,8) -> (1,64,8,8)"""
    input_shape = (1, 32, 8, 8)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(32, 64, 3, padding=1, groups=2, bias=True)

    def forward(self, x):
        return F.relu(self.conv(x))


class PoolHead(nn.Module):
    """Conv 16->32 + ReLU, AvgPool 2x2/2, GlobalAveragePool, Flatten, Linear 32->10, Softmax: (1,16,8,8) -> (1,10)"""
    input_shape = (1, 16, 8, 8)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(16, 32, 3, padding=1)
        # count_include_pad=False: with no padding it is the same pool, and torch then exports a
        # plain AveragePool (with the default True it adds a zero Pad node)
        self.avg = nn.AvgPool2d(2, count_include_pad=False)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)
        with torch.no_grad():
            self.fc.weight.mul_(20.0)      # logits of spread ~2, so the softmax is far from uniform

    def forward(self, x):
        y = self.gap(self.avg(F.relu(self.conv(x))))
        return F.softmax(self.fc(torch.flatten(y, 1)), dim=1)


class ConcatBranches(nn.Module):
    """Two conv branches (1x1 16->16 + ReLU, 3x3 16->32 + BN + ReLU) concatenated on channels: (1,16,8,8) -> (1,48,8,8)"""
    input_shape = (1, 16, 8, 8)

    def __init__(self):
        super().__init__()
        self.b1 = nn.Conv2d(16, 16, 1)
        self.b2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.bn = bn(32)

    def forward(self, x):
        return torch.cat([F.relu(self.b1(x)), F.relu(self.bn(self.b2(x)))], dim=1)


class Relu6(nn.Module):
    """Conv 16->32 3x3 + BN + ReLU6 (torch.clamp 0..6, exported as one Clip): (1,16,8,8) -> (1,32,8,8)"""
    input_shape = (1, 16, 8, 8)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.bn = bn(32)
        with torch.no_grad():          # small running variance: BN outputs of std ~3, so that many
            self.bn.running_var.uniform_(0.02, 0.06)   # values reach both ends of the 0..6 clip

    def forward(self, x):
        # F.relu6 would export as Relu + Clip(max) with Constant nodes; clamp gives a single Clip
        return torch.clamp(self.bn(self.conv(x)), 0.0, 6.0)


class MatMulLinear(nn.Module):
    """torch.matmul with constant weights: x(1,64) @ W1(64,32) + b1, ReLU, @ W2(32,16): (1,64) -> (1,16)"""
    input_shape = (1, 64)

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(64, 32) / 8.0)
        self.b1 = nn.Parameter(torch.randn(32) * 0.1)
        self.w2 = nn.Parameter(torch.randn(32, 16) / np.sqrt(32.0))

    def forward(self, x):
        return torch.matmul(F.relu(torch.matmul(x, self.w1) + self.b1), self.w2)


TORCH_MODELS = {
    "conv_bn_relu_maxpool": ConvBnReluMaxPool,
    "resnet_block": ResBlock,
    "resnet_block_downsample": ResBlockDownsample,
    "depthwise_conv": DepthwiseConv,
    "depthwise_conv_stride2": DepthwiseConvStride2,
    "grouped_conv": GroupedConv,
    "pool_head_softmax": PoolHead,
    "concat_branches": ConcatBranches,
    "relu6_clip": Relu6,
    "matmul_linear": MatMulLinear,
}


def export_torch(name, cls, out_dir, seed):
    torch.manual_seed(seed)
    model = cls().eval()
    x = torch.randn(*cls.input_shape)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out_dir, name + ".onnx")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*constant folding.*")
        # PRESERVE with the model in eval mode: inference graph, BatchNormalization kept
        # (TrainingMode.EVAL would fold BN into the preceding Conv in torch 1.13).
        torch.onnx.export(model, x, path, opset_version=OPSET, input_names=["input"],
                          output_names=["output"], do_constant_folding=True,
                          training=torch.onnx.TrainingMode.PRESERVE)
    m = onnx_ref.constants_to_initializers(onnx_ref.fold_initializer_identities(onnx.load(path)))
    m.doc_string = (cls.__doc__ or name).strip()
    onnx.save(m, path)
    return x.numpy(), y.numpy(), cls.__doc__.strip()


# --------------------------------------------------------------------------------------------------
# hand-built QDQ models (onnx.helper) with a numpy reference of the QDQ semantics

def np_quantize(x, scale, axis=None, qmin=-128, qmax=127):
    """QuantizeLinear, zero point 0: saturate(round_half_even(x / scale))."""
    s = np.asarray(scale, np.float32)
    if axis is not None and s.ndim == 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        s = s.reshape(shape)
    return np.clip(np.rint(x.astype(np.float32) / s), qmin, qmax)


def np_dequantize(q, scale, axis=None):
    s = np.asarray(scale, np.float32)
    if axis is not None and s.ndim == 1:
        shape = [1] * q.ndim
        shape[axis] = -1
        s = s.reshape(shape)
    return (q.astype(np.float32) * s).astype(np.float32)


def off_tie(rng, shape, scale, qmax=127):
    """Random values whose value/scale lies within +-0.35 of an integer in [-qmax, qmax]: every
    correct QuantizeLinear (division or multiplication by 1/scale, any rounding of ties) gives the
    same integers, so the expected output does not depend on such implementation details."""
    q = np.clip(np.round(rng.normal(0, qmax / 3.0, size=shape)), -qmax, qmax)
    return ((q + rng.uniform(-0.35, 0.35, size=shape)) * scale).astype(np.float32)


def torch_conv64(x, w, b, stride, pad):
    return F.conv2d(torch.from_numpy(x.astype(np.float64)), torch.from_numpy(w.astype(np.float64)),
                    None if b is None else torch.from_numpy(b.astype(np.float64)), stride, pad).numpy()


def make_qdq_conv(out_dir, seed):
    """QDQ conv, per-tensor int8 symmetric scales: Q/DQ on the input and Q/DQ on a float weight,
    float bias: (1,16,8,8) -> Conv 16->32 3x3 pad 1 -> (1,32,8,8)"""
    rng = np.random.default_rng(seed)
    sx = np.float32(4.0 / 127)                     # symmetric: |x| <= 4
    sw = np.float32(0.25 / 127)                    # symmetric: |w| <= 0.25
    x = off_tie(rng, (1, 16, 8, 8), sx)
    w = off_tie(rng, (32, 16, 3, 3), sw)
    b = (rng.normal(0, 0.1, size=32)).astype(np.float32)
    zp = np.zeros((), np.int8)
    nodes = [
        helper.make_node("QuantizeLinear", ["input", "x_scale", "x_zero_point"], ["x_q"], name="quant_x"),
        helper.make_node("DequantizeLinear", ["x_q", "x_scale", "x_zero_point"], ["x_dq"], name="dequant_x"),
        helper.make_node("QuantizeLinear", ["w", "w_scale", "w_zero_point"], ["w_q"], name="quant_w"),
        helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zero_point"], ["w_dq"], name="dequant_w"),
        helper.make_node("Conv", ["x_dq", "w_dq", "b"], ["output"], name="conv", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[1, 1]),
    ]
    inits = [numpy_helper.from_array(np.array(sx, np.float32), "x_scale"),
             numpy_helper.from_array(zp, "x_zero_point"),
             numpy_helper.from_array(w, "w"),
             numpy_helper.from_array(np.array(sw, np.float32), "w_scale"),
             numpy_helper.from_array(zp.copy(), "w_zero_point"),
             numpy_helper.from_array(b, "b")]
    graph = helper.make_graph(nodes, "qdq_conv",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 16, 8, 8])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 32, 8, 8])],
                              initializer=inits)
    # numpy QDQ semantics + float64 conv
    xdq = np_dequantize(np_quantize(x, sx), sx)
    wdq = np_dequantize(np_quantize(w, sw), sw)
    y = torch_conv64(xdq, wdq, b, 1, 1).astype(np.float32)
    return graph, x, y


def make_qdq_conv_per_channel(out_dir, seed):
    """QDQ conv in the onnxruntime-quantizer layout: Q/DQ on the input, int8 weight initializer with
    per-output-channel scales (DequantizeLinear axis 0), int32 bias with scale sx*sw[c], ReLU, and
    Q/DQ on the output: (1,16,8,8) -> Conv 16->32 3x3/2 pad 1 -> (1,32,4,4)"""
    # the output QuantizeLinear must not see a value within 2e-4 of a quantisation step of a rounding
    # tie (a float32 runtime reproduces the conv to ~1e-6): try derived seeds until none does
    for attempt in range(100):
        r = _qdq_conv_per_channel(seed + 7919 * attempt)
        if r is not None:
            return r
    raise RuntimeError("qdq_conv_per_channel: no seed without an output near a rounding tie")


def _qdq_conv_per_channel(seed):
    rng = np.random.default_rng(seed)
    sx = np.float32(3.0 / 127)
    sw = (rng.uniform(0.1, 0.4, size=32) / 127).astype(np.float32)
    sy = np.float32(8.0 / 127)
    x = off_tie(rng, (1, 16, 8, 8), sx)
    wq = np.clip(np.round(rng.normal(0, 40, size=(32, 16, 3, 3))), -127, 127).astype(np.int8)
    bias_scale = (sx * sw).astype(np.float32)
    bq = np.round(rng.normal(0, 0.2, size=32) / bias_scale).astype(np.int32)
    nodes = [
        helper.make_node("QuantizeLinear", ["input", "x_scale", "x_zero_point"], ["x_q"], name="quant_x"),
        helper.make_node("DequantizeLinear", ["x_q", "x_scale", "x_zero_point"], ["x_dq"], name="dequant_x"),
        helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zero_point"], ["w_dq"], name="dequant_w",
                         axis=0),
        helper.make_node("DequantizeLinear", ["b_q", "b_scale", "b_zero_point"], ["b_dq"], name="dequant_b",
                         axis=0),
        helper.make_node("Conv", ["x_dq", "w_dq", "b_dq"], ["conv_out"], name="conv", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["conv_out"], ["relu_out"], name="relu"),
        helper.make_node("QuantizeLinear", ["relu_out", "y_scale", "y_zero_point"], ["y_q"], name="quant_y"),
        helper.make_node("DequantizeLinear", ["y_q", "y_scale", "y_zero_point"], ["output"], name="dequant_y"),
    ]
    inits = [numpy_helper.from_array(np.array(sx, np.float32), "x_scale"),
             numpy_helper.from_array(np.zeros((), np.int8), "x_zero_point"),
             numpy_helper.from_array(wq, "w_q"),
             numpy_helper.from_array(sw, "w_scale"),
             numpy_helper.from_array(np.zeros(32, np.int8), "w_zero_point"),
             numpy_helper.from_array(bq, "b_q"),
             numpy_helper.from_array(bias_scale, "b_scale"),
             numpy_helper.from_array(np.zeros(32, np.int32), "b_zero_point"),
             numpy_helper.from_array(np.array(sy, np.float32), "y_scale"),
             numpy_helper.from_array(np.zeros((), np.int8), "y_zero_point")]
    graph = helper.make_graph(nodes, "qdq_conv_per_channel",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 16, 8, 8])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 32, 4, 4])],
                              initializer=inits)
    xdq = np_dequantize(np_quantize(x, sx), sx)
    wdq = np_dequantize(wq, sw, axis=0)
    bdq = np_dequantize(bq, bias_scale, axis=0)
    conv = torch_conv64(xdq, wdq, bdq, 2, 1).astype(np.float32)
    relu = np.maximum(conv, 0)
    # the output Q/DQ: check no value lies near a rounding tie (the float conv result is only
    # reproduced to ~1e-6 by a float32 runtime)
    r = relu.astype(np.float64) / np.float64(sy)
    if np.abs(r - np.floor(r) - 0.5).min() < 2e-4:
        return None
    y = np_dequantize(np_quantize(relu, sy), sy)
    return graph, x, y


QDQ_MODELS = {
    "qdq_conv": make_qdq_conv,
    "qdq_conv_per_channel": make_qdq_conv_per_channel,
}

ALL = list(TORCH_MODELS) + list(QDQ_MODELS)


def describe(name):
    if name in TORCH_MODELS:
        return TORCH_MODELS[name].__doc__.strip()
    return " ".join(QDQ_MODELS[name].__doc__.split())


__doc__ += "".join(f"    {n:24s} {' '.join(describe(n).split())}\n" for n in ALL)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "build", "models", "test"),
                    help="output folder (default: build/models/test)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--only", nargs="+", choices=ALL, help="generate only these models")
    ap.add_argument("--list", action="store_true", help="list the models and exit")
    ap.add_argument("--atol", type=float, default=1e-4, help="tolerance of the onnx_ref check")
    args = ap.parse_args(argv)
    if args.list:
        for n in ALL:
            print(f"{n:24s} {' '.join(describe(n).split())}")
        return 0
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    manifest, ok = [], True
    for i, name in enumerate(args.only or ALL):
        seed = args.seed + 17 * ALL.index(name)
        path = os.path.join(args.out, name + ".onnx")
        if name in TORCH_MODELS:
            x, y, doc = export_torch(name, TORCH_MODELS[name], args.out, seed)
            reference = "pytorch float32, eval mode"
        else:
            graph, x, y = QDQ_MODELS[name](args.out, seed)
            doc = describe(name)
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                      producer_name="vta-scripts/make_test_models.py", doc_string=doc)
            model.ir_version = 7
            onnx.save(model, path)
            reference = "numpy QuantizeLinear/DequantizeLinear + torch float64 conv"
        x = x.astype(np.float32)
        y = y.astype(np.float32)
        np.save(os.path.join(args.out, name + ".input.npy"), x)
        np.save(os.path.join(args.out, name + ".expected.npy"), y)

        m = onnx.load(path)
        onnx.checker.check_model(m, full_check=True)
        got = onnx_ref.run(m, {"input": x})
        got = next(iter(got.values()))
        diff = float(np.abs(got.astype(np.float64) - y).max()) if got.shape == y.shape else float("inf")
        good = got.shape == y.shape and np.allclose(got, y, atol=args.atol, rtol=1e-4)
        ok &= good
        ops = [n.op_type for n in m.graph.node]
        unsupported = sorted(set(ops) - onnx_ref.VTA_OPS)
        if unsupported:
            print(f"  error: {name} has ops outside the accelerator's list: {unsupported}")
            ok = False
        size = os.path.getsize(path)
        print(f"{name:24s} {str(x.shape):16s} -> {str(y.shape):14s} {size / 1024:6.1f} KB  "
              f"onnx_ref diff {diff:.2g} {'OK' if good else 'MISMATCH'}  ops {sorted(set(ops))}")
        if size > 200 * 1024:
            print(f"  warning: {name}.onnx is larger than 200 KB")
        manifest.append({"name": name, "description": " ".join(doc.split()), "ops": ops,
                         "input_shape": list(x.shape), "output_shape": list(y.shape),
                         "onnx_bytes": size, "reference": reference,
                         "onnx_ref_max_abs_diff": diff, "seed": seed})
    if not args.only:
        with open(os.path.join(args.out, "manifest.json"), "w") as f:
            json.dump({"opset": OPSET, "torch_version": torch.__version__, "onnx_version": onnx.__version__,
                       "models": manifest}, f, indent=2)
            f.write("\n")
    print(f"{len(manifest)} models in {args.out}: {'all OK' if ok else 'MISMATCHES'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
