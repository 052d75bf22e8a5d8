#!/usr/bin/env python3
"""The model flow end to end through the `vta` binary, as a user runs it (ctest `model.flow`, label model).

Sections (each can be run alone with --only):
  fashion_mnist  export 1000 test + 256 calibration images; `vta compile` -> package; `vta run --check` on
                 fsim over the 1000 images (exit 0, bit-exact, accuracy >= 88 %); the int8 CPU reference gives
                 the same accuracy; `--reference float` within 1.5 points of int8-on-fsim; tsim on 3 images;
                 `--emit graph|qgraph|plan|asm`; the `--profile` JSON.
  resnet18       generate ResNet-18 (scripts/models/resnet18_onnx.py), compile (calibrated on its sample
                 input), `--check` on fsim and on tsim: bit-exact, same outputs, every conv on the core,
                 tsim cycles > 0.
  test_models    the 12 models of scripts/models/make_test_models.py: compile (calibrated on the input),
                 `--check` on fsim, output vs PyTorch float (cosine >= 0.98 or same top-1), one line each.
  bad_input      truncated / random ONNX, corrupted package headers, a package on another config, inputs of
                 the wrong shape or dtype, missing files, usage errors, flipped package payload bytes: exit 1
                 (2 for usage errors), stderr starting with "vta: error:", never a signal.

Prints one PASS/FAIL line per check and a summary; exits 1 if any check failed. Needs /usr/bin/python3
with numpy, onnx and torch (CMake registers the test only then). No timing is asserted.
"""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time

import numpy as np

SECTIONS = ("fashion_mnist", "resnet18", "test_models", "bad_input")

# The per-channel QDQ model does not import: the IR rejects the zero point of its int32 bias
# DequantizeLinear ("an i32 input takes no zero point"). Expected to fail cleanly until that is supported.
KNOWN_IMPORT_FAILURES = {"qdq_conv_per_channel": "i32 input takes no zero point"}


class Flow:
    def __init__(self, vta, repo, work):
        self.vta, self.repo, self.work = vta, repo, work
        self.passed, self.failed = [], []
        self.python = sys.executable

    # ---- reporting ----
    def check(self, ok, name, detail=""):
        line = f"{'PASS' if ok else 'FAIL'} {name}" + (f": {detail}" if detail else "")
        print(line, flush=True)
        (self.passed if ok else self.failed).append(line)
        return ok

    # ---- processes ----
    def run(self, args, timeout=300):
        """Runs a command; returns (returncode, stdout, stderr). A negative returncode is a signal."""
        t0 = time.monotonic()
        try:
            p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = "timeout", (e.stdout or b"").decode(errors="replace"), f"timed out after {timeout} s"
        self.last_seconds = time.monotonic() - t0
        return rc, out, err

    def vta_run(self, *args, timeout=300):
        return self.run([self.vta, *[str(a) for a in args]], timeout=timeout)

    def script(self, name, *args, timeout=300):
        return self.run([self.python, os.path.join(self.repo, "scripts", "models", name), *[str(a) for a in args]],
                        timeout=timeout)

    def expect_ok(self, name, result):
        rc, out, err = result
        return self.check(rc == 0, name, f"exit {rc}, {self.last_seconds:.1f} s" +
                          ("" if rc == 0 else f"\n--- stdout ---\n{out[-3000:]}\n--- stderr ---\n{err[-3000:]}"))

    def expect_error(self, name, result, want_rc=1, needles=()):
        """A clean failure: exit status want_rc, stderr starting with "vta: error:" and containing needles."""
        rc, out, err = result
        problems = []
        if rc == "timeout":
            problems.append("timed out")
        elif rc < 0 or rc >= 128:
            problems.append(f"killed by a signal (exit {rc}): a crash")
        elif rc != want_rc:
            problems.append(f"exit {rc}, expected {want_rc}")
        if not err.startswith("vta: error:"):
            problems.append("stderr does not start with 'vta: error:'")
        for n in needles:
            if n not in err:
                problems.append(f"stderr lacks {n!r}")
        first = err.splitlines()[0] if err else "(empty stderr)"
        detail = first if not problems else "; ".join(problems) + f"\n--- stderr ---\n{err[-2000:]}\n--- stdout ---\n{out[-1000:]}"
        return self.check(not problems, name, detail)

    def path(self, *names):
        return os.path.join(self.work, *names)


def accuracy_of(text):
    m = re.search(r"accuracy: (\d+)/(\d+) = ([\d.]+)%", text)
    return (int(m.group(1)), int(m.group(2)), float(m.group(3))) if m else None


def bit_exact_count(text):
    m = re.search(r"check against the int8 CPU reference: bit-exact on (\d+) input\(s\)", text)
    return int(m.group(1)) if m else None


def load_json(path):
    with open(path) as f:
        return json.load(f)


def cosine(a, b):
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 1.0 if na == nb else 0.0
    return float(a @ b / (na * nb))


# ---------------------------------------------------------------------------------------------------------
def fashion_mnist(f):
    onnx_path = os.path.join(f.repo, "models", "fashion_mnist_cnn.onnx")
    x, y, c = f.path("fm_x.npy"), f.path("fm_y.npy"), f.path("fm_calib.npy")
    pkg, prof, out = f.path("fm.vtapkg"), f.path("fm_profile.json"), f.path("fm_out.npy")
    if not f.expect_ok("fm: export 1000 test images",
                       f.script("fashion_mnist.py", "export", "--split", "test", "--count", 1000,
                                "--out-images", x, "--out-labels", y)):
        return
    if not f.expect_ok("fm: export 256 calibration images",
                       f.script("fashion_mnist.py", "export", "--split", "train", "--count", 256, "--offset", 0,
                                "--out-images", c, "--out-labels", f.path("fm_calib_y.npy"))):
        return
    r = f.vta_run("compile", onnx_path, "-o", pkg, "--calib", c)
    if not f.expect_ok("fm: vta compile -> package", r):
        return
    f.check("wrote" in r[1] and os.path.getsize(pkg) > 0, "fm: compile reports the package", r[1].strip().splitlines()[-1])

    # --emit: each stage as text
    for stage, keywords in (("graph", ["graph ", "Conv(", "Gemm("]),
                            ("qgraph", ["qmodel ", "Quantize(", "Conv2d(", "Dense("]),
                            ("plan", ["plan ", " core ", "tiling", "MaxPool"]),
                            ("asm", ["# step", "GEMM", "STORE", "FINISH"])):
        rc, text, err = f.vta_run("compile", onnx_path, "--calib", c, "--emit", stage)
        missing = [k for k in keywords if k not in text]
        f.check(rc == 0 and text.strip() and not missing, f"fm: --emit {stage}",
                f"exit {rc}, {len(text.splitlines())} lines" + (f", missing {missing}" if missing else "") +
                (f"\n{err[-1000:]}" if rc else ""))

    # fsim over the 1000 images, every step checked against the int8 CPU reference
    r = f.vta_run("run", pkg, "--input", x, "--labels", y, "--check", "--profile", prof, "--output", out)
    f.expect_ok("fm: vta run --check on fsim (1000 images)", r)
    n_exact = bit_exact_count(r[1])
    f.check(n_exact == 1000, "fm: bit-exact against the int8 CPU reference", f"bit-exact on {n_exact} input(s)")
    acc = accuracy_of(r[1])
    f.check(acc is not None and acc[1] == 1000 and acc[2] >= 88.0, "fm: int8 accuracy on fsim >= 88%",
            f"{acc[0]}/{acc[1]} = {acc[2]:.2f}%" if acc else "no accuracy line\n" + r[1][-2000:])

    # the outputs written with --output give the same accuracy
    if os.path.exists(out) and acc:
        logits = np.load(out)
        labels = np.load(y)
        correct = int((logits.reshape(logits.shape[0], -1).argmax(axis=1) == labels[:logits.shape[0]]).sum())
        f.check(logits.shape == (1000, 1, 10) and correct == acc[0], "fm: --output holds the 1000 logit rows",
                f"shape {logits.shape}, {correct} correct from the file vs {acc[0]} printed")

    # the profile JSON
    if os.path.exists(prof):
        p = load_json(prof)
        steps = p.get("steps", [])
        targets = {s.get("op"): set() for s in steps}
        for s in steps:
            targets[s.get("op")].add(s.get("target"))
        ok = (bool(steps) and all(s.get("target") in ("core", "cpu") and s.get("why") for s in steps) and
              targets.get("Conv2d") == {"core"} and targets.get("Dense") == {"core"} and
              targets.get("MaxPool") == {"core"} and p.get("inputs") == 1000 and p.get("check_mismatches") == 0 and
              p.get("total", {}).get("instructions", 0) > 0 and p.get("core_macs") == p.get("total_macs"))
        f.check(ok, "fm: --profile JSON (steps with targets and reasons, totals)",
                f"{len(steps)} steps, " + ", ".join(f"{op}: {sorted(t)}" for op, t in targets.items()))
        if acc:
            f.check(abs(p.get("accuracy", -1) * 100 - acc[2]) < 0.01, "fm: profile accuracy equals the printed one",
                    f"{p.get('accuracy')}")
    else:
        f.check(False, "fm: --profile JSON written", prof)

    # the int8 CPU reference gives the same accuracy (the device is bit-exact)
    r = f.vta_run("run", pkg, "--input", x, "--labels", y, "--reference", "int8", "-q")
    f.expect_ok("fm: --reference int8", r)
    acc_ref = accuracy_of(r[1])
    f.check(acc is not None and acc_ref is not None and acc_ref[0] == acc[0], "fm: int8 CPU reference accuracy = fsim's",
            f"{acc_ref[2] if acc_ref else None}% vs {acc[2] if acc else None}%")

    # float reference from the ONNX model: int8 within 1.5 points
    r = f.vta_run("run", onnx_path, "--calib", c, "--input", x, "--labels", y, "--reference", "float", "-q")
    f.expect_ok("fm: --reference float (ONNX model)", r)
    acc_f = accuracy_of(r[1])
    if acc and acc_f:
        f.check(abs(acc_f[2] - acc[2]) <= 1.5, "fm: int8 on fsim within 1.5 points of float",
                f"float {acc_f[2]:.2f}%, int8 {acc[2]:.2f}%, diff {acc[2] - acc_f[2]:+.2f}")
    else:
        f.check(False, "fm: float accuracy parsed", r[1][-1000:])

    # tsim: a few images through the Verilated RTL
    if f.has_tsim:
        tprof = f.path("fm_tsim_profile.json")
        r = f.vta_run("run", pkg, "--input", x, "--labels", y, "--target", "tsim", "--limit", 3, "--check",
                      "--profile", tprof)
        f.expect_ok("fm: --target tsim --limit 3 --check", r)
        f.check(bit_exact_count(r[1]) == 3, "fm: tsim bit-exact on 3 images", f"{bit_exact_count(r[1])}")
        if os.path.exists(tprof):
            cycles = load_json(tprof).get("total", {}).get("cycles", 0)
            f.check(cycles > 0, "fm: tsim profile counts cycles", f"{cycles} cycles (input 0)")
    else:
        print("SKIP fm: tsim (not among this build's targets)")


# ---------------------------------------------------------------------------------------------------------
def resnet18(f):
    onnx_path, inp, pkg = f.path("resnet18.onnx"), f.path("resnet18.input.npy"), f.path("resnet18.vtapkg")
    if not f.expect_ok("resnet18: generate (resnet18_onnx.py)",
                       f.script("resnet18_onnx.py", "--out", onnx_path, "--input-out", inp, timeout=240)):
        return
    r = f.vta_run("compile", onnx_path, "-o", pkg, "--calib", inp, timeout=300)
    if not f.expect_ok("resnet18: vta compile (calibrated on the sample input)", r):
        return
    m = re.search(r"(\d+) steps, (\d+) on the core, (\d+) on the CPU", r[1])
    f.check(m is not None, "resnet18: compile summary", m.group(0) if m else r[1][-500:])

    outputs = {}
    targets = ["fsim"] + (["tsim"] if f.has_tsim else [])
    for target in targets:
        prof, out = f.path(f"resnet18_{target}.json"), f.path(f"resnet18_{target}.out.npy")
        r = f.vta_run("run", pkg, "--input", inp, "--check", "--target", target, "--profile", prof, "--output", out,
                      timeout=420)
        f.expect_ok(f"resnet18: vta run --check on {target}", r)
        f.check(bit_exact_count(r[1]) == 1, f"resnet18: {target} bit-exact against the int8 CPU reference",
                f"{bit_exact_count(r[1])}")
        if not os.path.exists(prof):
            f.check(False, f"resnet18: {target} profile written")
            continue
        p = load_json(prof)
        steps = p.get("steps", [])
        convs = [s for s in steps if s.get("op") == "Conv2d"]
        off = [s["name"] for s in convs if s.get("target") != "core"]
        f.check(len(convs) == 20 and not off, f"resnet18: every conv on the core ({target})",
                f"{len(convs)} Conv2d steps" + (f", on the CPU: {off}" if off else ""))
        cycles = p.get("total", {}).get("cycles", 0)
        if target == "tsim":
            core_without = [s["name"] for s in steps if s.get("target") == "core" and not s.get("cycles")]
            f.check(cycles > 0 and not core_without, "resnet18: tsim cycles > 0 (total and every core step)",
                    f"{cycles} cycles" + (f"; core steps without cycles: {core_without}" if core_without else ""))
        if os.path.exists(out):
            outputs[target] = np.load(out)
    if len(outputs) == 2:
        f.check(np.array_equal(outputs["fsim"], outputs["tsim"]), "resnet18: fsim and tsim logits identical",
                f"shape {outputs['fsim'].shape}")
    if not f.keep:
        for p in (onnx_path, pkg):
            if os.path.exists(p):
                os.remove(p)  # 47 MB + 24 MB


# ---------------------------------------------------------------------------------------------------------
def test_models(f):
    d = f.path("test_models")
    if not f.expect_ok("test models: make_test_models.py", f.script("make_test_models.py", "--out", d, timeout=240)):
        return
    names = [m["name"] for m in load_json(os.path.join(d, "manifest.json"))["models"]]
    f.check(len(names) == 12, "test models: 12 in the manifest", ", ".join(names))
    rows = []
    for name in names:
        onnx_path = os.path.join(d, f"{name}.onnx")
        inp, exp = os.path.join(d, f"{name}.input.npy"), os.path.join(d, f"{name}.expected.npy")
        pkg, out = os.path.join(d, f"{name}.vtapkg"), os.path.join(d, f"{name}.out.npy")
        r = f.vta_run("compile", onnx_path, "-o", pkg, "--calib", inp)
        if r[0] != 0 and name in KNOWN_IMPORT_FAILURES:
            f.expect_error(f"test models: {name} is a clean compile error (known: not importable)", r,
                           needles=[KNOWN_IMPORT_FAILURES[name]])
            rows.append((name, "-", "-", "-", "known import failure: " + KNOWN_IMPORT_FAILURES[name]))
            continue
        if name in KNOWN_IMPORT_FAILURES:
            print(f"NOTE {name} now compiles (was a known import failure); checking it like the others")
        if not f.expect_ok(f"test models: {name}: compile", r):
            rows.append((name, "-", "-", "-", "compile FAILED"))
            continue
        m = re.search(r"(\d+) steps, (\d+) on the core", r[1])
        placement = f"{m.group(2)}/{m.group(1)}" if m else "?"
        r = f.vta_run("run", pkg, "--input", inp, "--check", "--output", out, "-q")
        ok_run = f.expect_ok(f"test models: {name}: run --check on fsim", r) and bit_exact_count(r[1]) == 1
        if not ok_run:
            f.check(False, f"test models: {name}: bit-exact", r[1][-500:])
            rows.append((name, placement, "-", "-", "run FAILED"))
            continue
        got, want = np.load(out), np.load(exp)
        if got.shape != want.shape:
            f.check(False, f"test models: {name}: output shape", f"{got.shape} vs expected {want.shape}")
            rows.append((name, placement, "-", "-", "shape mismatch"))
            continue
        cos = cosine(got, want)
        top1 = int(np.argmax(got)) == int(np.argmax(want))
        ok = cos >= 0.98 or top1
        f.check(ok, f"test models: {name}: int8 on fsim vs PyTorch float",
                f"cosine {cos:.5f}, top-1 {'same' if top1 else 'differs'}")
        rows.append((name, placement, f"{cos:.5f}", "same" if top1 else "differs", "ok" if ok else "FAILED"))
    print("\nmodel                       core/steps  cosine    top-1    result")
    for row in rows:
        print(f"{row[0]:<27} {row[1]:<11} {row[2]:<9} {row[3]:<8} {row[4]}")
    print()


# ---------------------------------------------------------------------------------------------------------
def bad_input(f):
    onnx_path = os.path.join(f.repo, "models", "fashion_mnist_cnn.onnx")
    block32 = os.path.join(f.repo, "config", "block32.json")
    x = f.path("bad_x.npy")
    c = f.path("bad_calib.npy")
    rng = np.random.default_rng(20261202)
    np.save(x, rng.random((2, 1, 28, 28), dtype=np.float32))
    np.save(c, rng.random((8, 1, 28, 28), dtype=np.float32))
    pkg = f.path("bad_good.vtapkg")
    if not f.expect_ok("bad input: a good package to corrupt", f.vta_run("compile", onnx_path, "-o", pkg, "--calib", c)):
        return
    with open(pkg, "rb") as fh:
        good = fh.read()
    with open(onnx_path, "rb") as fh:
        onnx_bytes = fh.read()

    def write(name, data):
        p = f.path(name)
        with open(p, "wb") as fh:
            fh.write(data)
        return p

    # ONNX files
    trunc = write("truncated.onnx", onnx_bytes[: len(onnx_bytes) // 3])
    f.expect_error("bad input: compile a truncated ONNX file", f.vta_run("compile", trunc, "-o", f.path("t.vtapkg"), "--calib", c),
                   needles=["cannot parse ONNX model", "truncated.onnx"])
    f.expect_error("bad input: run a truncated ONNX file", f.vta_run("run", trunc, "--input", x),
                   needles=["truncated.onnx"])
    rand = write("random.onnx", rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    f.expect_error("bad input: compile a random-bytes file", f.vta_run("compile", rand, "-o", f.path("t.vtapkg"), "--calib", c),
                   needles=["random.onnx"])
    empty = write("empty.onnx", b"")
    f.expect_error("bad input: compile an empty file", f.vta_run("compile", empty, "-o", f.path("t.vtapkg"), "--calib", c),
                   needles=["empty.onnx"])
    f.check(not os.path.exists(f.path("t.vtapkg")), "bad input: no package written after a failed compile")

    # packages with a corrupted header
    version = bytearray(good)
    version[8] = 7
    f.expect_error("bad input: package with version 7 (byte 8)", f.vta_run("run", write("version.vtapkg", version), "--input", x),
                   needles=["format version 7", "this build reads version"])
    length = bytearray(good)
    length[23] = 0x40  # the description length's top byte
    f.expect_error("bad input: package with a huge description length (byte 23)",
                   f.vta_run("run", write("length.vtapkg", length), "--input", x), needles=["length.vtapkg"])
    lenlow = bytearray(good)
    lenlow[16] ^= 0x01  # the description length off by one: the JSON or the blob table breaks
    f.expect_error("bad input: package with its description length off by one (byte 16)",
                   f.vta_run("run", write("lenlow.vtapkg", lenlow), "--input", x), needles=["lenlow.vtapkg"])
    zero = bytearray(good)
    zero[12] = 1  # the reserved u32 after the version
    r = f.vta_run("run", write("reserved.vtapkg", zero), "--input", x, "-q")
    f.check(r[0] in (0, 1) and (r[0] == 0 or r[2].startswith("vta: error:")),
            "bad input: package with the reserved header word set: parsed or a clean error", f"exit {r[0]} {r[2][:200]}")
    magic = bytearray(good)
    magic[1] = ord("X")
    # Without the magic the file is not a package, so `vta run` reads it as ONNX: still a clean error.
    f.expect_error("bad input: package with a corrupted magic (byte 1)",
                   f.vta_run("run", write("magic.vtapkg", magic), "--input", x), needles=["magic.vtapkg"])
    f.expect_error("bad input: truncated package", f.vta_run("run", write("short.vtapkg", good[: len(good) // 2]), "--input", x),
                   needles=["short.vtapkg", "truncated"])

    # a package compiled for the default config, run on block32
    f.expect_error("bad input: package run with --config config/block32.json",
                   f.vta_run("run", pkg, "--input", x, "--config", block32), needles=["LOG_BLOCK", "LOG_INP_BUFF_SIZE"])

    # inputs of the wrong shape or dtype
    wrong = f.path("wrong_shape.npy")
    np.save(wrong, np.zeros((3, 1, 27, 28), dtype=np.float32))
    f.expect_error("bad input: input .npy of the wrong shape", f.vta_run("run", pkg, "--input", wrong),
                   needles=["(3, 1, 27, 28)", "(1, 1, 28, 28)"])
    wrong_dt = f.path("wrong_dtype.npy")
    np.save(wrong_dt, np.zeros((2, 1, 28, 28), dtype=np.int32))
    f.expect_error("bad input: input .npy of dtype int32", f.vta_run("run", pkg, "--input", wrong_dt), needles=["float32"])
    not_npy = write("not_npy.npy", b"hello, world\n")
    f.expect_error("bad input: input that is not a .npy file", f.vta_run("run", pkg, "--input", not_npy), needles=["not_npy.npy"])
    labels = f.path("few_labels.npy")
    np.save(labels, np.zeros((1,), dtype=np.int32))
    f.expect_error("bad input: fewer labels than inputs", f.vta_run("run", pkg, "--input", x, "--labels", labels),
                   needles=["1 labels for 2 inputs"])
    wrong_calib = f.path("wrong_calib.npy")
    np.save(wrong_calib, np.zeros((4, 3, 5), dtype=np.float32))
    f.expect_error("bad input: calibration samples of the wrong shape",
                   f.vta_run("compile", onnx_path, "-o", f.path("t.vtapkg"), "--calib", wrong_calib), needles=["wrong_calib.npy"])

    # Missing files: CLI11's ExistingFile check rejects them before the command runs, which the tool reports
    # as a usage error (exit 2, "File does not exist: PATH"). docs/cli.md says "1 on ... a missing file";
    # the test accepts both and names the status it saw.
    for name, args in (("run: missing package", ["run", f.path("nope.vtapkg"), "--input", x]),
                       ("run: missing input", ["run", pkg, "--input", f.path("nope.npy")]),
                       ("compile: missing ONNX model", ["compile", f.path("nope.onnx"), "-o", f.path("t.vtapkg")]),
                       ("compile: missing calibration file", ["compile", onnx_path, "-o", f.path("t.vtapkg"),
                                                              "--calib", f.path("nope_calib.npy")])):
        r = f.vta_run(*args)
        f.expect_error(f"bad input: {name}", r, want_rc=r[0] if r[0] in (1, 2) else 1, needles=["nope"])

    # usage errors: exit 2
    f.expect_error("bad input: unknown option", f.vta_run("run", pkg, "--input", x, "--no-such-option"), want_rc=2)
    f.expect_error("bad input: --emit of an unknown stage", f.vta_run("compile", onnx_path, "--emit", "bogus"), want_rc=2)
    f.expect_error("bad input: --target of an unknown backend", f.vta_run("run", pkg, "--input", x, "--target", "gpu"), want_rc=2)
    f.expect_error("bad input: run without --input", f.vta_run("run", pkg), want_rc=2)
    f.expect_error("bad input: compile with neither -o nor --emit", f.vta_run("compile", onnx_path, "--calib", c),
                   needles=["-o"])
    f.expect_error("bad input: compile a float model without --calib", f.vta_run("compile", onnx_path, "-o", f.path("t.vtapkg")),
                   needles=["calibration samples"])
    f.expect_error("bad input: --reference float on a package", f.vta_run("run", pkg, "--input", x, "--reference", "float"),
                   needles=["--reference float"])

    # flipped payload bytes (weights, micro-ops, instructions; the blobs after the JSON description, whose
    # bytes do not depend on compile times): a run completes or fails cleanly, never a crash
    json_len = struct.unpack_from("<Q", good, 16)[0]
    payload = 24 + json_len + 8
    crashes = []
    outcomes = {0: 0, 1: 0}
    for i in range(24):
        b = bytearray(good)
        at = int(rng.integers(payload, len(good)))
        b[at] ^= int(rng.integers(1, 256))
        rc, out, err = f.vta_run("run", write("flip.vtapkg", b), "--input", x, "--limit", 1, "-q", timeout=120)
        if rc in (0, 1) and (rc == 0 or err.startswith("vta: error:")):
            outcomes[rc] += 1
        else:
            crashes.append(f"byte {at}: exit {rc}: {err[:300]}")
    f.check(not crashes, "bad input: 24 packages with one flipped payload byte run or fail cleanly",
            f"{outcomes[0]} ran, {outcomes[1]} clean errors" + ("".join("\n  " + c for c in crashes)))


# ---------------------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vta", required=True, help="the vta binary")
    ap.add_argument("--repo", required=True, help="the source tree (scripts/models, models, config)")
    ap.add_argument("--work-dir", required=True, help="scratch directory (emptied first)")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    ap.add_argument("--keep", action="store_true", help="keep the large ResNet-18 files")
    a = ap.parse_args()

    if os.path.isdir(a.work_dir):
        shutil.rmtree(a.work_dir)
    os.makedirs(a.work_dir)
    f = Flow(os.path.abspath(a.vta), os.path.abspath(a.repo), os.path.abspath(a.work_dir))
    f.keep = a.keep
    rc, out, _ = f.vta_run("run", "--help")
    f.has_tsim = rc == 0 and "tsim" in out
    if not f.has_tsim:
        print("note: this vta has no tsim target: the tsim checks are skipped")

    t0 = time.monotonic()
    for name in a.only or SECTIONS:
        print(f"\n=== {name} ===", flush=True)
        s0 = time.monotonic()
        try:
            globals()[name](f)
        except Exception as e:  # a bug in this script or an unexpected tool output: report, go on
            f.check(False, f"{name}: the section raised {type(e).__name__}: {e}")
        print(f"--- {name}: {time.monotonic() - s0:.1f} s", flush=True)

    print(f"\n{len(f.passed)} passed, {len(f.failed)} failed in {time.monotonic() - t0:.1f} s")
    for line in f.failed:
        print("  " + line.splitlines()[0])
    return 1 if f.failed else 0


if __name__ == "__main__":
    sys.exit(main())
