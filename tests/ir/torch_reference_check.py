#!/usr/bin/env python3
"""PyTorch as an independent reference for the ONNX front end, the graph passes and the float executor.

Builds small torch models, exports each with torch.onnx.export (opset 13) into --work-dir, runs it in torch
for the expected output, then runs `vta_ir_run_float MODEL INPUT OUTPUT` (with and without the default
passes) and compares: max |ours - torch| <= 1e-4 * max(1, max |torch|). Exit 0 when every model matches.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
from torch import nn


def randomize_bn(module, gen):
    """Non-trivial inference statistics so BatchNormalization (or its folding) matters."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.5)
            m.running_var.copy_(torch.rand(c, generator=gen) * 2 + 0.2)
            m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.2)


class ConvBnReluPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        return self.pool(torch.relu(self.bn(self.conv(x))))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(8)
        self.down = nn.Conv2d(8, 16, 1, stride=2)
        self.c3 = nn.Conv2d(8, 16, 3, stride=2, padding=1)

    def forward(self, x):
        y = torch.relu(self.b1(self.c1(x)))
        y = torch.relu(self.b2(self.c2(y)) + x)
        return torch.relu(self.c3(y) + self.down(y))


class Grouped(nn.Module):
    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8)
        self.gc = nn.Conv2d(8, 12, 3, padding=(1, 2), groups=4)
        self.pw = nn.Conv2d(12, 6, 1)

    def forward(self, x):
        return self.pw(torch.relu(self.gc(torch.relu(self.dw(x)))))


class PoolsLinearSoftmax(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.avg2 = nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=True)  # exported as Pad + AveragePool
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        y = self.avg2(self.avg(torch.relu(self.conv(x))))
        return torch.softmax(self.fc(torch.flatten(self.gap(y), 1)), dim=1)


class Concat(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(4, 6, 1)
        self.b = nn.Conv2d(4, 2, 3, padding=1)
        self.c = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        y = torch.cat([torch.relu(self.a(x)), self.b(x)], dim=1)
        return torch.cat([self.c(y), x], dim=1)


class ClipRelu6(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 8 * 8, 5)
        self.relu6 = nn.ReLU6()
        self.hardtanh = nn.Hardtanh(-1.0, 2.0)
        self.register_buffer("shift", torch.full((1, 8, 1, 1), -3.0))

    def forward(self, x):
        y = self.relu6(self.conv(x) * 4.0)
        y = self.hardtanh(y + self.shift)
        return self.fc(torch.flatten(y, 1))


class MatMulBias(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(12, 7))
        self.b = nn.Parameter(torch.randn(7))

    def forward(self, x):
        return torch.relu(torch.matmul(torch.flatten(x, 1), self.w) + self.b)


MODELS = [
    # name, module, input shape, dynamic batch
    ("conv_bn_relu_maxpool", ConvBnReluPool, (1, 3, 16, 16), False),
    ("residual_block", Residual, (1, 8, 8, 8), False),
    ("grouped_depthwise", Grouped, (1, 8, 10, 10), False),
    ("pools_linear_softmax", PoolsLinearSoftmax, (1, 3, 13, 13), True),
    ("concat", Concat, (1, 4, 6, 6), False),
    ("relu6_clip", ClipRelu6, (1, 3, 8, 8), False),
    ("matmul_bias", MatMulBias, (1, 3, 2, 2), False),
]


def export(model, x, path, dynamic):
    kwargs = dict(opset_version=13, input_names=["input"], output_names=["output"])
    if dynamic:
        kwargs["dynamic_axes"] = {"input": {0: "N"}, "output": {0: "N"}}
    # Keep BatchNormalization in the graph (no torch-side folding), so the IR's own folding is exercised.
    kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
    kwargs["do_constant_folding"] = False
    torch.onnx.export(model, (x,), path, **kwargs)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tool", required=True, help="path to vta_ir_run_float")
    ap.add_argument("--work-dir", required=True)
    args = ap.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    failures = 0
    for name, cls, shape, dynamic in MODELS:
        model = cls().eval()
        with torch.no_grad():
            randomize_bn(model, gen)
        x = torch.randn(*shape, generator=gen)
        path = os.path.join(args.work_dir, name + ".onnx")
        export(model, x, path, dynamic)
        ops = sorted({n.op_type for n in onnx.load(path).graph.node})
        with torch.no_grad():
            expected = model(x).numpy()
        in_path = os.path.join(args.work_dir, name + ".input.npy")
        np.save(in_path, x.numpy())
        for mode in ("passes", "no-passes"):
            out_path = os.path.join(args.work_dir, f"{name}.{mode}.output.npy")
            text_path = os.path.join(args.work_dir, f"{name}.{mode}.ir.txt")
            cmd = [args.tool, path, in_path, out_path, "--text", text_path]
            cmd += ["--no-passes"] if mode == "no-passes" else []
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {name} [{mode}]: exit {r.returncode}: {r.stderr.strip()}")
                failures += 1
                continue
            got = np.load(out_path)
            if got.shape != expected.shape:
                print(f"FAIL {name} [{mode}]: shape {got.shape}, torch {expected.shape}")
                failures += 1
                continue
            if mode == "passes" and "= BatchNormalization(" in open(text_path).read():
                print(f"FAIL {name} [{mode}]: BatchNormalization left after the passes (see {text_path})")
                failures += 1
                continue
            diff = float(np.max(np.abs(got - expected)))
            tol = 1e-4 * max(1.0, float(np.max(np.abs(expected))))
            ok = diff <= tol
            failures += 0 if ok else 1
            print(f"{'ok  ' if ok else 'FAIL'} {name} [{mode}]: max abs diff {diff:.3g} (tol {tol:.3g}); ops {', '.join(ops)}")
    # A model with an op the front end does not support must fail cleanly, naming the op.
    lstm_path = os.path.join(args.work_dir, "lstm.onnx")
    torch.onnx.export(nn.LSTM(4, 4), (torch.randn(2, 1, 4),), lstm_path, opset_version=13)
    np.save(os.path.join(args.work_dir, "lstm.input.npy"), np.zeros((2, 1, 4), np.float32))
    r = subprocess.run([args.tool, lstm_path, os.path.join(args.work_dir, "lstm.input.npy"),
                        os.path.join(args.work_dir, "lstm.out.npy")], capture_output=True, text=True)
    if r.returncode != 1 or "unsupported ONNX op 'LSTM'" not in r.stderr:
        print(f"FAIL lstm: expected exit 1 naming LSTM, got {r.returncode}: {r.stderr.strip()}")
        failures += 1
    else:
        print(f"ok   lstm: {r.stderr.strip()[:160]}")
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
