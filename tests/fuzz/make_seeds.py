#!/usr/bin/python3
"""Writes the committed seed corpora of the fuzz harnesses (tests/fuzz/corpus/<harness>) from the
repository's fixtures: config/*.json, the Apache VTA recording tests/data/conformance/tvm-vta-fsim/tiny.T1
and its .npy files, and tiny ONNX models built here with the onnx package. The package seeds come from
`vta compile` of those models (pass --vta BUILD/tools/vta/vta). Run from anywhere; rewrites the seeds."""
import argparse
import json
import pathlib
import struct
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
TINY = ROOT / "tests" / "data" / "conformance" / "tvm-vta-fsim" / "tiny.T1"
CONFIGS = sorted((ROOT / "config").glob("*.json"))
DEFAULT_INDEX = [c.name for c in CONFIGS].index("default.json")
FINISH = bytes([3]) + bytes(15)


def put(harness, name, data):
    d = CORPUS / harness
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def dram_regions(path):
    data = path.read_bytes()
    count = struct.unpack_from("<I", data, 8)[0]
    pos, regions = 16, []
    for _ in range(count):
        addr, size = struct.unpack_from("<QQ", data, pos)
        regions.append((addr, data[pos + 16:pos + 16 + size]))
        pos += 16 + size
    return regions


def vtadram(regions):
    out = b"VTADRAM1" + struct.pack("<II", len(regions), 0)
    for addr, payload in regions:
        out += struct.pack("<QQ", addr, len(payload)) + payload
    return out


def tiny_meta():
    meta = dict(line.split("=", 1) for line in (TINY / "run000.meta.txt").read_text().split())
    return int(meta["insn_phy_addr"], 16), int(meta["insn_count"])


def seeds_isa_decode():
    insns = (TINY / "run000.insn.bin").read_bytes()
    put("isa_decode", "tiny_t1_first64", bytes([DEFAULT_INDEX]) + insns[:64 * 16])
    put("isa_decode", "tiny_t1_last16", bytes([DEFAULT_INDEX]) + insns[-16 * 16:])
    for i, c in enumerate(CONFIGS):
        put("isa_decode", f"{c.stem}_sample", bytes([i]) + insns[16 * 100:16 * 132])


def seeds_config():
    for c in CONFIGS:
        put("config", c.name, c.read_text())
    base = json.loads((ROOT / "config" / "default.json").read_text())
    split = {k: v for k, v in base.items() if k != "LOG_BLOCK"}
    split.update(LOG_BLOCK_IN=4, LOG_BLOCK_OUT=4, LOG_OUT_WIDTH=3, LOG_OUT_BUFF_SIZE=15)
    put("config", "split_block.json", json.dumps(split))
    timed = dict(base, timing={"clock_mhz": 250.5, "dram_latency_cycles": 32, "dram_bytes_per_cycle": 16})
    put("config", "timing.json", json.dumps(timed, indent=1))
    put("config", "bad_key.json", json.dumps(dict(base, LOG_BLOK=4)))


def seeds_dram_image():
    put("dram_image", "tiny_t1_pre.bin", (TINY / "run000.dram_pre.bin").read_bytes())
    put("dram_image", "two_regions.bin", vtadram([(0x1000, bytes(range(16))), (0x2000, b"\xff" * 8)]))
    put("dram_image", "empty.bin", vtadram([]))


def seeds_npy():
    for f in sorted(TINY.glob("*.npy")):
        if f.stat().st_size <= 4096:
            put("npy", f.name, f.read_bytes())
    import numpy as np
    with tempfile.TemporaryDirectory() as tmp:
        arrays = {
            "f32_2x3.npy": np.arange(6, dtype=np.float32).reshape(2, 3),
            "i32_scalar.npy": np.array(7, dtype=np.int32),
            "u8_empty.npy": np.zeros((0, 4), dtype=np.uint8),
        }
        for name, a in arrays.items():
            np.save(f"{tmp}/{name}", a)
            put("npy", name, pathlib.Path(f"{tmp}/{name}").read_bytes())
        np.lib.format.write_array(open(f"{tmp}/v2.npy", "wb"), np.ones((2, 2), np.int8), version=(2, 0))
        put("npy", "i8_v2.npy", pathlib.Path(f"{tmp}/v2.npy").read_bytes())


def trace_input(manifest, files):
    out = json.dumps(manifest, indent=1).encode()
    for name, payload in files.items():
        out += b"\n--file " + name.encode() + b"\n" + payload
    return out


def seeds_trace():
    config = json.loads((ROOT / "config" / "default.json").read_text())
    insn_addr, count = tiny_meta()
    pre, post = dram_regions(TINY / "run000.dram_pre.bin"), dram_regions(TINY / "run000.dram_post.bin")
    regions, files = [], {}
    for (addr, before), (_, after) in zip(pre, post):
        name = f"dram_{addr:08x}"
        files[name + ".bin"], files[name + ".expected.bin"] = before, after
        regions.append({"name": name, "address": addr, "size": len(before), "file": name + ".bin", "dump": True,
                        "expected": name + ".expected.bin"})
    insns = (TINY / "run000.insn.bin").read_bytes()
    files["instructions.bin"] = insns
    regions.append({"name": "instructions", "address": insn_addr, "size": len(insns), "file": "instructions.bin"})
    stats = json.loads((TINY / "meta.json").read_text()).get("stats", {})
    manifest = {"format": "vta-trace", "version": 1, "config": config,
                "instructions": {"address": insn_addr, "count": count}, "regions": regions,
                "expected_counters": {k: v for k, v in stats.items() if k != "cycle_count"}}
    put("trace", "tiny_t1", trace_input(manifest, files))
    finish = {"format": "vta-trace", "version": 1, "config": config,
              "instructions": {"address": "0x1000", "count": 1},
              "regions": [{"name": "insn", "address": 4096, "size": 16, "file": "insn.bin", "comment": "FINISH"}]}
    put("trace", "finish_only", trace_input(finish, {"insn.bin": FINISH}))
    deadlock = dict(finish, regions=[dict(finish["regions"][0], size=32)], instructions={"address": 4096, "count": 2})
    put("trace", "deadlock", trace_input(deadlock, {"insn.bin": bytes([0x0a]) + bytes(15) + FINISH}))


def seeds_vta_recording():
    """The recording tiny.T1 as `vta import` reads it, whole and without its optional meta.json."""
    files = {n: (TINY / n).read_bytes() for n in ("run000.insn.bin", "run000.dram_pre.bin", "run000.dram_post.bin")}
    meta = (TINY / "run000.meta.txt").read_bytes()
    body = b"".join(b"\n--file " + n.encode() + b"\n" + d for n, d in files.items())
    put("vta_recording", "tiny_t1", meta + body + b"\n--file meta.json\n" + (TINY / "meta.json").read_bytes())
    put("vta_recording", "tiny_t1_no_meta_json", meta + body)


def fsim_input(config_index, flags, insns, data_address, data):
    return struct.pack("<BBHI", config_index, flags, len(insns) // 16, data_address) + insns + data


def seeds_fsim_program():
    insn_addr, count = tiny_meta()
    insns = (TINY / "run000.insn.bin").read_bytes()
    pre = dram_regions(TINY / "run000.dram_pre.bin")
    base, end = pre[0][0], pre[-1][0] + len(pre[-1][1])
    flat = bytearray(end - base)
    for addr, payload in pre:
        flat[addr - base:addr - base + len(payload)] = payload
    put("fsim_program", "tiny_t1_differential", fsim_input(DEFAULT_INDEX, 3, insns, base, bytes(flat)))
    put("fsim_program", "tiny_t1_fast", fsim_input(DEFAULT_INDEX, 0, insns, base, bytes(flat)))
    put("fsim_program", "finish_only", fsim_input(DEFAULT_INDEX, 1, FINISH, 0, b""))
    # GEMM pop_prev with no producer: a deadlock; GEMM push_next never popped: a leftover token.
    put("fsim_program", "deadlock", fsim_input(DEFAULT_INDEX, 1, bytes([0x0a]) + bytes(15) + FINISH, 0, b""))
    put("fsim_program", "leftover_token", fsim_input(DEFAULT_INDEX, 1, bytes([0x42]) + bytes(15) + FINISH, 0, b""))


def onnx_models():
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)

    def model(nodes, inputs, outputs, inits, name):
        g = helper.make_graph(nodes, name, inputs, outputs, [numpy_helper.from_array(v, k) for k, v in inits.items()])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m

    cnn = model(
        [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["r"]),
         helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("Flatten", ["p"], ["f"]), helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1)],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        {"w": rng.normal(0, 0.2, (16, 16, 3, 3)).astype(np.float32), "b": np.zeros(16, np.float32),
         "fw": rng.normal(0, 0.2, (4, 64)).astype(np.float32), "fb": np.zeros(4, np.float32)}, "tiny_cnn")
    mlp = model(
        [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["a"]),
         helper.make_node("Softmax", ["a"], ["y"], axis=1)],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
        {"w": rng.normal(0, 0.3, (8, 4)).astype(np.float32), "b": np.ones(4, np.float32)}, "tiny_mlp")
    shape = model(
        [helper.make_node("Constant", [], ["s"], value=numpy_helper.from_array(np.array([1, 8], np.int64))),
         helper.make_node("Reshape", ["x", "s"], ["r"]), helper.make_node("Unsqueeze", ["r", "ax"], ["r4"]),
         helper.make_node("BatchNormalization", ["r4", "g", "bb", "mu", "var"], ["y"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 1, 1])],
        {"ax": np.array([2, 3], np.int64), "g": np.ones(8, np.float32), "bb": np.zeros(8, np.float32),
         "mu": np.zeros(8, np.float32), "var": np.ones(8, np.float32)}, "tiny_shape")
    return {"tiny_cnn": cnn, "tiny_mlp": mlp, "tiny_shape": shape}


def seeds_onnx_and_package(vta):
    models = onnx_models()
    for name, m in models.items():
        put("onnx", name + ".onnx", m.SerializeToString())
    if not vta:
        return
    import numpy as np
    calib_shapes = {"tiny_cnn": (4, 16, 4, 4), "tiny_mlp": (4, 8)}
    with tempfile.TemporaryDirectory() as tmp:
        for name, shape in calib_shapes.items():
            src = pathlib.Path(tmp) / (name + ".onnx")
            src.write_bytes(models[name].SerializeToString())
            calib = pathlib.Path(tmp) / (name + "_calib.npy")
            np.save(calib, np.random.default_rng(1).normal(0, 1, shape).astype(np.float32))
            out = pathlib.Path(tmp) / (name + ".vtapkg")
            subprocess.run([vta, "compile", str(src), "--calib", str(calib), "-o", str(out)], check=True,
                           stdout=subprocess.DEVNULL)
            put("package", name + ".vtapkg", out.read_bytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vta", help="the vta binary, for the package seeds (left unchanged without it)")
    args = ap.parse_args()
    seeds_isa_decode()
    seeds_config()
    seeds_dram_image()
    seeds_npy()
    seeds_trace()
    seeds_fsim_program()
    seeds_vta_recording()
    seeds_onnx_and_package(args.vta)


if __name__ == "__main__":
    main()
