#!/usr/bin/env python3
"""A small, slow, independent numpy interpreter for the ONNX subset the VTA stack compiles.

It is a reference for checking the models made by the scripts in this folder (onnxruntime is not
available on the project's machines): it runs the graph exactly as stored in the .onnx file, so a
comparison with PyTorch checks both the exporter and the weights.

Supported ops: Conv (groups, pads, strides, dilations), Gemm, MatMul, Relu, Clip, Add, Sub, Mul, Div,
MaxPool, AveragePool, GlobalAveragePool, BatchNormalization (inference), Flatten, Reshape, Concat,
Softmax, QuantizeLinear, DequantizeLinear, Identity, Constant, Transpose, Squeeze, Unsqueeze, Shape,
Gather (scalar index on a shape).

Floating-point convolutions and matrix products accumulate in float64 and are rounded back to float32,
so results are at least as accurate as a float32 runtime. QuantizeLinear rounds half to even and
saturates, as the ONNX spec says.

Usage as a library:   outputs = run(model_or_path, {"input": x})   -> dict name -> ndarray
Usage as a CLI:       onnx_ref.py MODEL.onnx INPUT.npy [--expected EXPECTED.npy] [--atol 1e-4]
"""

import argparse
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pad_nchw(x, pads, value):
    """pads in ONNX order (x1_begin, x2_begin, ..., x1_end, x2_end, ...) for the spatial axes."""
    k = len(pads) // 2
    if not any(pads):
        return x
    width = [(0, 0), (0, 0)] + [(int(pads[i]), int(pads[i + k])) for i in range(k)]
    return np.pad(x, width, mode="constant", constant_values=value)


def _windows(x, kernel, strides, dilations):
    """x (N,C,H,W) already padded -> view (N,C,OH,OW,kh,kw)."""
    kh, kw = kernel
    sh, sw = strides
    dh, dw = dilations
    eff_h, eff_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    v = np.lib.stride_tricks.sliding_window_view(x, (eff_h, eff_w), axis=(2, 3))
    v = v[:, :, ::sh, ::sw, ::dh, ::dw]
    return v


def conv2d(x, w, b=None, strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1), group=1):
    n, c, _, _ = x.shape
    m, cg, kh, kw = w.shape
    if c != cg * group or m % group:
        raise ValueError(f"Conv: input channels {c}, weight {w.shape}, group {group} do not agree")
    xp = _pad_nchw(x.astype(np.float64), pads, 0.0)
    v = _windows(xp, (kh, kw), strides, dilations)          # N,C,OH,OW,kh,kw
    oh, ow = v.shape[2], v.shape[3]
    mg = m // group
    out = np.empty((n, m, oh, ow), dtype=np.float64)
    wd = w.astype(np.float64)
    for g in range(group):
        vg = v[:, g * cg:(g + 1) * cg]                        # N,cg,OH,OW,kh,kw
        cols = np.ascontiguousarray(vg.transpose(0, 2, 3, 1, 4, 5)).reshape(n * oh * ow, cg * kh * kw)
        wg = wd[g * mg:(g + 1) * mg].reshape(mg, cg * kh * kw)
        out[:, g * mg:(g + 1) * mg] = (cols @ wg.T).reshape(n, oh, ow, mg).transpose(0, 3, 1, 2)
    if b is not None:
        out += b.astype(np.float64).reshape(1, m, 1, 1)
    return out.astype(x.dtype if x.dtype == np.float32 else np.float32)


def _pool_out(size, k, s, pb, pe, d, ceil_mode):
    eff = (k - 1) * d + 1
    num = size + pb + pe - eff
    o = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (o - 1) * s >= size + pb:   # last window must start inside the input or left pad
        o -= 1
    return o


def pool2d(x, kind, kernel, strides, pads, dilations=(1, 1), ceil_mode=0, count_include_pad=0):
    n, c, h, w = x.shape
    kh, kw = kernel
    oh = _pool_out(h, kh, strides[0], pads[0], pads[2], dilations[0], ceil_mode)
    ow = _pool_out(w, kw, strides[1], pads[1], pads[3], dilations[1], ceil_mode)
    # extra right/bottom padding so that ceil_mode windows fit
    need_h = (oh - 1) * strides[0] + (kh - 1) * dilations[0] + 1 - (h + pads[0] + pads[2])
    need_w = (ow - 1) * strides[1] + (kw - 1) * dilations[1] + 1 - (w + pads[1] + pads[3])
    full = (pads[0], pads[1], pads[2] + max(need_h, 0), pads[3] + max(need_w, 0))
    if kind == "max":
        xp = _pad_nchw(x, full, -np.inf)
        v = _windows(xp, kernel, strides, dilations)[:, :, :oh, :ow]
        return v.max(axis=(4, 5)).astype(x.dtype)
    xp = _pad_nchw(x.astype(np.float64), full, 0.0)
    s = _windows(xp, kernel, strides, dilations)[:, :, :oh, :ow].sum(axis=(4, 5))
    if count_include_pad:
        # padded elements (the declared pads) count, the ceil_mode extension does not
        ones = _pad_nchw(np.ones((1, 1, h + pads[0] + pads[2], w + pads[1] + pads[3])),
                         (0, 0, max(need_h, 0), max(need_w, 0)), 0.0)
    else:
        ones = _pad_nchw(np.ones((1, 1, h, w)), full, 0.0)
    cnt = _windows(ones, kernel, strides, dilations)[:, :, :oh, :ow].sum(axis=(4, 5))
    return (s / cnt).astype(np.float32)


def quantize_linear(x, scale, zero_point=None, axis=1):
    zp = np.zeros((), np.uint8) if zero_point is None else zero_point
    qtype = zp.dtype
    if np.ndim(scale) == 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale = scale.reshape(shape)
        zp = zp.reshape(shape)
    y = np.rint(x.astype(np.float32) / scale.astype(np.float32)) + zp.astype(np.float32)
    info = np.iinfo(qtype)
    return np.clip(y, info.min, info.max).astype(qtype)


def dequantize_linear(x, scale, zero_point=None, axis=1):
    zp = np.zeros((), x.dtype) if zero_point is None else zero_point
    if np.ndim(scale) == 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale = scale.reshape(shape)
        zp = zp.reshape(shape)
    return ((x.astype(np.int32) - zp.astype(np.int32)).astype(np.float32) * scale.astype(np.float32))


def _softmax(x, axis):
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype)


def _node(op, node, ins, opset):
    a = _attrs(node)
    if op == "Conv":
        x, w = ins[0], ins[1]
        b = ins[2] if len(ins) > 2 and ins[2] is not None else None
        k = len(w.shape) - 2
        if k != 2:
            raise NotImplementedError("Conv: only 2-D convolutions")
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise NotImplementedError("Conv: auto_pad")
        return [conv2d(x, w, b, a.get("strides", [1, 1]), a.get("pads", [0] * 4),
                       a.get("dilations", [1, 1]), a.get("group", 1))]
    if op == "Gemm":
        A, B = ins[0].astype(np.float64), ins[1].astype(np.float64)
        if a.get("transA", 0):
            A = A.T
        if a.get("transB", 0):
            B = B.T
        y = a.get("alpha", 1.0) * (A @ B)
        if len(ins) > 2 and ins[2] is not None:
            y = y + a.get("beta", 1.0) * ins[2].astype(np.float64)
        return [y.astype(np.float32)]
    if op == "MatMul":
        return [np.matmul(ins[0].astype(np.float64), ins[1].astype(np.float64)).astype(np.float32)]
    if op == "Relu":
        return [np.maximum(ins[0], 0).astype(ins[0].dtype)]
    if op == "Clip":
        x = ins[0]
        if opset >= 11:
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else None
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else None
        else:
            lo, hi = a.get("min"), a.get("max")
        y = x
        if lo is not None:
            y = np.maximum(y, lo)
        if hi is not None:
            y = np.minimum(y, hi)
        return [y.astype(x.dtype)]
    if op in ("Add", "Sub", "Mul", "Div"):
        f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op]
        return [f(ins[0], ins[1]).astype(np.result_type(ins[0], ins[1]))]
    if op in ("MaxPool", "AveragePool"):
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise NotImplementedError(f"{op}: auto_pad")
        if len(node.output) > 1 and node.output[1]:
            raise NotImplementedError("MaxPool: Indices output")
        k = a["kernel_shape"]
        return [pool2d(ins[0], "max" if op == "MaxPool" else "avg", k, a.get("strides", [1, 1]),
                       a.get("pads", [0] * 4), a.get("dilations", [1, 1]), a.get("ceil_mode", 0),
                       a.get("count_include_pad", 0))]
    if op == "GlobalAveragePool":
        return [ins[0].astype(np.float64).mean(axis=(2, 3), keepdims=True).astype(np.float32)]
    if op == "BatchNormalization":
        if a.get("training_mode", 0):
            raise NotImplementedError("BatchNormalization: training_mode=1")
        x, g, b, m, v = ins[:5]
        eps = a.get("epsilon", 1e-5)
        sh = (1, -1) + (1,) * (x.ndim - 2)
        y = ((x.astype(np.float64) - m.reshape(sh)) / np.sqrt(v.astype(np.float64).reshape(sh) + eps)
             * g.reshape(sh) + b.reshape(sh))
        return [y.astype(np.float32)]
    if op == "Flatten":
        ax = a.get("axis", 1)
        x = ins[0]
        if ax < 0:
            ax += x.ndim
        return [x.reshape(int(np.prod(x.shape[:ax], dtype=np.int64)), -1)]
    if op == "Reshape":
        x, shape = ins[0], [int(s) for s in ins[1]]
        if not a.get("allowzero", 0):
            shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
        return [x.reshape(shape)]
    if op == "Concat":
        return [np.concatenate(ins, axis=a["axis"])]
    if op == "Softmax":
        ax = a.get("axis", -1 if opset >= 13 else 1)
        if opset < 13:
            x = ins[0]
            ax = ax + x.ndim if ax < 0 else ax
            flat = x.reshape(int(np.prod(x.shape[:ax])), -1)
            return [_softmax(flat, 1).reshape(x.shape)]
        return [_softmax(ins[0], ax)]
    if op == "QuantizeLinear":
        return [quantize_linear(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a.get("axis", 1))]
    if op == "DequantizeLinear":
        return [dequantize_linear(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a.get("axis", 1))]
    if op == "Identity":
        return [ins[0]]
    if op == "Constant":
        return [numpy_helper.to_array(a["value"]) if "value" in a else np.array(next(iter(a.values())))]
    if op == "Transpose":
        perm = a.get("perm")
        return [np.transpose(ins[0], perm)]
    if op == "Shape":
        return [np.array(ins[0].shape, dtype=np.int64)]
    if op == "Gather":
        return [np.take(ins[0], ins[1], axis=a.get("axis", 0))]
    if op in ("Squeeze", "Unsqueeze"):
        axes = a.get("axes") if "axes" in a else (list(ins[1]) if len(ins) > 1 else None)
        if op == "Squeeze":
            return [np.squeeze(ins[0], axis=tuple(axes) if axes is not None else None)]
        y = ins[0]
        for ax in sorted(int(v) if v >= 0 else int(v) + y.ndim + len(axes) for v in axes):
            y = np.expand_dims(y, ax)
        return [y]
    raise NotImplementedError(f"op {op} is not supported by onnx_ref")


# the ONNX ops the VTA compiler imports
VTA_OPS = {"Conv", "Gemm", "MatMul", "Relu", "Clip", "Add", "MaxPool", "AveragePool", "GlobalAveragePool",
           "BatchNormalization", "Flatten", "Reshape", "Concat", "Softmax", "QuantizeLinear", "DequantizeLinear"}


def fold_initializer_identities(model):
    """Replaces `Identity(initializer)` nodes by a copy of the initializer under the output name.

    torch.onnx.export shares equal parameters (e.g. a BN's default weight=1 and running_var=1) and
    adds Identity nodes for the duplicates; Identity is not an op the VTA compiler imports."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    keep = []
    for n in g.node:
        if n.op_type == "Identity" and n.input[0] in inits:
            t = onnx.TensorProto()
            t.CopyFrom(inits[n.input[0]])
            t.name = n.output[0]
            g.initializer.append(t)
            inits[t.name] = t
        else:
            keep.append(n)
    del g.node[:]
    g.node.extend(keep)
    return model


def constants_to_initializers(model):
    """Moves the tensors of `Constant` nodes into initializers (Constant is not in VTA_OPS)."""
    g = model.graph
    keep = []
    for n in g.node:
        if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value":
            t = onnx.TensorProto()
            t.CopyFrom(n.attribute[0].t)
            t.name = n.output[0]
            g.initializer.append(t)
        else:
            keep.append(n)
    del g.node[:]
    g.node.extend(keep)
    return model


def run(model, feeds, outputs=None, keep_all=False):
    """Runs an ONNX model (ModelProto or path) on feeds {name: ndarray}; returns {output name: ndarray}."""
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(model)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
    g = model.graph
    env = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for inp in g.input:
        if inp.name in env:
            if inp.name in feeds:
                env[inp.name] = feeds[inp.name]
            continue
        if inp.name not in feeds:
            raise KeyError(f"missing input {inp.name}")
        env[inp.name] = np.asarray(feeds[inp.name])
    for node in g.node:      # ONNX requires topological order
        ins = [env[n] if n else None for n in node.input]
        if node.domain not in ("", "ai.onnx"):
            raise NotImplementedError(f"domain {node.domain}")
        outs = _node(node.op_type, node, ins, opset)
        for name, val in zip(node.output, outs):
            if name:
                env[name] = val
    if keep_all:
        return env
    names = outputs or [o.name for o in g.output]
    return {n: env[n] for n in names}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run an ONNX model with the numpy reference interpreter.")
    ap.add_argument("model")
    ap.add_argument("input", help=".npy for the graph's first input")
    ap.add_argument("--expected", help=".npy to compare the first output with")
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--rtol", type=float, default=1e-4)
    args = ap.parse_args(argv)
    m = onnx.load(args.model)
    first = [i.name for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}][0]
    out = run(m, {first: np.load(args.input)})
    name, y = next(iter(out.items()))
    print(f"{name}: shape {y.shape} dtype {y.dtype} min {y.min():.6g} max {y.max():.6g}")
    if args.expected:
        e = np.load(args.expected)
        if e.shape != y.shape:
            print(f"shape mismatch: expected {e.shape}")
            return 1
        diff = float(np.max(np.abs(e.astype(np.float64) - y.astype(np.float64))))
        ok = np.allclose(y, e, atol=args.atol, rtol=args.rtol)
        print(f"max abs diff {diff:.3g}: {'OK' if ok else 'MISMATCH'}")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
