#!/usr/bin/env python3
"""Runs `vta op conv2d` / `vta op dense` on random .npy inputs and compares with a NumPy reference;
also checks that bad inputs are clear errors (non-zero exit, message on stderr)."""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np


def conv_ref(x, w, b, stride, pads, shift, relu, clip):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    t, l, bo, r = pads
    sh, sw = stride
    xp = np.zeros((n, c, h + t + bo, wd + l + r), dtype=np.int64)
    xp[:, :, t:t + h, l:l + wd] = x
    oh = (h + t + bo - kh) // sh + 1
    ow = (wd + l + r - kw) // sw + 1
    acc = np.zeros((n, o, oh, ow), dtype=np.int64)
    for y in range(kh):
        for z in range(kw):
            patch = xp[:, :, y:y + sh * (oh - 1) + 1:sh, z:z + sw * (ow - 1) + 1:sw]
            acc += np.einsum("nchw,oc->nohw", patch, w[:, :, y, z].astype(np.int64))
    if b is not None:
        acc += b.astype(np.int64)[None, :, None, None]
    return requant(acc, shift, relu, clip)


def requant(acc, shift, relu, clip):
    acc = acc.astype(np.int32).astype(np.int64) >> shift
    lo, hi = clip
    if relu:
        lo = max(lo, 0)
    return np.clip(acc, lo, hi).astype(np.int8)


def run(vta, args, expect_ok=True):
    p = subprocess.run([vta] + args, capture_output=True, text=True)
    if expect_ok and p.returncode != 0:
        sys.exit(f"FAIL: vta {' '.join(args)}\n{p.stdout}\n{p.stderr}")
    if not expect_ok and (p.returncode == 0 or "error" not in p.stderr):
        sys.exit(f"FAIL: expected an error from vta {' '.join(args)}\n{p.stdout}\n{p.stderr}")
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vta", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--config-dir", required=True)
    a = ap.parse_args()
    os.makedirs(a.work_dir, exist_ok=True)
    rng = np.random.default_rng(5)
    d = lambda name: os.path.join(a.work_dir, name)

    cases = [
        # n, c, h, w, o, kh, kw, stride, pads, relu, clip, bias, config
        (1, 3, 11, 13, 10, 3, 3, (1, 1), (1, 1, 1, 1), False, (-128, 127), True, "default"),
        (2, 20, 9, 8, 17, 1, 1, (2, 2), (0, 0, 0, 0), True, (-128, 127), True, "batch2"),
        (1, 5, 15, 15, 8, 7, 7, (2, 2), (3, 3, 3, 3), False, (-10, 100), False, "block8"),
        (1, 40, 6, 7, 33, 3, 2, (1, 2), (2, 0, 1, 1), True, (-128, 127), True, "block32"),
    ]
    for i, (n, c, h, w, o, kh, kw, stride, pads, relu, clip, bias, cfg) in enumerate(cases):
        x = rng.integers(-128, 128, size=(n, c, h, w), dtype=np.int8)
        wt = rng.integers(-128, 128, size=(o, c, kh, kw), dtype=np.int8)
        b = rng.integers(-30000, 30000, size=(o,), dtype=np.int32) if bias else None
        shift = int(round(np.log2(5476 * np.sqrt(c * kh * kw) / 40)))
        np.save(d("x.npy"), x)
        np.save(d("w.npy"), wt)
        args = ["op", "conv2d", "--input", d("x.npy"), "--weight", d("w.npy"), "--stride",
                f"{stride[0]},{stride[1]}", "--pads", ",".join(map(str, pads)), "--shift", str(shift),
                "--clip", f"{clip[0]},{clip[1]}", "--output", d("y.npy"), "--target", "fsim",
                "--config", os.path.join(a.config_dir, cfg + ".json"), "--stats", d("s.json")]
        if relu:
            args.append("--relu")
        if b is not None:
            np.save(d("b.npy"), b)
            args += ["--bias", d("b.npy")]
        run(a.vta, args)
        y = np.load(d("y.npy"))
        want = conv_ref(x, wt, b, stride, pads, shift, relu, clip)
        if y.dtype != np.int8 or y.shape != want.shape or not np.array_equal(y, want):
            sys.exit(f"FAIL: conv2d case {i}: mismatch (shape {y.shape} vs {want.shape})")
        stats = json.load(open(d("s.json")))
        assert stats["op"] == "conv2d" and "tiling" in stats and "counters" in stats
        print(f"conv2d case {i} ({cfg}): OK")

    # --tiling: a forced tiling runs (and is the one reported), with the same results
    x = rng.integers(-128, 128, size=(1, 40, 14, 14), dtype=np.int8)
    wt = rng.integers(-128, 128, size=(48, 40, 1, 1), dtype=np.int8)
    np.save(d("x.npy"), x)
    np.save(d("w.npy"), wt)
    run(a.vta, ["op", "conv2d", "--input", d("x.npy"), "--weight", d("w.npy"), "--stride", "2", "--shift", "9",
                "--output", d("y.npy"), "--stats", d("s.json"), "--tiling", "oc=2,rows=3,cols=7,ic=1,weights=oc_tile"])
    want = conv_ref(x, wt, None, (2, 2), (0, 0, 0, 0), 9, False, (-128, 127))
    if not np.array_equal(np.load(d("y.npy")), want):
        sys.exit("FAIL: conv2d with a forced tiling: mismatch")
    t = json.load(open(d("s.json")))["tiling"]
    if (t["oc_blocks"], t["out_rows"], t["out_cols"], t["ic_blocks"], t["weight_mode"]) != (2, 3, 7, 1, "oc_tile"):
        sys.exit(f"FAIL: the forced tiling is not the one that ran: {t}")
    run(a.vta, ["op", "conv2d", "--input", d("x.npy"), "--weight", d("w.npy"), "--output", d("y.npy"),
                "--tiling", "oc=2,rows=three"], expect_ok=False)
    print("conv2d --tiling: OK")

    # dense
    x = rng.integers(-128, 128, size=(16, 512), dtype=np.int8)
    wt = rng.integers(-128, 128, size=(1008, 512), dtype=np.int8)
    b = rng.integers(-30000, 30000, size=(1008,), dtype=np.int32)
    np.save(d("x.npy"), x)
    np.save(d("w.npy"), wt)
    np.save(d("b.npy"), b)
    run(a.vta, ["op", "dense", "--input", d("x.npy"), "--weight", d("w.npy"), "--bias", d("b.npy"), "--shift", "12",
                "--output", d("y.npy")])
    want = requant(x.astype(np.int64) @ wt.astype(np.int64).T + b, 12, False, (-128, 127))
    if not np.array_equal(np.load(d("y.npy")), want):
        sys.exit("FAIL: dense mismatch")
    print("dense: OK")

    # --record: the operator's device run as a program trace that replays with the same memory after it
    rec = d("rec")
    shutil.rmtree(rec, ignore_errors=True)
    run(a.vta, ["op", "dense", "--input", d("x.npy"), "--weight", d("w.npy"), "--shift", "12",
                "--output", d("y.npy"), "--record", rec])
    if sorted(os.listdir(rec)) != ["run000"]:
        sys.exit(f"FAIL: --record wrote {sorted(os.listdir(rec))}, not one run")
    run(a.vta, ["exec", "--check", os.path.join(rec, "run000")])
    print("record + exec --check: OK")

    # errors
    np.save(d("x.npy"), rng.integers(-128, 128, size=(1, 4, 5, 5), dtype=np.int8))
    np.save(d("w.npy"), rng.integers(-128, 128, size=(8, 3, 3, 3), dtype=np.int8))
    base = ["op", "conv2d", "--input", d("x.npy"), "--weight", d("w.npy"), "--output", d("y.npy")]
    run(a.vta, base, expect_ok=False)  # channel mismatch
    np.save(d("w.npy"), rng.integers(-128, 128, size=(8, 4, 3, 3), dtype=np.int8))
    run(a.vta, base + ["--dilation", "2"], expect_ok=False)
    run(a.vta, base + ["--groups", "2"], expect_ok=False)
    np.save(d("f.npy"), np.zeros((1, 4, 5, 5), dtype=np.float32))
    run(a.vta, ["op", "conv2d", "--input", d("f.npy"), "--weight", d("w.npy"), "--output", d("y.npy")],
        expect_ok=False)
    np.save(d("b.npy"), np.zeros((8,), dtype=np.int64))
    run(a.vta, base + ["--bias", d("b.npy")], expect_ok=False)
    np.save(d("b.npy"), np.zeros((7,), dtype=np.int32))
    run(a.vta, base + ["--bias", d("b.npy")], expect_ok=False)
    run(a.vta, base + ["--pad", "1", "--pads", "1,1,1,1"], expect_ok=False)
    print("errors: OK")


if __name__ == "__main__":
    main()
