#!/usr/bin/env python3
"""Resolves one board + one hardware config into the settings the FPGA flows run with.

    hardware/fpga/flow.py configure BOARD --config CONFIG.json --pkg vta_pkg.sv --out OUT_DIR
                          [--mem-port KEY] [--reg-port KEY] [--clock-mhz F] [--jobs N]
    hardware/fpga/flow.py boards          # the boards and their flows

`configure` writes into OUT_DIR:
  settings.tcl      the `vta(...)` array every Tcl script of the flow reads (vivado/util.tcl)
  build_info.json   what the host needs to know of the build (register base, port, clock, config hash)
  link.cfg          Alveo only: vitis/link.cfg with its @FIELDS@ filled in
  vitis_route_hook.tcl   Alveo only: the post-route timing check v++ runs (--linkhook.do_last)
and prints `key=value` lines (flow, family, ...) for build.sh.

One place decides the core's parameters: BUS_W from the config's LOG_BUS_WIDTH (Apache VTA's key, 6 = 64
bits when absent; vta-rtlgen does not put it in vta_pkg), ADDR_W from the memory port's address width,
AxCACHE/AxPROT from whether that port is coherent. The checks (check_flows.py) import this module.
"""
import argparse
import json
import os
import re
import sys

FPGA_DIR = os.path.dirname(os.path.abspath(__file__))
HW_DIR = os.path.dirname(FPGA_DIR)
RTL_DIR = os.path.join(HW_DIR, "rtl")
BOARDS_JSON = os.path.join(FPGA_DIR, "boards.json")
TOP_RTL = os.path.join(FPGA_DIR, "rtl", "vta_accel.v")
LINK_CFG_TEMPLATE = os.path.join(FPGA_DIR, "vitis", "link.cfg")
TIMING_CHECK_TCL = os.path.join(FPGA_DIR, "vivado", "timing_check.tcl")
MIN_VIVADO = "2022.2"
TIMING_MAX_PATHS = 10


class FlowError(Exception):
    pass


def load_boards(path=BOARDS_JSON):
    with open(path) as f:
        return json.load(f)


# ----------------------------------------------------------------------------------------- the config
def read_config(path):
    """The config's keys and what the RTL derives from them (the rules of isa/src/hw_config.cpp)."""
    with open(path) as f:
        j = json.load(f)

    def log(key, default=None):
        v = j.get(key, default)
        if not isinstance(v, int):
            raise FlowError(f"{path}: {key} missing or not an integer")
        return v

    c = {"path": os.path.abspath(path), "json": j}
    c["log_inp_width"], c["log_wgt_width"], c["log_acc_width"] = (log("LOG_INP_WIDTH"), log("LOG_WGT_WIDTH"),
                                                                 log("LOG_ACC_WIDTH"))
    c["log_batch"] = log("LOG_BATCH")
    if "LOG_BLOCK" in j:
        c["log_block_in"] = c["log_block_out"] = log("LOG_BLOCK")
    else:
        c["log_block_in"], c["log_block_out"] = log("LOG_BLOCK_IN"), log("LOG_BLOCK_OUT")
    for b in ("UOP", "INP", "WGT", "ACC"):
        c[f"log_{b.lower()}_buff_size"] = log(f"LOG_{b}_BUFF_SIZE")
    c["log_bus_width"] = log("LOG_BUS_WIDTH", 6)
    inp, wgt, acc = 1 << c["log_inp_width"], 1 << c["log_wgt_width"], 1 << c["log_acc_width"]
    batch, bin_, bout = 1 << c["log_batch"], 1 << c["log_block_in"], 1 << c["log_block_out"]
    elem_bits = {"UOP": 32, "INP": inp * batch * bin_, "WGT": wgt * bout * bin_, "ACC": acc * batch * bout}
    params = {"INP_WIDTH": inp, "WGT_WIDTH": wgt, "ACC_WIDTH": acc, "OUT_WIDTH": inp, "BATCH": batch,
              "BLOCK_IN": bin_, "BLOCK_OUT": bout, "LOG_BATCH": c["log_batch"],
              "LOG_BLOCK_IN": c["log_block_in"], "LOG_BLOCK_OUT": c["log_block_out"]}
    for b, bits in elem_bits.items():
        depth = (8 << c[f"log_{b.lower()}_buff_size"]) // bits
        params.update({f"{b}_ELEM_BITS": bits, f"{b}_ELEM_BYTES": bits // 8, f"{b}_DEPTH": depth,
                       f"LOG_{b}_DEPTH": depth.bit_length() - 1})
    params.update({"OUT_ELEM_BITS": inp * batch * bout, "OUT_ELEM_BYTES": inp * batch * bout // 8,
                   "OUT_DEPTH": params["ACC_DEPTH"], "LOG_OUT_DEPTH": params["LOG_ACC_DEPTH"]})
    c["params"] = params
    shape = f"{batch}x{bin_}" if bin_ == bout else f"{batch}x{bin_}x{bout}"
    c["name"] = (f"{shape}_i{inp}w{wgt}a{acc}_{c['log_uop_buff_size']}_{c['log_inp_buff_size']}_"
                 f"{c['log_wgt_buff_size']}_{c['log_acc_buff_size']}")
    c["hash"] = config_hash(c)
    c["bus_w"] = 1 << c["log_bus_width"]
    return c


def config_hash(c):
    """HwConfig::hash(): FNV-1a of the sorted, compact JSON of the hardware keys (no TARGET, no timing)."""
    j = {"HW_VER": c["json"].get("HW_VER", "0.0.2"), "LOG_INP_WIDTH": c["log_inp_width"],
         "LOG_WGT_WIDTH": c["log_wgt_width"], "LOG_ACC_WIDTH": c["log_acc_width"], "LOG_BATCH": c["log_batch"],
         "LOG_UOP_BUFF_SIZE": c["log_uop_buff_size"], "LOG_INP_BUFF_SIZE": c["log_inp_buff_size"],
         "LOG_WGT_BUFF_SIZE": c["log_wgt_buff_size"], "LOG_ACC_BUFF_SIZE": c["log_acc_buff_size"]}
    if c["log_block_in"] == c["log_block_out"]:
        j["LOG_BLOCK"] = c["log_block_in"]
    else:
        j["LOG_BLOCK_IN"], j["LOG_BLOCK_OUT"] = c["log_block_in"], c["log_block_out"]
    h = 1469598103934665603
    for ch in json.dumps(j, sort_keys=True, separators=(",", ":")).encode():
        h = ((h ^ ch) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def read_pkg(path):
    """The localparams of a generated vta_pkg.sv (integers only) and its header's config name and hash."""
    with open(path) as f:
        text = f.read()
    params = {}
    for m in re.finditer(r"localparam\s+(?:int unsigned|logic\s*\[[^\]]*\])\s+(\w+)\s*=\s*([^;]+);", text):
        v = m.group(2).strip()
        lit = re.fullmatch(r"(\d+)?'([dhb])([0-9a-fA-F_]+)", v)
        if lit:
            params[m.group(1)] = int(lit.group(3).replace("_", ""), {"d": 10, "h": 16, "b": 2}[lit.group(2)])
        elif v.isdigit():
            params[m.group(1)] = int(v)
    m = re.search(r"^// config (\S+), hash ([0-9a-f]+)", text, re.M)
    return {"params": params, "name": m.group(1) if m else None, "hash": m.group(2) if m else None}


def rtl_files(pkg):
    """Synthesis sources in compile order: the generated package, vta_hw_pkg, the modules, the FPGA top
    (the order of hardware/scripts/synth.sh)."""
    mods = sorted(f for f in os.listdir(RTL_DIR) if f.endswith(".sv") and not f.endswith("_pkg.sv"))
    return ([os.path.abspath(pkg), os.path.join(RTL_DIR, "vta_hw_pkg.sv")] +
            [os.path.join(RTL_DIR, f) for f in mods] + [TOP_RTL])


# ----------------------------------------------------------------------------------------- board + config
def _pick(board_name, ports, key, what):
    if key is None:
        key = next(iter(ports))
    if key not in ports:
        raise FlowError(f"board {board_name} has no {what} '{key}' (has: {', '.join(ports)})")
    return key, ports[key]


def resolve(board_name, config_path, pkg_path, out_dir, mem_port=None, reg_port=None, clock_mhz=None,
            jobs=None, boards=None):
    boards = boards or load_boards()
    if board_name not in boards["boards"]:
        raise FlowError(f"unknown board '{board_name}'; known: {', '.join(boards['boards'])}")
    b = boards["boards"][board_name]
    cfg = read_config(config_path)
    mem_key, mem = _pick(board_name, b["mem_ports"], mem_port, "memory port")
    reg_key, reg = _pick(board_name, b["reg_ports"], reg_port, "register port")
    bus_w = cfg["bus_w"]
    if bus_w not in boards["core"]["bus_widths"]:
        raise FlowError(f"{config_path}: LOG_BUS_WIDTH {cfg['log_bus_width']} gives a {bus_w}-bit bus; the core "
                        f"supports {boards['core']['bus_widths']}")
    if bus_w > mem["max_data_width"]:
        raise FlowError(f"{board_name}: {mem['port']} is at most {mem['max_data_width']} bits wide, the config asks "
                        f"for a {bus_w}-bit bus")
    clock = float(clock_mhz) if clock_mhz else float(b["clock_mhz"])
    if not 10.0 <= clock <= 500.0:
        raise FlowError(f"clock {clock} MHz out of range")
    coherent = bool(mem["coherent"])
    out = os.path.abspath(out_dir)
    top = boards["core"]["top"]
    s = {
        "board": board_name, "family": b["family"], "flow": b["flow"], "part": b["part"],
        "board_part": b.get("board_part", ""), "board_connections": b.get("board_connections", ""),
        "platform": b.get("platform", ""), "ps_ip": b.get("ps_ip", ""), "pl_clock": b.get("pl_clock", ""),
        "irq": b.get("irq", ""), "clock_mhz": clock,
        "mem_port": mem_key, "mem_port_name": mem["port"], "coherent": int(coherent),
        "mem_bank": mem.get("bank", ""), "kernel_clock_id": b.get("kernel_clock_id", 0),
        "reg_port": reg_key, "reg_port_name": reg["port"], "reg_base": reg.get("base", ""), "reg_range": reg["range"],
        "bus_w": bus_w, "addr_w": mem["addr_width"],
        # coherent: write-back read/write-allocate (AxCACHE[1] modifiable); else normal non-cacheable bufferable
        "axi_cache": 15 if coherent else 3,
        # ZynqMP: non-secure data accesses (Apache VTA uses 3'b010 on its UltraScale+ targets)
        "axi_prot": 2 if b["family"] == "zynqmp" else 0,
        "top": top, "kernel_name": top, "cu_name": f"{top}_1",
        "ip_vendor": "user.org", "ip_library": "vta", "ip_version": "1.0",
        "ip_vlnv": f"user.org:vta:{top}:1.0",
        "config_json": cfg["path"], "config_name": cfg["name"], "config_hash": cfg["hash"],
        "pkg": os.path.abspath(pkg_path), "rtl_files": rtl_files(pkg_path),
        "fpga_dir": FPGA_DIR, "out_dir": out, "ip_dir": os.path.join(out, "ip"),
        "reports_dir": os.path.join(out, "reports"), "xo_path": os.path.join(out, "vta.xo"),
        "bd_name": "vta_bd", "project_name": f"vta_{board_name.replace('-', '_')}",
        "jobs": int(jobs or os.environ.get("VTA_FPGA_JOBS") or os.cpu_count() or 1),
        "min_vivado": MIN_VIVADO, "timing_max_paths": TIMING_MAX_PATHS,
    }
    return s, cfg


# ----------------------------------------------------------------------------------------- writers
def tcl_word(v):
    """One Tcl word holding v literally (braces unless the text would unbalance them)."""
    if isinstance(v, (list, tuple)):
        return "{" + " ".join(tcl_word(x) for x in v) + "}" if v else "{}"
    s = v if isinstance(v, str) else (f"{v:g}" if isinstance(v, float) else str(v))
    if s and not re.search(r"[{}\\\s;$\[\]\"]", s):
        return s
    if "\\" not in s and s.count("{") == s.count("}") and "}" not in s.split("{")[0]:
        return "{" + s + "}"
    return '"' + re.sub(r'([\\$\[\]"{}])', r"\\\1", s) + '"'


def write_settings_tcl(s, path):
    lines = ["# Generated by hardware/fpga/flow.py; the Tcl flows read it (vivado/util.tcl: vta_load_settings).",
             "# Do not edit: rerun hardware/fpga/build.sh."]
    lines += [f"set vta({k}) {tcl_word(s[k])}" for k in sorted(s)]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def fill_template(text, fields):
    unknown = sorted(set(re.findall(r"@(\w+)@", text)) - set(fields))
    if unknown:
        raise FlowError(f"template fields nobody fills: {unknown}")
    return re.sub(r"@(\w+)@", lambda m: str(fields[m.group(1)]), text)


def link_cfg_fields(s):
    return {"KERNEL": s["kernel_name"], "CU": s["cu_name"], "MEM_PORT": s["mem_port_name"],
            "MEM_BANK": s["mem_bank"]}


def write_link_cfg(s, path):
    with open(LINK_CFG_TEMPLATE) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(fill_template(text, link_cfg_fields(s)))


def write_route_hook(s, path):
    # v++ runs the hook inside its own Vivado implementation run: absolute paths only.
    text = ("# Generated by hardware/fpga/flow.py: v++ runs it after route_design (--linkhook.do_last).\n"
            f"source {tcl_word(TIMING_CHECK_TCL)}\n"
            f"if {{![vta_check_timing {tcl_word(s['reports_dir'])} {s['timing_max_paths']}]}} {{\n"
            "  error \"VTA: timing not met after routing (see the failing paths above); no xclbin\"\n"
            "}\n")
    with open(path, "w") as f:
        f.write(text)


def build_info(s):
    keys = ("board", "family", "flow", "part", "platform", "clock_mhz", "mem_port_name", "coherent", "mem_bank",
            "reg_port_name", "reg_base", "reg_range", "bus_w", "addr_w", "axi_cache", "axi_prot", "kernel_name",
            "cu_name", "config_json", "config_name", "config_hash")
    return {k: s[k] for k in keys}


def configure(s, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    write_settings_tcl(s, os.path.join(out_dir, "settings.tcl"))
    with open(os.path.join(out_dir, "build_info.json"), "w") as f:
        json.dump(build_info(s), f, indent=2)
        f.write("\n")
    if s["flow"] == "vitis":
        write_link_cfg(s, os.path.join(out_dir, "link.cfg"))
        write_route_hook(s, os.path.join(out_dir, "vitis_route_hook.tcl"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("configure")
    c.add_argument("board")
    c.add_argument("--config", required=True)
    c.add_argument("--pkg", required=True, help="the vta_pkg.sv vta-rtlgen wrote for --config")
    c.add_argument("--out", required=True)
    c.add_argument("--mem-port")
    c.add_argument("--reg-port")
    c.add_argument("--clock-mhz", type=float)
    c.add_argument("--jobs", type=int)
    sub.add_parser("boards")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "boards":
            for name, b in load_boards()["boards"].items():
                print(f"{name:12} {b['flow']:6} {b['part']:22} {b['clock_mhz']:>5g} MHz  {b['description']}")
            return 0
        s, cfg = resolve(args.board, args.config, args.pkg, args.out, args.mem_port, args.reg_port,
                         args.clock_mhz, args.jobs)
        pkg = read_pkg(args.pkg)
        if pkg["hash"] != cfg["hash"]:
            raise FlowError(f"{args.pkg} was generated for config hash {pkg['hash']}, {args.config} has {cfg['hash']}")
        configure(s, args.out)
    except (FlowError, OSError, ValueError) as e:
        print(f"flow.py: error: {e}", file=sys.stderr)
        return 1
    for k in ("flow", "family", "part", "platform", "clock_mhz", "mem_port_name", "mem_bank", "reg_port_name",
              "bus_w", "addr_w", "config_name", "config_hash", "kernel_clock_id", "kernel_name", "xo_path"):
        print(f"{k}={s[k]:g}" if isinstance(s[k], float) else f"{k}={s[k]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
