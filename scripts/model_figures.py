#!/usr/bin/env python3
"""Measures the model-flow figures of docs/model.md in one run and prints them as a Markdown table.

Usage: /usr/bin/python3 scripts/model_figures.py [--vta build/tools/vta/vta] [--work build/figures]
Needs a built `vta` and Debian's dataset-fashion-mnist, python3-onnx and NumPy (scripts/setup.sh).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3"


def run(cmd, env=None):
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    return p.stdout, dt


def accuracy(text):
    m = re.search(r"accuracy: (\d+)/(\d+) = ([\d.]+)%", text)
    if not m:
        sys.exit("no accuracy in output:\n" + text)
    return float(m.group(3))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vta", default=os.path.join(ROOT, "build/tools/vta/vta"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build/figures"))
    a = ap.parse_args()
    vta, w = a.vta, a.work
    os.makedirs(w, exist_ok=True)
    rows = []

    # ResNet-18
    onnx, x = f"{w}/resnet18.onnx", f"{w}/resnet18_input.npy"
    if not os.path.exists(onnx):
        run([PY, "scripts/models/resnet18_onnx.py", "--out", onnx, "--input-out", x])
    out, compile_wall = run([vta, "compile", onnx, "-o", f"{w}/resnet18.vtapkg", "--calib", x])
    m = re.search(r"import ([\d.]+) s, calibrate \+ quantize ([\d.]+) s, partition \+ lower ([\d.]+) s", out)
    imp, quant, lower = (float(v) for v in m.groups())
    rows.append(("ResNet-18 compile: import, calibrate + quantize, partition + lower",
                 f"{imp:.3f} s, {quant:.3f} s, {lower:.3f} s ({compile_wall:.2f} s for the whole `vta compile`)"))
    _, fsim_wall = run([vta, "run", f"{w}/resnet18.vtapkg", "--input", x, "--check", "-q",
                        "--profile", f"{w}/fsim.json"])
    fsim = json.load(open(f"{w}/fsim.json"))
    rows.append(("ResNet-18 on fsim: one inference (device + host transforms), whole `vta run`",
                 f"{1e3 * fsim['run_seconds']:.1f} ms, {fsim_wall:.2f} s; bit-exact against the int8 CPU reference"))
    env = dict(os.environ, VTA_TSIM_DRAM_LATENCY="32", VTA_TSIM_DRAM_BYTES_PER_CYCLE="8")
    _, tsim_wall = run([vta, "run", f"{w}/resnet18.vtapkg", "--input", x, "--check", "-q", "--target", "tsim",
                        "--profile", f"{w}/tsim.json"], env)
    tsim = json.load(open(f"{w}/tsim.json"))
    cycles, bound = tsim["total"]["cycles"], tsim["mac_bound_cycles"]
    rows.append(("ResNet-18 on tsim (8 B/cycle, 32-cycle latency): cycles vs the MAC bound (core MACs / 256)",
                 f"{cycles / 1e6:.2f} M vs {bound / 1e6:.2f} M ({100.0 * bound / cycles:.0f}% of the bound); "
                 f"{tsim_wall:.1f} s simulated; bit-exact"))
    rows.append(("ResNet-18 MACs on the core",
                 f"{tsim['core_macs'] / 1e9:.3f} G of {tsim['total_macs'] / 1e9:.3f} G "
                 f"({100.0 * tsim['core_macs'] / tsim['total_macs']:.2f}%)"))
    run([vta, "run", f"{w}/resnet18.vtapkg", "--input", x, "-q", "-o", f"{w}/r18_int8.npy"])
    run([vta, "run", onnx, "--calib", x, "--input", x, "--reference", "float", "-q", "-o", f"{w}/r18_float.npy"])
    import numpy as np
    a, b = np.load(f"{w}/r18_int8.npy").ravel(), np.load(f"{w}/r18_float.npy").ravel()
    cos = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    rows.append(("ResNet-18 int8 (on the core) vs float logits on the sample input",
                 f"cosine {cos:.3f}; top-5 int8 {list(np.argsort(-a)[:5])}, float {list(np.argsort(-b)[:5])}"))
    dram, lb = tsim["total"]["dram_bytes"], tsim["dram_lower_bound_bytes"]
    rows.append(("ResNet-18 DRAM bytes vs the lower bound (activations written and read once, weights once)",
                 f"{dram / 1e6:.2f} MB vs {lb / 1e6:.2f} MB ({dram / lb:.2f}x)"))

    # Fashion-MNIST
    tx, ty, cx = f"{w}/fm_x.npy", f"{w}/fm_y.npy", f"{w}/fm_calib.npy"
    run([PY, "scripts/models/fashion_mnist.py", "export", "--split", "test", "--count", "10000",
         "--out-images", tx, "--out-labels", ty])
    run([PY, "scripts/models/fashion_mnist.py", "export", "--split", "train", "--count", "256", "--offset", "0",
         "--out-images", cx, "--out-labels", f"{w}/fm_calib_y.npy"])
    model = "models/fashion_mnist_cnn.onnx"
    run([vta, "compile", model, "-o", f"{w}/fm.vtapkg", "--calib", cx])
    fl, _ = run([vta, "run", model, "--calib", cx, "--input", tx, "--labels", ty, "--reference", "float", "-q"])
    i8, _ = run([vta, "run", f"{w}/fm.vtapkg", "--input", tx, "--labels", ty, "--reference", "int8", "-q"])
    fs, fs_wall = run([vta, "run", f"{w}/fm.vtapkg", "--input", tx, "--labels", ty, "-q"])
    rows.append(("Fashion-MNIST test accuracy (10,000 images): float, int8 CPU reference, int8 on fsim",
                 f"{accuracy(fl):.2f}%, {accuracy(i8):.2f}%, {accuracy(fs):.2f}% (fsim run {fs_wall:.1f} s)"))

    print("| figure | measured |")
    print("|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")


if __name__ == "__main__":
    main()
