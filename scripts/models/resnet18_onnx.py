#!/usr/bin/env python3
"""Writes an ImageNet ResNet-18 (torchvision architecture) as ONNX, with fixed-seed synthetic weights.

    /usr/bin/python3 scripts/models/resnet18_onnx.py [--out build/models/resnet18.onnx] [--seed 0]
                                                     [--input-out x.npy]

Only numpy and onnx (onnx.helper) are used: no torch, no download. The graph is the torchvision
ResNet-18 of "Deep Residual Learning" (He et al.), opset 13:

    input (1,3,224,224) float32, ImageNet-normalised
    conv1 7x7/2 pad 3, 3->64 (no bias) + BatchNormalization + Relu       -> 64x112x112
    MaxPool 3x3/2 pad 1                                                   -> 64x56x56
    layer1..layer4: two BasicBlocks each, 64/128/256/512 channels; the first block of layers 2-4
      has stride 2 and a downsample branch (1x1/2 conv + BatchNormalization);
      BasicBlock: conv3x3 + BN + Relu, conv3x3 + BN, Add(identity), Relu
    GlobalAveragePool, Flatten, Gemm 512->1000 (transB=1)                 -> logits (1,1000)

Initializer names follow torchvision's state_dict keys (conv1.weight, bn1.running_mean,
layer2.0.downsample.0.weight, fc.bias, ...), so a real checkpoint could be dropped in by name.

The weights are not trained; they are chosen so that the network behaves statistically like a
trained one:
  * conv weights He-normal (std sqrt(2/fan_in)); BN gamma = 1 + 0.1 N(0,1), beta = 0.05 N(0,1);
  * BN running mean/var are *calibrated*: a few smooth synthetic images are propagated through a
    numpy forward pass, and each BN's running statistics are set to the per-channel mean/variance of
    its input, so every BN normalises its input as after training (activations stay O(1) through all
    layers);
  * the classifier is centred and scaled on the calibration features (bias = -W mean), so that
    logits vary with the input (spread of a few units) instead of being dominated by a constant.
Top-5 predictions therefore differ from input to input, but they mean nothing about ImageNet classes.

--input-out writes a deterministic sample input: a smooth synthetic RGB image in [0,1] (random
Gaussian blobs and low-frequency waves, seeded by --input-seed), normalised with the ImageNet
mean/std, float32 (1,3,224,224).
"""

import argparse
import os
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import onnx_ref  # noqa: E402  (numpy conv/pool kernels, used for the calibration forward pass)

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
BN_EPS = 1e-5
STAGES = [(64, 1), (128, 2), (256, 2), (512, 2)]   # (channels, stride of the first block)
CALIB_SEED_OFFSET = 1000


# --------------------------------------------------------------------------------------------------
# synthetic images

def synthetic_image(seed, size=224):
    """A smooth RGB image in [0,1], float32 (3,size,size): Gaussian blobs + low-frequency waves."""
    rng = np.random.default_rng(seed)
    yy, xx = np.meshgrid(np.linspace(0, 1, size), np.linspace(0, 1, size), indexing="ij")
    img = np.zeros((3, size, size))
    img += rng.uniform(0.2, 0.6, size=(3, 1, 1))                       # background colour
    for _ in range(rng.integers(3, 7)):                                 # coloured blobs
        cy, cx = rng.uniform(0, 1, 2)
        s = rng.uniform(0.05, 0.25)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
        img += rng.uniform(-0.6, 0.6, size=(3, 1, 1)) * blob
    for _ in range(2):                                                  # gentle waves
        fy, fx = rng.uniform(0.5, 4, 2)
        ph = rng.uniform(0, 2 * np.pi)
        img += rng.uniform(-0.15, 0.15, size=(3, 1, 1)) * np.sin(2 * np.pi * (fy * yy + fx * xx) + ph)
    return np.clip(img, 0, 1).astype(np.float32)


def normalize(img):
    return ((img - IMAGENET_MEAN.reshape(3, 1, 1)) / IMAGENET_STD.reshape(3, 1, 1)).astype(np.float32)


def sample_input(input_seed=0):
    """The deterministic sample input: float32 (1,3,224,224), ImageNet-normalised."""
    return normalize(synthetic_image(input_seed))[None]


# --------------------------------------------------------------------------------------------------
# weights

def block_names():
    """Yields (prefix, cin, cout, stride, has_downsample) for the eight BasicBlocks."""
    cin = 64
    for li, (cout, stride) in enumerate(STAGES, start=1):
        for bi in range(2):
            s = stride if bi == 0 else 1
            yield f"layer{li}.{bi}", cin, cout, s, (s != 1 or cin != cout)
            cin = cout


def init_weights(seed):
    """He-normal convs and BN affine parameters; BN running stats are left for calibrate()."""
    rng = np.random.default_rng(seed)
    w = {}

    def conv(name, cout, cin, k):
        w[name + ".weight"] = (rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))
                               ).astype(np.float32)

    def bn(name, c):
        w[name + ".weight"] = (1.0 + 0.1 * rng.standard_normal(c)).astype(np.float32)
        w[name + ".bias"] = (0.05 * rng.standard_normal(c)).astype(np.float32)

    conv("conv1", 64, 3, 7)
    bn("bn1", 64)
    for p, cin, cout, s, ds in block_names():
        conv(p + ".conv1", cout, cin, 3)
        bn(p + ".bn1", cout)
        conv(p + ".conv2", cout, cout, 3)
        bn(p + ".bn2", cout)
        if ds:
            conv(p + ".downsample.0", cout, cin, 1)
            bn(p + ".downsample.1", cout)
    w["fc.weight"] = rng.standard_normal((1000, 512)).astype(np.float32)
    w["fc.bias"] = np.zeros(1000, np.float32)
    return w


def _bn(w, name, x, stats):
    """Applies BN `name`; when calibrating (name's running stats absent), sets them from x first."""
    if name + ".running_mean" not in w:
        m = x.astype(np.float64).mean(axis=(0, 2, 3))
        v = x.astype(np.float64).var(axis=(0, 2, 3))
        w[name + ".running_mean"] = m.astype(np.float32)
        w[name + ".running_var"] = v.astype(np.float32)
    sh = (1, -1, 1, 1)
    y = ((x - w[name + ".running_mean"].reshape(sh)) / np.sqrt(w[name + ".running_var"].reshape(sh) + BN_EPS)
         * w[name + ".weight"].reshape(sh) + w[name + ".bias"].reshape(sh)).astype(np.float32)
    if stats is not None:
        stats.append((name, float(x.std()), float(y.std())))
    return y


def forward_features(w, x, stats=None):
    """numpy ResNet-18 trunk: x (N,3,224,224) -> pooled features (N,512). Calibrates missing BN stats."""
    relu = lambda t: np.maximum(t, 0)  # noqa: E731
    y = onnx_ref.conv2d(x, w["conv1.weight"], None, (2, 2), (3, 3, 3, 3))
    y = relu(_bn(w, "bn1", y, stats))
    y = onnx_ref.pool2d(y, "max", (3, 3), (2, 2), (1, 1, 1, 1))
    for p, cin, cout, s, ds in block_names():
        t = onnx_ref.conv2d(y, w[p + ".conv1.weight"], None, (s, s), (1, 1, 1, 1))
        t = relu(_bn(w, p + ".bn1", t, stats))
        t = onnx_ref.conv2d(t, w[p + ".conv2.weight"], None, (1, 1), (1, 1, 1, 1))
        t = _bn(w, p + ".bn2", t, stats)
        if ds:
            idn = onnx_ref.conv2d(y, w[p + ".downsample.0.weight"], None, (s, s), (0, 0, 0, 0))
            idn = _bn(w, p + ".downsample.1", idn, stats)
        else:
            idn = y
        y = relu(t + idn)
        if stats is not None:
            stats.append((p + ".out", float(y.std()), float(y.std())))
    return y.mean(axis=(2, 3))


def calibrate(w, n_images, seed, logit_std=3.0):
    """Sets BN running stats and centres/scales the classifier on n_images synthetic images."""
    x = np.concatenate([sample_input(seed * 7919 + CALIB_SEED_OFFSET + i) for i in range(n_images)])
    feats = forward_features(w, x).astype(np.float64)               # sets every BN's running stats
    mu = feats.mean(axis=0)
    sd = feats.std(axis=0) + 1e-3
    W = w["fc.weight"].astype(np.float64) / sd                       # standardise each feature
    W /= np.sqrt(W.shape[1])
    logits = (feats - mu) @ W.T
    scale = logit_std / max(logits.std(), 1e-6)
    W *= scale
    w["fc.weight"] = W.astype(np.float32)
    w["fc.bias"] = (-(W @ mu)).astype(np.float32)
    return feats


# --------------------------------------------------------------------------------------------------
# graph

def build_model(w, seed, calib):
    nodes, inits = [], []
    used = set()

    def init(name):
        used.add(name)
        inits.append(numpy_helper.from_array(w[name], name))
        return name

    def conv(name, x, stride, pad):
        out = name + ".out"
        wt = w[name + ".weight"]
        k = wt.shape[-1]
        nodes.append(helper.make_node("Conv", [x, init(name + ".weight")], [out], name=name,
                                      kernel_shape=[k, k], strides=[stride, stride],
                                      pads=[pad] * 4, dilations=[1, 1], group=1))
        return out

    def bn(name, x):
        out = name + ".out"
        nodes.append(helper.make_node("BatchNormalization",
                                      [x] + [init(name + s) for s in (".weight", ".bias", ".running_mean",
                                                                       ".running_var")],
                                      [out], name=name, epsilon=BN_EPS, momentum=0.9))
        return out

    def relu(name, x):
        out = name + ".out"
        nodes.append(helper.make_node("Relu", [x], [out], name=name))
        return out

    y = relu("relu", bn("bn1", conv("conv1", "input", 2, 3)))
    nodes.append(helper.make_node("MaxPool", [y], ["maxpool.out"], name="maxpool", kernel_shape=[3, 3],
                                  strides=[2, 2], pads=[1, 1, 1, 1]))
    y = "maxpool.out"
    for p, cin, cout, s, ds in block_names():
        t = relu(p + ".relu1", bn(p + ".bn1", conv(p + ".conv1", y, s, 1)))
        t = bn(p + ".bn2", conv(p + ".conv2", t, 1, 1))
        idn = bn(p + ".downsample.1", conv(p + ".downsample.0", y, s, 0)) if ds else y
        nodes.append(helper.make_node("Add", [t, idn], [p + ".add.out"], name=p + ".add"))
        y = relu(p + ".relu2", p + ".add.out")
    nodes.append(helper.make_node("GlobalAveragePool", [y], ["avgpool.out"], name="avgpool"))
    nodes.append(helper.make_node("Flatten", ["avgpool.out"], ["flatten.out"], name="flatten", axis=1))
    nodes.append(helper.make_node("Gemm", ["flatten.out", init("fc.weight"), init("fc.bias")], ["logits"],
                                  name="fc", alpha=1.0, beta=1.0, transB=1))
    missing = set(w) - used
    if missing:
        raise RuntimeError(f"unused weights: {sorted(missing)}")

    graph = helper.make_graph(
        nodes, "resnet18",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="vta-scripts/resnet18_onnx.py", producer_version="1",
                              doc_string="ResNet-18 (torchvision architecture) with fixed-seed synthetic, "
                                         "BN-calibrated weights; not trained.")
    model.ir_version = 7   # the IR version of opset 13 (ONNX 1.8)
    helper.set_model_props(model, {"seed": str(seed), "calibration_images": str(calib),
                                   "input_normalisation": "ImageNet mean (0.485,0.456,0.406) "
                                                          "std (0.229,0.224,0.225) on [0,1] RGB",
                                   "weights": "synthetic (He-normal, BN-calibrated), not trained"})
    model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    return model


def generate(seed=0, calib=4, verbose=False):
    w = init_weights(seed)
    calibrate(w, calib, seed)
    model = build_model(w, seed, calib)
    if verbose:
        stats = []
        forward_features(w, sample_input(0), stats)
        for name, sin, sout in stats:
            print(f"  {name:24s} input std {sin:7.3f}  output std {sout:7.3f}")
    return model, w


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "build", "models", "resnet18.onnx"))
    ap.add_argument("--seed", type=int, default=0, help="weight seed (default 0)")
    ap.add_argument("--calib", type=int, default=4, help="synthetic images for BN calibration (default 4)")
    ap.add_argument("--input-out", help="also write the sample input, float32 (1,3,224,224), to this .npy")
    ap.add_argument("--input-seed", type=int, default=0, help="seed of the sample input image (default 0)")
    ap.add_argument("--verbose", action="store_true", help="print per-layer activation std on the sample")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    model, w = generate(args.seed, args.calib, args.verbose)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    onnx.save(model, args.out)
    onnx.checker.check_model(args.out, full_check=True)
    dt = time.perf_counter() - t0
    n_params = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    ops = [n.op_type for n in model.graph.node]
    counts = {op: ops.count(op) for op in sorted(set(ops))}
    print(f"wrote {args.out}: {os.path.getsize(args.out) / 1e6:.1f} MB, {n_params} parameters, "
          f"{len(ops)} nodes {counts}")
    if args.input_out:
        x = sample_input(args.input_seed)
        os.makedirs(os.path.dirname(os.path.abspath(args.input_out)), exist_ok=True)
        np.save(args.input_out, x)
        print(f"wrote {args.input_out}: sample input {x.shape} {x.dtype}, input seed {args.input_seed}")
    print(f"generation time {dt:.1f} s (seed {args.seed}, {args.calib} calibration images)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
