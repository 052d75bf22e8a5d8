#!/usr/bin/python3
"""Independent cross-check of the VTA stack against NumPy.

Assembles a small GEMM + ALU program by hand from Apache VTA 0.0.2's published bit layout at the default
config (explicit shift/mask packing of Python integers; nothing from this repository is imported), writes
it as a trace directory, runs `vta exec --dump`, and compares the dumped output and the counters with a
NumPy computation of the same layer:

    out = min(max(((A @ B + bias) * MUL) >> SHIFT, LOW), 127)    as int8

The program exercises LOAD with padding, micro-op loads, GEMM with reset and with a two-level affine loop,
an ACC load, ALU ADD with a second operand, ALU MUL/SHR/MAX/MIN with immediates, STORE, and the four
dependency-token queues (every token pushed is popped, so the queues end empty).

Usage: numpy_check.py --vta PATH/TO/vta [--work-dir DIR] [--seed N]
Exit status 0 when everything matches, 1 otherwise.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

# ---------------------------------------------------------------------------------------------------
# Default config (1x16_i8w8a32_15_15_18_17) and its geometry.
CONFIG = {
    "TARGET": "sim",
    "HW_VER": "0.0.2",
    "LOG_INP_WIDTH": 3,
    "LOG_WGT_WIDTH": 3,
    "LOG_ACC_WIDTH": 5,
    "LOG_BATCH": 0,
    "LOG_BLOCK": 4,
    "LOG_UOP_BUFF_SIZE": 15,
    "LOG_INP_BUFF_SIZE": 15,
    "LOG_WGT_BUFF_SIZE": 18,
    "LOG_ACC_BUFF_SIZE": 17,
}
BLOCK = 16
ELEM_BYTES = {"uop": 4, "inp": 16, "wgt": 256, "acc": 64, "out": 16}

OP_LOAD, OP_STORE, OP_GEMM, OP_FINISH, OP_ALU = 0, 1, 2, 3, 4
MEM_UOP, MEM_WGT, MEM_INP, MEM_ACC, MEM_OUT = 0, 1, 2, 3, 4
ALU_MIN, ALU_MAX, ALU_ADD, ALU_SHR, ALU_MUL = 0, 1, 2, 3, 4

# Field positions (least significant bit, width) in the 128-bit instruction, as published for VTA 0.0.2 at
# the default config. Bit 0 is the LSB of byte 0 of the little-endian 16-byte word.
COMMON = {"opcode": (0, 3), "pop_prev": (3, 1), "pop_next": (4, 1), "push_prev": (5, 1), "push_next": (6, 1)}
MEM_FIELDS = dict(COMMON, **{
    "memory_type": (7, 3), "sram_base": (10, 16), "dram_base": (26, 32),
    "y_size": (64, 16), "x_size": (80, 16), "x_stride": (96, 16),
    "y_pad_0": (112, 4), "y_pad_1": (116, 4), "x_pad_0": (120, 4), "x_pad_1": (124, 4),
})
LOOP_FIELDS = dict(COMMON, **{
    "reset": (7, 1), "uop_bgn": (8, 13), "uop_end": (21, 14), "iter_out": (35, 14), "iter_in": (49, 14),
    "dst_factor_out": (64, 11), "dst_factor_in": (75, 11),
})
GEMM_FIELDS = dict(LOOP_FIELDS, **{
    "src_factor_out": (86, 11), "src_factor_in": (97, 11), "wgt_factor_out": (108, 10), "wgt_factor_in": (118, 10),
})
ALU_FIELDS = dict(LOOP_FIELDS, **{
    "src_factor_out": (86, 11), "src_factor_in": (97, 11),
    "alu_opcode": (108, 3), "use_imm": (111, 1), "imm": (112, 16),
})
FINISH_FIELDS = dict(COMMON)
# Micro-op: dst (acc index bits), src (max(acc, inp) index bits), wgt (wgt index bits).
UOP_FIELDS = {"dst": (0, 11), "src": (11, 11), "wgt": (22, 10)}


def pack(layout, values, total_bits):
    """Packs named field values into an integer with explicit shifts and masks."""
    word = 0
    for name, value in values.items():
        lsb, width = layout[name]
        mask = (1 << width) - 1
        if name == "imm":
            value &= mask  # two's complement of the signed immediate
        if value < 0 or value > mask:
            raise ValueError(f"{name}={value} does not fit in {width} bits")
        word |= (value & mask) << lsb
    assert word < (1 << total_bits)
    return word


def insn_bytes(word):
    return word.to_bytes(16, "little")


def mem(opcode, memory_type, sram, dram, y, x, stride, pads=(0, 0, 0, 0), **deps):
    fields = {"opcode": opcode, "memory_type": memory_type, "sram_base": sram, "dram_base": dram,
              "y_size": y, "x_size": x, "x_stride": stride,
              "y_pad_0": pads[0], "y_pad_1": pads[1], "x_pad_0": pads[2], "x_pad_1": pads[3]}
    fields.update(deps)
    return pack(MEM_FIELDS, fields, 128)


def gemm(uop_bgn, uop_end, iters, dst_f, src_f, wgt_f, reset=0, **deps):
    fields = {"opcode": OP_GEMM, "reset": reset, "uop_bgn": uop_bgn, "uop_end": uop_end,
              "iter_out": iters[0], "iter_in": iters[1],
              "dst_factor_out": dst_f[0], "dst_factor_in": dst_f[1],
              "src_factor_out": src_f[0], "src_factor_in": src_f[1],
              "wgt_factor_out": wgt_f[0], "wgt_factor_in": wgt_f[1]}
    fields.update(deps)
    return pack(GEMM_FIELDS, fields, 128)


def alu(op, uop_bgn, uop_end, iters, dst_f, src_f, imm=None, **deps):
    fields = {"opcode": OP_ALU, "uop_bgn": uop_bgn, "uop_end": uop_end,
              "iter_out": iters[0], "iter_in": iters[1],
              "dst_factor_out": dst_f[0], "dst_factor_in": dst_f[1],
              "src_factor_out": src_f[0], "src_factor_in": src_f[1],
              "alu_opcode": op, "use_imm": 0 if imm is None else 1, "imm": 0 if imm is None else imm}
    fields.update(deps)
    return pack(ALU_FIELDS, fields, 128)


def finish():
    return pack(FINISH_FIELDS, {"opcode": OP_FINISH}, 128)


def uop(dst, src, wgt=0):
    return pack(UOP_FIELDS, {"dst": dst, "src": src, "wgt": wgt}, 32)


# ---------------------------------------------------------------------------------------------------
def build(rng):
    """Returns (regions {name: (address, bytes, dump)}, insn address, insn count, expected out, counters)."""
    M, KB, NB = 8, 2, 2  # 8 rows (batch 1), K = 32, N = 32
    K, N = KB * BLOCK, NB * BLOCK
    MUL, SHIFT, LOW = 3, 11, -64

    a = rng.integers(-128, 128, size=(M, K), dtype=np.int64)
    b = rng.integers(-128, 128, size=(K, N), dtype=np.int64)
    bias = rng.integers(-3000, 3000, size=(N,), dtype=np.int64)

    # NumPy reference with 32-bit wrapping accumulators.
    acc = (a @ b + bias[None, :]).astype(np.int32)
    acc = (acc.astype(np.int64) * MUL).astype(np.int32)
    acc = np.right_shift(acc, SHIFT)
    acc = np.minimum(np.maximum(acc, LOW), 127)
    expected = acc.astype(np.int8)

    # DRAM layout (addresses aligned to every element size).
    base = {"insn": 0x1000, "uop": 0x2000, "inp": 0x3000, "wgt": 0x4000, "acc": 0x8000, "out": 0x9000}

    # INP: [M][KB] elements of 16 int8.
    inp = a.reshape(M, KB, BLOCK).astype(np.int8)
    # WGT: [NB][KB] elements of 16x16, element[o][i] = B[k*16 + i][n*16 + o].
    wgt = b.reshape(KB, BLOCK, NB, BLOCK).transpose(2, 0, 3, 1).astype(np.int8)
    # ACC bias: NB elements of 16 int32.
    acc_bias = bias.reshape(NB, BLOCK).astype("<i4")

    # On-chip INP tile loaded with one zero row on top and one zero element at the end of each row:
    # row width 3, rows 9, so A[m][k] sits at index (m + 1) * 3 + k.
    ROW = KB + 1
    BIAS_ACC = 32  # bias at acc[32 + n]

    uops = [uop(n, ROW, n * KB) for n in range(NB)]          # GEMM: dst=n, src=row 1, wgt=n*KB
    uops += [uop(n, BIAS_ACC + n) for n in range(NB)]        # ALU:  dst=n, src=bias n
    n_uops = len(uops)

    insns = [
        # load module
        mem(OP_LOAD, MEM_INP, 0, base["inp"] // 16, M, KB, KB, pads=(1, 0, 0, 1)),
        mem(OP_LOAD, MEM_WGT, 0, base["wgt"] // 256, NB, KB, KB, push_next=1),
        # compute module
        mem(OP_LOAD, MEM_UOP, 0, base["uop"] // 4, 1, n_uops, n_uops),
        mem(OP_LOAD, MEM_ACC, BIAS_ACC, base["acc"] // 64, 1, NB, NB),
        gemm(0, NB, (M, 1), (NB, 0), (0, 0), (0, 0), reset=1),
        gemm(0, NB, (M, KB), (NB, 0), (ROW, 1), (0, 1), pop_prev=1),
        alu(ALU_ADD, NB, 2 * NB, (M, 1), (NB, 0), (0, 0)),
        alu(ALU_MUL, 0, NB, (M, 1), (NB, 0), (NB, 0), imm=MUL),
        alu(ALU_SHR, 0, NB, (M, 1), (NB, 0), (NB, 0), imm=SHIFT),
        alu(ALU_MAX, 0, NB, (M, 1), (NB, 0), (NB, 0), imm=LOW),
        alu(ALU_MIN, 0, NB, (M, 1), (NB, 0), (NB, 0), imm=127, push_next=1),
        # store module
        mem(OP_STORE, MEM_OUT, 0, base["out"] // 16, M, NB, NB, pop_prev=1, push_prev=1),
        # compute: wait for the store, then finish
        mem(OP_LOAD, MEM_UOP, 0, 0, 0, 0, 0, pop_next=1),
        finish(),
    ]

    regions = {
        "insn": (base["insn"], b"".join(insn_bytes(w) for w in insns), False),
        "uop": (base["uop"], b"".join(u.to_bytes(4, "little") for u in uops), False),
        "inp": (base["inp"], inp.tobytes(), False),
        "wgt": (base["wgt"], wgt.tobytes(), False),
        "acc": (base["acc"], acc_bias.tobytes(), False),
        "out": (base["out"], bytes(M * NB * ELEM_BYTES["out"]), True),
    }
    counters = {
        "inp_load_nbytes": M * KB * 16,     # padding not counted
        "wgt_load_nbytes": NB * KB * 256,
        "acc_load_nbytes": NB * 64,
        "uop_load_nbytes": n_uops * 4,
        "out_store_nbytes": M * NB * 16,
        "gemm_counter": M * KB * NB,         # the reset GEMM is not counted
        "alu_counter": 5 * M * NB,
        "load_insn_count": 2,
        "compute_insn_count": 11,           # the no-op and FINISH included
        "store_insn_count": 1,
    }
    return regions, base["insn"], len(insns), expected, counters


def write_trace(directory, regions, insn_address, insn_count):
    os.makedirs(directory, exist_ok=True)
    manifest_regions = []
    for name, (address, data, dump) in regions.items():
        with open(os.path.join(directory, name + ".bin"), "wb") as f:
            f.write(data)
        manifest_regions.append({"name": name, "address": address, "size": len(data),
                                 "file": name + ".bin", "dump": dump})
    manifest = {"format": "vta-trace", "version": 1, "config": CONFIG,
                "instructions": {"address": insn_address, "count": insn_count},
                "regions": manifest_regions}
    with open(os.path.join(directory, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vta", required=True, help="path of the built vta binary")
    parser.add_argument("--work-dir", help="where to write the trace and the dump (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--target", default="fsim")
    args = parser.parse_args()

    work = args.work_dir or tempfile.mkdtemp(prefix="vta-numpy-check-")
    trace_dir, dump_dir = os.path.join(work, "trace"), os.path.join(work, "dump")
    for stale in (trace_dir, dump_dir):  # only what this script writes
        shutil.rmtree(stale, ignore_errors=True)

    regions, insn_address, insn_count, expected, counters = build(np.random.default_rng(args.seed))
    write_trace(trace_dir, regions, insn_address, insn_count)

    failures = []
    dis = subprocess.run([args.vta, "disasm", trace_dir], capture_output=True, text=True)
    if dis.returncode != 0 or len(dis.stdout.splitlines()) != insn_count:
        failures.append(f"vta disasm failed (exit {dis.returncode}): {dis.stderr.strip()}")
    else:
        print(dis.stdout, end="")

    run = subprocess.run([args.vta, "exec", trace_dir, "--target", args.target, "--dump", dump_dir],
                         capture_output=True, text=True)
    print(run.stdout, end="")
    if run.returncode != 0:
        print(run.stderr, end="", file=sys.stderr)
        print(f"FAIL: vta exec exited with {run.returncode}; trace kept in {trace_dir}")
        return 1

    out = np.frombuffer(open(os.path.join(dump_dir, "out.bin"), "rb").read(), dtype=np.int8)
    out = out.reshape(expected.shape)
    if not np.array_equal(out, expected):
        bad = np.argwhere(out != expected)
        r, c = bad[0]
        failures.append(f"{len(bad)} of {out.size} outputs differ from NumPy; first at [{r}][{c}]: "
                        f"device {out[r, c]}, NumPy {expected[r, c]}")

    stats = json.load(open(os.path.join(dump_dir, "stats.json")))
    got = stats.get("counters", {})
    for name, want in counters.items():
        if got.get(name) != want:
            failures.append(f"counter {name}: device {got.get(name)}, expected {want}")

    if failures:
        for f in failures:
            print("FAIL:", f)
        print(f"trace and dump kept in {work}")
        return 1
    print(f"PASS: {out.size} outputs and {len(counters)} counters match NumPy "
          f"(saturated: {int(np.sum((expected == -64) | (expected == 127)))})")
    if not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
