#!/usr/bin/env python3
"""Checks resnet18_onnx.py's ONNX ResNet-18 against an independent PyTorch implementation.

    /usr/bin/python3 scripts/models/check_resnet18_onnx.py [--model build/models/resnet18.onnx]
                                                           [--input x.npy] [--atol 1e-3]

* builds ResNet-18 from this file's own small torch modules (not torchvision), loads the ONNX file's
  initializers into it by name (torchvision state_dict names), and runs it in eval mode;
* runs the ONNX graph itself, node by node, with the numpy interpreter onnx_ref.py;
* compares the logits (max abs diff, top-5) on the sample input, and checks that the model makes
  input-dependent predictions (logits not constant; different synthetic images give different top-1).
The structural check (onnx.checker, BN node count, input/output names and shapes) comes first.
If --model does not exist it is generated first with resnet18_onnx.py (default seed).
Exits 0 when everything agrees, 1 otherwise.
"""

import argparse
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import onnx_ref  # noqa: E402
import resnet18_onnx  # noqa: E402


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        idn = x if self.downsample is None else self.downsample(x)
        return self.relu(out + idn)


class ResNet18(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, (c, s) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], start=1):
            setattr(self, f"layer{i}", nn.Sequential(BasicBlock(cin, c, s), BasicBlock(c, c, 1)))
            cin = c
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def load_torch(model_proto):
    net = ResNet18()
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model_proto.graph.initializer}
    sd = net.state_dict()
    expected = {k for k in sd if not k.endswith("num_batches_tracked")}
    missing, extra = expected - set(weights), set(weights) - expected
    if missing or extra:
        raise RuntimeError(f"initializer names do not match the torch module: missing {sorted(missing)[:5]}, "
                           f"extra {sorted(extra)[:5]}")
    for k in expected:
        if tuple(sd[k].shape) != tuple(weights[k].shape):
            raise RuntimeError(f"{k}: shape {tuple(weights[k].shape)}, module wants {tuple(sd[k].shape)}")
    net.load_state_dict(weights, strict=False)
    for n in model_proto.graph.node:      # the module uses torch's default eps; the graph must agree
        if n.op_type == "BatchNormalization":
            eps = next((a.f for a in n.attribute if a.name == "epsilon"), 1e-5)
            if abs(eps - 1e-5) > 1e-9:
                raise RuntimeError(f"{n.name}: epsilon {eps} differs from torch's 1e-5")
    return net.eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(REPO, "build", "models", "resnet18.onnx"))
    ap.add_argument("--input", help="sample input .npy (default: resnet18_onnx.sample_input(0))")
    ap.add_argument("--atol", type=float, default=1e-3, help="max abs logit difference allowed")
    ap.add_argument("--extra-images", type=int, default=3,
                    help="more synthetic images for the input-dependence check (torch only)")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    ok = True

    if not os.path.exists(args.model):
        print(f"{args.model} not found: generating it")
        rc = resnet18_onnx.main(["--out", args.model])
        if rc:
            return rc
    t0 = time.perf_counter()
    model = onnx.load(args.model)
    onnx.checker.check_model(model, full_check=True)
    ops = [n.op_type for n in model.graph.node]
    inits = {t.name for t in model.graph.initializer}
    ins = [(i.name, [d.dim_value for d in i.type.tensor_type.shape.dim]) for i in model.graph.input
           if i.name not in inits]
    outs = [(o.name, [d.dim_value for d in o.type.tensor_type.shape.dim]) for o in model.graph.output]
    print(f"structure: {len(ops)} nodes, {ops.count('Conv')} Conv, {ops.count('BatchNormalization')} "
          f"BatchNormalization, {ops.count('Add')} Add; inputs {ins}, outputs {outs}")
    if ins != [("input", [1, 3, 224, 224])] or outs != [("logits", [1, 1000])] \
            or ops.count("Conv") != 20 or ops.count("BatchNormalization") != 20 or ops.count("Add") != 8:
        print("FAIL: unexpected graph structure")
        ok = False

    x = np.load(args.input) if args.input else resnet18_onnx.sample_input(0)
    net = load_torch(model)
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()
    t1 = time.perf_counter()
    got = onnx_ref.run(model, {"input": x})["logits"]
    t_ref = time.perf_counter() - t1
    diff = float(np.abs(got.astype(np.float64) - ref).max())
    top5_t = np.argsort(-ref[0])[:5]
    top5_o = np.argsort(-got[0])[:5]
    print(f"logits: torch min {ref.min():.4f} max {ref.max():.4f} std {ref.std():.4f}")
    print(f"top-5 torch {top5_t.tolist()} {np.round(ref[0][top5_t], 4).tolist()}")
    print(f"top-5 onnx  {top5_o.tolist()} {np.round(got[0][top5_o], 4).tolist()}  "
          f"(numpy interpreter {t_ref:.1f} s)")
    print(f"max abs logit diff (ONNX graph via numpy vs PyTorch module): {diff:.3g} (tolerance {args.atol})")
    if not np.isfinite(got).all() or diff > args.atol:
        print("FAIL: logits differ")
        ok = False
    if top5_t.tolist() != top5_o.tolist():
        print("FAIL: top-5 differ")
        ok = False
    if ref.std() < 0.1:
        print("FAIL: logits are (nearly) constant")
        ok = False
    if args.extra_images:
        xs = np.concatenate([resnet18_onnx.sample_input(100 + i) for i in range(args.extra_images)])
        with torch.no_grad():
            top1 = net(torch.from_numpy(np.concatenate([x, xs]))).argmax(1).tolist()
        print(f"top-1 on {len(top1)} different synthetic images: {top1}")
        if len(set(top1)) < 2:
            print("FAIL: predictions do not depend on the input")
            ok = False
    print(f"{'OK' if ok else 'FAILED'} ({time.perf_counter() - t0:.1f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
