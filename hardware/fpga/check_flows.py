#!/usr/bin/python3
"""Checks of the FPGA flows (hardware/fpga/) that run without Vivado or Vitis (ctest `fpga.flows`).

    hardware/fpga/check_flows.py --pkg <build>/hardware/gen/default/vta_pkg.sv [--rtlgen <vta-rtlgen>]
                                 [--board B ...] [--self-test] [--keep DIR]

a. Tcl: every script parses (`info complete`), then runs in tclsh with check_stubs.tcl standing in for
   the tools: every tool command is checked against its documented options, calls are recorded. Per
   board and memory/register port: the Vivado build passes (IP, block design, reports, bitstream, .hwh,
   .xsa in order) when timing is met, and stops with status 2 before any bitstream, naming the failing
   paths, when setup or hold slack is negative or nothing is constrained; a too-old Vivado is refused;
   missing board files leave the PS unpreset. Alveo: package_xo (user-managed kernel), the generated
   route hook (error on negative slack), link.cfg, and the post-link xclbin check on sample reports.
b. Files: the RTL list (every hardware/rtl/*.sv, the package first), the FPGA top, the lint waivers, the
   templates; build.sh end to end up to the missing tool (exit 3, package and settings prepared).
c. Parameters: every config's generated vta_pkg.sv (widths, shape, buffer depths, name, CONFIG_HASH)
   against its JSON; BUS_W / ADDR_W / AxCACHE / AxPROT the scripts pass (IP packager, block design, PS
   port width) against flow.py's; the FPGA top linted by Verilator at every parameter set (if installed).
d. boards.json: every board the flows promise, with every key its flow needs, ports the PS scripts know,
   register bases inside their port's window; docs/boards.md covers every board.
--self-test breaks copies of the scripts in known ways and requires these checks to catch each.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

FPGA_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(FPGA_DIR))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, FPGA_DIR)
import flow  # noqa: E402  (this directory's flow.py, also for a --self-test copy)

REQUIRED_BOARDS = ("pynq-z1", "pynq-z2", "ultra96-v2", "zcu104", "kv260", "alveo-u250", "alveo-u280")
PORT_ADDR_WIDTH = {"zynq7": 32, "zynqmp": 49, "alveo": 64}
PART_PREFIX = {"zynq7": ("xc7z",), "zynqmp": ("xczu", "xck26"), "alveo": ("xcu",)}
# Address windows of the PS master ports (UG585 / UG1085 address maps).
REG_WINDOWS = {"M_AXI_GP0": (0x40000000, 0x7FFFFFFF), "M_AXI_GP1": (0x80000000, 0xBFFFFFFF),
               "M_AXI_HPM0_FPD": (0xA0000000, 0xAFFFFFFF), "M_AXI_HPM1_FPD": (0xB0000000, 0xBFFFFFFF),
               "M_AXI_HPM0_LPD": (0x80000000, 0x9FFFFFFF)}
PS_PARAMS = {  # clock, memory-port width prefix: the checks read what the scripts set
    "zynq7": {"clock": "CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ"},
    "zynqmp": {"clock": "CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ"},
}
PASS = {"setup_slacks": [0.120, 0.9], "hold_slacks": [0.015]}


class Checks:
    def __init__(self, verbose=False):
        self.failures = []
        self.count = 0
        self.verbose = verbose

    def check(self, cond, what, detail=""):
        self.count += 1
        if not cond:
            self.failures.append(f"{what}{': ' + detail if detail else ''}")
            print(f"FAIL {what}{': ' + detail if detail else ''}")
        elif self.verbose:
            print(f"ok   {what}")
        return cond


# ----------------------------------------------------------------------------------------- helpers
def tclsh():
    t = shutil.which("tclsh") or "/usr/bin/tclsh"
    if not os.path.exists(t):
        sys.exit("check_flows: tclsh not found (Debian package `tcl`: apt-get install tcl)")
    return t


def tcl_word(s):
    return flow.tcl_word(s)


def wrapper_interface(path=flow.TOP_RTL):
    with open(path) as f:
        text = f.read()
    module = re.search(r"^\s*module\s+(\w+)", text, re.M).group(1)
    ports = re.findall(r"^\s*(?:input|output)\s+wire\s*(?:\[[^\]]*\])?\s*(\w+)", text, re.M)
    params = re.findall(r"parameter\s+integer\s+(\w+)", text)
    return module, ports, params


def run_stubbed(script, settings_path, out_dir, scenario, prelude=""):
    """Runs a flow script under the stand-ins; returns (result, message, stdout, calls)."""
    module, ports, params = wrapper_interface()
    log = os.path.join(out_dir, f"calls_{os.path.basename(script)}.jsonl")
    sc = " ".join(f"{k} {tcl_word([str(x) for x in v] if isinstance(v, list) else str(v))}"
                  for k, v in scenario.items())
    driver = f"""
source {tcl_word(os.path.join(FPGA_DIR, 'check_stubs.tcl'))}
set ::stub::wrapper_ports {tcl_word(ports)}
set ::stub::wrapper_params {tcl_word(params)}
set ::stub::scenario [dict merge $::stub::scenario [dict create {sc}]]
set ::argv [list {tcl_word(settings_path)}]
set ::argc 1
{prelude}
set result none
set message ""
if {{[catch {{source {tcl_word(script)}}} message opts]}} {{
  set ec [dict get $opts -errorcode]
  if {{[lindex $ec 0] eq "VTASTUB" && [lindex $ec 1] eq "EXIT"}} {{
    set result exit:[lindex $ec 2]
  }} else {{
    set result error
  }}
}}
::stub::dump {tcl_word(log)}
puts "@@RESULT $result"
puts "@@MESSAGE [string map [list \\n " "] $message]"
"""
    p = subprocess.run([tclsh()], input=driver, capture_output=True, text=True, cwd=out_dir, timeout=120)
    out = p.stdout + p.stderr
    m = re.search(r"^@@RESULT (\S+)", out, re.M)
    msg = re.search(r"^@@MESSAGE (.*)$", out, re.M)
    calls = []
    if os.path.exists(log):
        with open(log) as f:
            calls = [json.loads(line) for line in f if line.strip()]
    return (m.group(1) if m else f"tclsh failed ({p.returncode})", msg.group(1) if msg else out[-400:], out, calls)


def find(calls, cmd, pred=lambda c: True):
    return [i for i, c in enumerate(calls) if c["cmd"] == cmd and pred(c)]


def prop_dict(calls, obj):
    """Everything set_property -dict set on a block-design cell."""
    d = {}
    for c in calls:
        if c["cmd"] == "set_property" and "-dict" in c["opts"] and c["args"] and c["args"][0] == obj:
            words = tcl_split(c["opts"]["-dict"])
            d.update(dict(zip(words[0::2], words[1::2])))
    return d


def tcl_split(s):
    p = subprocess.run([tclsh()], input=f"foreach w {tcl_word(s)} {{puts $w}}\n", capture_output=True, text=True)
    return p.stdout.splitlines()


def num_eq(a, b):
    try:
        return abs(float(a) - float(b)) < 1e-9
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------------------- a: Tcl
def check_tcl_parses(ck, extra=()):
    files = sorted(glob.glob(os.path.join(FPGA_DIR, "**", "*.tcl"), recursive=True)) + list(extra)
    ck.check(len(files) >= 7, "a: Tcl scripts found", f"{len(files)}")
    for f in files:
        p = subprocess.run([tclsh()], input=f"puts [info complete [read [open {tcl_word(f)}]]]\n",
                           capture_output=True, text=True)
        ck.check(p.stdout.strip() == "1", f"a: {os.path.relpath(f, ROOT)} parses (info complete)", p.stderr)


def configure(board, cfg_path, pkg, out, **kw):
    s, _ = flow.resolve(board, cfg_path, pkg, out, **kw)
    flow.configure(s, out)
    return s, os.path.join(out, "settings.tcl")


def check_vivado_ip_params(ck, tag, calls, s):
    want = {"BUS_W": s["bus_w"], "ADDR_W": s["addr_w"], "AXI_CACHE": s["axi_cache"], "AXI_PROT": s["axi_prot"]}
    for name, v in want.items():
        got = [c["args"][1] for c in calls if c["cmd"] == "set_property" and len(c["args"]) == 3
               and c["args"][0] == "value" and c["args"][2] == f"param:{name}"]
        ck.check(got and all(num_eq(g, v) for g in got), f"c: {tag}: IP packager sets {name} = {v}", f"got {got}")


def check_vivado_board(ck, board, cfg_path, pkg, work, mem_port=None, reg_port=None, full=True, note=""):
    tag = f"{board}[{mem_port or 'default'}/{reg_port or 'default'}{note}]"
    out = os.path.join(work, f"{board}-{mem_port}-{reg_port}")
    s, settings = configure(board, cfg_path, pkg, out, mem_port=mem_port, reg_port=reg_port)
    build = os.path.join(FPGA_DIR, "vivado", "build.tcl")

    # timing met: everything, in order
    res, msg, text, calls = run_stubbed(build, settings, out, PASS)
    ck.check(res == "none", f"a: {tag}: build.tcl runs to the end when timing is met", f"{res}: {msg}")
    order = [find(calls, "ipx::package_project"), find(calls, "create_bd_design"),
             find(calls, "validate_bd_design"), find(calls, "launch_runs", lambda c: "synth_1" in c["args"]),
             find(calls, "launch_runs", lambda c: c["opts"].get("-to_step") == "route_design"),
             find(calls, "open_run"), find(calls, "get_timing_paths"),
             find(calls, "launch_runs", lambda c: c["opts"].get("-to_step") == "write_bitstream"),
             find(calls, "write_hw_platform")]
    firsts = [o[0] if o else None for o in order]
    ck.check(None not in firsts and firsts == sorted(firsts),
             f"a: {tag}: package, block design, synth, route, timing check, bitstream, xsa in that order", str(firsts))
    for f in ("vta.bit", "vta.hwh", "vta.xsa", "reports/utilization.rpt", "reports/timing_summary_routed.rpt"):
        ck.check(os.path.isfile(os.path.join(out, f)), f"a: {tag}: writes {f}")
    xsa = [calls[i] for i in find(calls, "write_hw_platform")]
    ck.check(xsa and all(k in xsa[0]["opts"] for k in ("-fixed", "-include_bit", "-force"))
             and xsa[0]["args"] == [os.path.join(out, "vta.xsa")], f"a: {tag}: write_hw_platform -fixed -include_bit")
    tj = os.path.join(out, "reports", "timing.json")
    ck.check(os.path.isfile(tj) and json.load(open(tj)).get("met") is True, f"a: {tag}: timing.json says met")

    # parameters the scripts pass
    check_vivado_ip_params(ck, tag, calls, s)
    vta = prop_dict(calls, "vta")
    for k, v in (("BUS_W", s["bus_w"]), ("ADDR_W", s["addr_w"]), ("AXI_CACHE", s["axi_cache"]),
                 ("AXI_PROT", s["axi_prot"])):
        ck.check(num_eq(vta.get(f"CONFIG.{k}"), v), f"c: {tag}: block design sets vta CONFIG.{k} = {v}",
                 str(vta.get(f"CONFIG.{k}")))
    ps = prop_dict(calls, "ps")
    ck.check(num_eq(ps.get(PS_PARAMS[s["family"]]["clock"]), s["clock_mhz"]),
             f"c: {tag}: PL clock {s['clock_mhz']} MHz", str(ps.get(PS_PARAMS[s["family"]]["clock"])))
    width_keys = [k for k in ps if re.search(r"(S_AXI_HP\d_DATA_WIDTH|SAXIGP\d__DATA_WIDTH)$", k)]
    ck.check(all(num_eq(ps[k], s["bus_w"]) for k in width_keys) and (width_keys or s["mem_port_name"] == "S_AXI_ACP"),
             f"c: {tag}: memory port {s['mem_port_name']} as wide as BUS_W {s['bus_w']}", str(width_keys))
    if s["mem_port_name"] == "S_AXI_ACP":
        ck.check(ps.get("CONFIG.PCW_USE_DEFAULT_ACP_USER_VAL") == "1", f"c: {tag}: ACP requests marked shared")
    addr = [calls[i] for i in find(calls, "assign_bd_address", lambda c: "-offset" in c["opts"])]
    ck.check(addr and int(addr[0]["opts"]["-offset"], 16) == int(s["reg_base"], 16)
             and addr[0]["opts"].get("-range") == s["reg_range"],
             f"c: {tag}: registers at {s['reg_base']} ({s['reg_range']})")
    if not full:
        return

    # timing not met / not constrained: exit 2, the failing paths named, no bitstream
    for name, sc in (("setup", {"setup_slacks": [-0.532, -0.21, 0.3], "hold_slacks": [0.02]}),
                     ("hold", {"setup_slacks": [0.4], "hold_slacks": [-0.051]}),
                     ("unconstrained", {"setup_slacks": [], "hold_slacks": []})):
        o = os.path.join(out, f"fail-{name}")
        _, st = configure(board, cfg_path, pkg, o, mem_port=mem_port, reg_port=reg_port)
        res, msg, text, calls = run_stubbed(build, st, o, sc)
        ck.check(res == "exit:2", f"a: {tag}: {name} failure exits with status 2", f"{res}: {msg}")
        ck.check(not find(calls, "launch_runs", lambda c: c["opts"].get("-to_step") == "write_bitstream")
                 and not find(calls, "write_hw_platform") and not os.path.exists(os.path.join(o, "vta.bit")),
                 f"a: {tag}: {name} failure writes no bitstream")
        if name != "unconstrained":
            rt = [calls[i] for i in find(calls, "report_timing")]
            ck.check(any(c["opts"].get("-slack_lesser_than") == "0" and c["opts"].get("-max_paths") == "10"
                         for c in rt), f"a: {tag}: {name} failure runs report_timing -max_paths 10 -slack_lesser_than 0")
            ck.check(re.search(rf"{name}_src_reg\[1\]/C -> \S*{name}_dst_reg\[1\]/D", text) is not None,
                     f"a: {tag}: {name} failure prints the failing path's start and end points")

    # a Vivado older than the scripts: refused before anything is created
    o = os.path.join(out, "old")
    _, st = configure(board, cfg_path, pkg, o, mem_port=mem_port, reg_port=reg_port)
    res, msg, text, calls = run_stubbed(build, st, o, dict(PASS, version="2021.2"))
    ck.check(res == "error" and "older than" in msg and not find(calls, "create_project"),
             f"a: {tag}: Vivado 2021.2 refused", msg)

    # board files not installed: no board part, no preset, still a design
    o = os.path.join(out, "nobf")
    _, st = configure(board, cfg_path, pkg, o, mem_port=mem_port, reg_port=reg_port)
    res, msg, text, calls = run_stubbed(build, st, o, dict(PASS, board_parts=0))
    auto = [calls[i] for i in find(calls, "apply_bd_automation")]
    preset = [tcl_split(c["opts"].get("-config", "")) for c in auto]
    ck.check(res == "none" and not find(calls, "set_property", lambda c: c["args"][:1] == ["board_part"])
             and all("apply_board_preset" not in p or p[p.index("apply_board_preset") + 1] == "0" for p in preset),
             f"a: {tag}: without board files: no board part, no preset, bitstream built", f"{res}: {msg}")


def check_vitis_board(ck, board, cfg_path, pkg, work, mem_port=None):
    tag = f"{board}[{mem_port or 'default'}]"
    out = os.path.join(work, f"{board}-{mem_port}")
    s, settings = configure(board, cfg_path, pkg, out, mem_port=mem_port)
    module, ports, _ = wrapper_interface()
    pxo = os.path.join(FPGA_DIR, "vitis", "package_xo.tcl")
    res, msg, text, calls = run_stubbed(pxo, settings, out, PASS)
    ck.check(res == "none", f"a: {tag}: package_xo.tcl runs", f"{res}: {msg}")
    xo = [calls[i] for i in find(calls, "package_xo")]
    ck.check(len(xo) == 1 and xo[0]["opts"].get("-ctrl_protocol") == "user_managed"
             and xo[0]["opts"].get("-kernel_name") == s["kernel_name"] == module
             and xo[0]["opts"].get("-ip_directory") == s["ip_dir"] and xo[0]["opts"].get("-xo_path") == s["xo_path"],
             f"a: {tag}: package_xo -ctrl_protocol user_managed -kernel_name {module}", str(xo))
    ck.check(bool(find(calls, "set_property", lambda c: c["args"][:2] == ["sdx_kernel", "true"])),
             f"a: {tag}: IP marked as an RTL kernel (sdx_kernel)")
    check_vivado_ip_params(ck, tag, calls, s)
    res, msg, _, _ = run_stubbed(pxo, settings, out, dict(PASS, version="2022.1"))
    ck.check(res == "error" and "older than" in msg, f"a: {tag}: Vitis flow refuses Vivado 2022.1", msg)

    # link.cfg: one CU, its memory master on the board's bank
    with open(os.path.join(out, "link.cfg")) as f:
        cfg = [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]
    ck.check("@" not in "".join(cfg), f"b: {tag}: link.cfg fully filled in")
    ck.check(f"nk={module}:1:{s['cu_name']}" in cfg, f"a: {tag}: link.cfg nk= one {module} CU", str(cfg))
    sp = f"sp={s['cu_name']}.{s['mem_port_name']}:{s['mem_bank']}"
    ck.check(sp in cfg and any(p.startswith(s["mem_port_name"] + "_") for p in ports),
             f"a: {tag}: link.cfg {sp} names the top's AXI master", str(cfg))

    # the route hook: passes on met timing, stops the link (error) on negative slack naming the paths
    hook = os.path.join(out, "vitis_route_hook.tcl")
    for name, sc, ok in (("met", PASS, True), ("setup", {"setup_slacks": [-0.3], "hold_slacks": [0.1]}, False),
                         ("hold", {"setup_slacks": [0.3], "hold_slacks": [-0.01]}, False)):
        shutil.rmtree(s["reports_dir"], ignore_errors=True)
        res, msg, text, calls = run_stubbed(hook, settings, out, sc, prelude="set ::stub::design_open 1")
        tj = os.path.join(s["reports_dir"], "timing.json")
        met = os.path.isfile(tj) and json.load(open(tj)).get("met")
        if ok:
            ck.check(res == "none" and met is True, f"a: {tag}: route hook passes met timing", f"{res}: {msg}")
        else:
            ck.check(res == "error" and "timing not met" in msg and met is False and " -> " in text,
                     f"a: {tag}: route hook fails the link on {name} slack, naming the paths", f"{res}: {msg}")


def check_post_link(ck, work):
    """vitis/check_timing.py on sample reports: keeps or deletes the xclbin."""
    script = os.path.join(FPGA_DIR, "vitis", "check_timing.py")
    summary = """
------------------------------------------------------------------------------------------------
| Design Timing Summary
| ---------------------
------------------------------------------------------------------------------------------------

    WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints      WHS(ns)      THS(ns)  THS Failing Endpoints  THS Total Endpoints     WPWS(ns)     TPWS(ns)  TPWS Failing Endpoints  TPWS Total Endpoints
    -------      -------  ---------------------  -------------------      -------      -------  ---------------------  -------------------     --------     --------  ----------------------  --------------------
     {wns}     -100.000                   50                10000        0.020        0.000                    0                10000        3.750        0.000                       0                  5000

Slack (VIOLATED) :        -1.234ns  (required time - arrival time)
  Source:                 level0_i/ulp/vta_accel_1/inst/u_core/u_compute/acc_q_reg[3]/C
  Destination:            level0_i/ulp/vta_accel_1/inst/u_core/u_compute/out_q_reg[7]/D
"""
    for name, wns, hook, want in (("met", "0.105", None, 0), ("negative", "-1.234", None, 1),
                                  ("hook-negative", "0.105", {"wns_ns": -0.2, "whs_ns": 0.01, "met": False}, 1),
                                  ("no-evidence", None, None, 1)):
        d = os.path.join(work, f"post-{name}")
        rep = os.path.join(d, "reports")
        os.makedirs(os.path.join(d, "_x", "link"), exist_ok=True)
        os.makedirs(rep, exist_ok=True)
        if wns is not None:
            with open(os.path.join(d, "_x", "link", "level0_timing_summary_routed.rpt"), "w") as f:
                f.write(summary.format(wns=wns))
        if hook:
            with open(os.path.join(rep, "timing.json"), "w") as f:
                json.dump(hook, f)
        xclbin = os.path.join(d, "vta.xclbin")
        with open(xclbin, "w") as f:
            f.write("xclbin")
        p = subprocess.run([sys.executable, script, "--xclbin", xclbin, "--reports", rep, "--search",
                            os.path.join(d, "_x")], capture_output=True, text=True)
        kept = os.path.exists(xclbin)
        ck.check(p.returncode == want and kept == (want == 0),
                 f"a: post-link check, {name}: exit {want}, xclbin {'kept' if want == 0 else 'removed'}",
                 p.stdout + p.stderr)
        if name == "negative":
            ck.check("acc_q_reg[3]/C -> " in p.stdout and "out_q_reg[7]/D" in p.stdout,
                     "a: post-link check names the failing path's start and end points", p.stdout)


# ----------------------------------------------------------------------------------------- b: files
def check_files(ck, settings_list):
    rtl = sorted(glob.glob(os.path.join(flow.RTL_DIR, "*.sv")))
    for s in settings_list:
        files = s["rtl_files"]
        ck.check(all(os.path.isfile(f) for f in files), f"b: {s['board']}: every RTL source exists",
                 str([f for f in files if not os.path.isfile(f)]))
        ck.check(files[0] == s["pkg"] and files[1].endswith("vta_hw_pkg.sv") and files[-1] == flow.TOP_RTL
                 and set(files[1:-1]) == set(rtl), f"b: {s['board']}: RTL list = package, vta_hw_pkg, every rtl/*.sv, top")
    for f in (flow.BOARDS_JSON, flow.TOP_RTL, flow.LINK_CFG_TEMPLATE, flow.TIMING_CHECK_TCL,
              os.path.join(FPGA_DIR, "rtl", "lint.vlt"), os.path.join(FPGA_DIR, "build.sh"),
              os.path.join(FPGA_DIR, "vitis", "check_timing.py")):
        ck.check(os.path.isfile(f), f"b: {os.path.relpath(f, ROOT)} exists")
    for fam in ("zynq7", "zynqmp"):
        ck.check(os.path.isfile(os.path.join(FPGA_DIR, "vivado", f"bd_{fam}.tcl")), f"b: vivado/bd_{fam}.tcl exists")
    ck.check(os.access(os.path.join(FPGA_DIR, "build.sh"), os.X_OK), "b: build.sh is executable")


def run_build_sh(board, config, out, rtlgen, env_extra=None):
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "PYTHON": sys.executable,
           "VTA_RTLGEN": rtlgen}
    env.update(env_extra or {})
    return subprocess.run(["bash", os.path.join(FPGA_DIR, "build.sh"), board, config, out], capture_output=True,
                          text=True, env=env, timeout=120)


def check_build_sh(ck, work, rtlgen):
    if shutil.which("vivado", path="/usr/bin:/bin") or shutil.which("v++", path="/usr/bin:/bin"):
        print("note: vivado/v++ in /usr/bin: build.sh's missing-tool path not checked")
        return
    default = os.path.join(ROOT, "config", "default.json")
    for board in ("pynq-z1", "alveo-u280"):
        out = os.path.join(work, f"build-sh-{board}")
        p = run_build_sh(board, default, out, rtlgen)
        ck.check(p.returncode == 3 and "'vivado' is not on PATH" in p.stderr,
                 f"b: build.sh {board} without the tools: exit 3, says vivado is missing", p.stdout + p.stderr)
        prepared = ["gen/vta_pkg.sv", "settings.tcl", "build_info.json"]
        if board.startswith("alveo"):
            prepared += ["link.cfg", "vitis_route_hook.tcl"]
        ck.check(all(os.path.isfile(os.path.join(out, f)) for f in prepared),
                 f"b: build.sh {board}: package and settings prepared before the tool check")
        if os.path.isfile(os.path.join(out, "gen", "vta_pkg.sv")):
            ck.check(flow.read_pkg(os.path.join(out, "gen", "vta_pkg.sv"))["hash"] == flow.read_config(default)["hash"],
                     f"c: build.sh {board}: the package is the config's")
    p = run_build_sh("no-such-board", default, os.path.join(work, "build-sh-bad"), rtlgen)
    ck.check(p.returncode == 1 and "unknown board" in p.stderr, "b: build.sh refuses an unknown board", p.stderr)
    for log_bus, msg in ((7, "at most 64 bits"), (9, "supports")):
        cfg = os.path.join(work, f"bus{log_bus}.json")
        j = json.load(open(default))
        j["LOG_BUS_WIDTH"] = log_bus
        json.dump(j, open(cfg, "w"))
        p = run_build_sh("pynq-z2", cfg, os.path.join(work, f"build-sh-bus{log_bus}"), rtlgen)
        ck.check(p.returncode == 1 and msg in p.stderr,
                 f"b: build.sh refuses a {1 << log_bus}-bit bus on pynq-z2", p.stderr)


# ----------------------------------------------------------------------------------------- c: parameters
def check_pkg(ck, cfg_path, pkg_path):
    cfg = flow.read_config(cfg_path)
    pkg = flow.read_pkg(pkg_path)
    name = os.path.basename(cfg_path)
    bad = {k: (v, pkg["params"].get(k)) for k, v in cfg["params"].items() if pkg["params"].get(k) != v}
    ck.check(not bad, f"c: {name}: vta_pkg.sv localparams match the config", str(bad))
    ck.check(pkg["name"] == cfg["name"], f"c: {name}: package names config {cfg['name']}", str(pkg["name"]))
    ck.check(pkg["hash"] == cfg["hash"] and pkg["params"].get("CONFIG_HASH") == int(cfg["hash"], 16),
             f"c: {name}: CONFIG_HASH {cfg['hash']}", str(pkg["hash"]))


def check_lint(ck, settings_list, pkg):
    v = shutil.which("verilator")
    if not v:
        print("note: verilator not installed: the FPGA top is not linted")
        return
    combos = sorted({(s["bus_w"], s["addr_w"], s["axi_cache"], s["axi_prot"]) for s in settings_list})
    srcs = flow.rtl_files(pkg)
    for bus_w, addr_w, cache, prot in combos:
        p = subprocess.run([v, "--lint-only", "-Wall", os.path.join(FPGA_DIR, "rtl", "lint.vlt"),
                            f"-GBUS_W={bus_w}", f"-GADDR_W={addr_w}", f"-GAXI_CACHE={cache}", f"-GAXI_PROT={prot}",
                            "--top-module", "vta_accel"] + srcs, capture_output=True, text=True, timeout=600)
        ck.check(p.returncode == 0, f"c: Verilator lints vta_accel at BUS_W {bus_w}, ADDR_W {addr_w}, "
                 f"AxCACHE {cache}, AxPROT {prot}", p.stderr[-2000:])


# ----------------------------------------------------------------------------------------- d: boards.json
def ps_port_tables():
    """The PS ports bd_zynq7.tcl / bd_zynqmp.tcl know (their own tables)."""
    tables = {}
    for fam in ("zynq7", "zynqmp"):
        script = os.path.join(FPGA_DIR, "vivado", f"bd_{fam}.tcl")
        drv = (f"source {tcl_word(os.path.join(FPGA_DIR, 'check_stubs.tcl'))}\nsource {tcl_word(script)}\n"
               f"puts [dict keys $vta_ps_ports({fam})]\n")
        p = subprocess.run([tclsh()], input=drv, capture_output=True, text=True)
        tables[fam] = p.stdout.split()
    return tables


def check_boards(ck, boards):
    bs = boards.get("boards", {})
    ck.check(set(REQUIRED_BOARDS) <= set(bs), "d: boards.json has every board", str(set(REQUIRED_BOARDS) - set(bs)))
    core = boards.get("core", {})
    module, _, _ = wrapper_interface()
    ck.check(core.get("top") == module and core.get("bus_widths") == [64, 128],
             "d: boards.json core: top is the FPGA top module, bus widths 64/128")
    tables = ps_port_tables()
    common = ("description", "family", "flow", "part", "clock_mhz", "clock_reason", "mem_ports", "reg_ports",
              "image", "outputs")
    need = {"vivado": ("board_part", "board_files", "ps_ip", "pl_clock", "irq"),
            "alveo": ("platform", "kernel_clock_id")}
    for name, b in bs.items():
        fam = b.get("family")
        keys = common + (need["alveo"] if fam == "alveo" else need["vivado"])
        missing = [k for k in keys if b.get(k) in (None, "", [], {})]
        ck.check(not missing, f"d: {name}: every key of its flow", str(missing))
        if missing:
            continue
        ck.check(fam in PORT_ADDR_WIDTH and b["flow"] == ("vitis" if fam == "alveo" else "vivado"),
                 f"d: {name}: family {fam} and flow {b['flow']} agree")
        ck.check(b["part"].startswith(PART_PREFIX.get(fam, ("?",))), f"d: {name}: part {b['part']} fits {fam}")
        ck.check(isinstance(b["clock_mhz"], (int, float)) and 10 <= b["clock_mhz"] <= 500,
                 f"d: {name}: clock {b['clock_mhz']} MHz")
        if fam in ("zynq7", "zynqmp"):
            ck.check(b["ps_ip"] == {"zynq7": "processing_system7", "zynqmp": "zynq_ultra_ps_e"}[fam],
                     f"d: {name}: PS IP {b['ps_ip']}")
            ck.check(len(b["board_part"].split(":")) == 4, f"d: {name}: board_part is vendor:board:part0:version")
        for key, p in b["mem_ports"].items():
            ok = all(k in p for k in ("port", "coherent", "addr_width", "max_data_width"))
            ck.check(ok, f"d: {name}: memory port {key} complete", str(p))
            if not ok:
                continue
            ck.check(p["addr_width"] == PORT_ADDR_WIDTH[fam], f"d: {name}: {p['port']} address width {p['addr_width']}")
            ck.check(p["max_data_width"] >= 64, f"d: {name}: {p['port']} carries a 64-bit bus")
            if fam == "alveo":
                ck.check(p["port"] == "m_axi_gmem" and re.fullmatch(r"(DDR|HBM)\[\d+(:\d+)?\]", p.get("bank", "")),
                         f"d: {name}: {key} maps m_axi_gmem to a DDR/HBM bank", str(p))
            else:
                ck.check(p["port"] in tables[fam] and p["port"].startswith("S_AXI"),
                         f"d: {name}: memory port {p['port']} is a PS slave port bd_{fam}.tcl knows")
        for key, p in b["reg_ports"].items():
            if fam == "alveo":
                ck.check(p.get("port") == "s_axi_control" and p.get("range") == "4K", f"d: {name}: registers on s_axi_control")
                continue
            ok = p.get("port") in tables[fam] and p["port"].startswith("M_AXI") and p.get("range") == "4K"
            ck.check(ok, f"d: {name}: register port {p.get('port')} is a PS master port bd_{fam}.tcl knows, 4K")
            lo, hi = REG_WINDOWS.get(p.get("port"), (1, 0))
            base = int(p.get("base", "0"), 16)
            ck.check(lo <= base and base + 4096 - 1 <= hi and base % 4096 == 0,
                     f"d: {name}: register base {p.get('base')} inside {p.get('port')}'s window")
        mem_default = next(iter(b["mem_ports"].values()))
        ck.check(not mem_default["coherent"], f"d: {name}: the default memory port is the non-coherent one")
    doc = os.path.join(ROOT, "docs", "boards.md")
    text = open(doc).read() if os.path.isfile(doc) else ""
    ck.check("## Bitstream flows" in text and "## From a fresh board to `vta run`" in text and "### What ran on hardware" in text,
             "d: docs/boards.md has the flows, the steps from a fresh board and what ran on hardware")
    ck.check(all(n in text for n in bs), "d: docs/boards.md covers every board", str([n for n in bs if n not in text]))


# ----------------------------------------------------------------------------------------- self-test
MUTATIONS = [
    ("timing gate removed", "vivado/build.tcl", "  exit 2\n", "", "pynq-z1"),
    ("PS pin misspelt", "vivado/bd_zynqmp.tcl", "aclk saxihp0_fpd_aclk", "aclk saxihp0_aclk", "kv260"),
    ("undocumented option", "vivado/timing_check.tcl", "-slack_lesser_than 0 -sort_by slack -path_type",
     "-slack_less_than 0 -sort_by slack -path_type", "zcu104"),
    ("IP parameter not the build's", "vivado/package_ip.tcl", "BUS_W $vta(bus_w) ADDR_W", "BUS_W 32 ADDR_W",
     "ultra96-v2"),
    ("board key missing", "boards.json", '"clock_mhz": 150,\n      "clock_reason": "-2LV', '"clock_reason": "-2LV',
     "kv260"),
    ("wrong sp= port", "vitis/link.cfg", "sp=@CU@.@MEM_PORT@", "sp=@CU@.m_axi_mem", "alveo-u250"),
    ("register map left unassigned", "vivado/util.tcl", "-target_address_space [get_bd_addr_spaces $ps_space] $reg_seg -force",
     "-target_address_space [get_bd_addr_spaces $ps_space] {} -force", "pynq-z2"),
]


def self_test(ck, args, work):
    for what, rel, old, new, board in MUTATIONS:
        root = os.path.join(work, "mut-" + re.sub(r"\W+", "-", what))
        os.makedirs(os.path.join(root, "hardware"))
        shutil.copytree(FPGA_DIR, os.path.join(root, "hardware", "fpga"))
        for link in ("hardware/rtl", "config", "docs"):
            os.symlink(os.path.join(ROOT, link), os.path.join(root, link))
        path = os.path.join(root, "hardware", "fpga", rel)
        text = open(path).read()
        if not ck.check(old in text, f"self-test: '{what}' applies to {rel}"):
            continue
        open(path, "w").write(text.replace(old, new, 1))
        cmd = [sys.executable, os.path.join(root, "hardware", "fpga", "check_flows.py"), "--pkg", args.pkg,
               "--board", board, "--quick"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        caught = [l for l in p.stdout.splitlines() if l.startswith("FAIL")]
        ck.check(p.returncode != 0 and caught, f"self-test: the checks catch '{what}'",
                 p.stdout[-1500:] + p.stderr[-1500:])
        if caught:
            print(f"     ({what}: {caught[0][5:][:150]})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pkg", required=True, help="vta_pkg.sv generated for config/default.json")
    ap.add_argument("--rtlgen", help="vta-rtlgen: checks every config's package and build.sh end to end")
    ap.add_argument("--board", action="append", help="only these boards (default: all)")
    ap.add_argument("--quick", action="store_true", help="no build.sh, no lint, no other configs")
    ap.add_argument("--self-test", action="store_true", help="also break copies of the scripts and expect failures")
    ap.add_argument("--keep", help="work in this directory and keep it")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    args.pkg = os.path.abspath(args.pkg)
    if not os.path.isfile(args.pkg):
        sys.exit(f"check_flows: no package {args.pkg} (build the target vta_pkg_default)")
    ck = Checks(args.verbose)
    work = os.path.abspath(args.keep) if args.keep else tempfile.mkdtemp(prefix="vta-fpga-check-")
    os.makedirs(work, exist_ok=True)
    default_cfg = os.path.join(ROOT, "config", "default.json")
    try:
        boards = flow.load_boards()
        check_boards(ck, boards)
        check_pkg(ck, default_cfg, args.pkg)
        names = args.board or list(boards["boards"])
        settings = []
        for name in names:
            b = boards["boards"][name]
            if b["flow"] == "vivado":
                first = True
                for mp in b["mem_ports"]:
                    for rp in b["reg_ports"]:
                        check_vivado_board(ck, name, default_cfg, args.pkg, work, mp, rp, full=first)
                        first = False
            else:
                for mp in b["mem_ports"]:
                    check_vitis_board(ck, name, default_cfg, args.pkg, work, mp)
            for mp in b["mem_ports"]:
                settings.append(flow.resolve(name, default_cfg, args.pkg, work, mem_port=mp)[0])
        check_files(ck, settings)
        check_tcl_parses(ck, [os.path.join(work, d, f) for d in os.listdir(work)
                              for f in ("settings.tcl", "vitis_route_hook.tcl")
                              if os.path.isfile(os.path.join(work, d, f))])
        if not args.quick:
            check_post_link(ck, work)
            # a 128-bit config (LOG_BUS_WIDTH 7) through a ZynqMP flow: the width reaches the IP and the PS port
            j = json.load(open(default_cfg))
            j["LOG_BUS_WIDTH"] = 7
            wide = os.path.join(work, "default_bus128.json")
            json.dump(j, open(wide, "w"))
            check_vivado_board(ck, "zcu104", wide, args.pkg, os.path.join(work, "bus128"), full=False,
                               note=", LOG_BUS_WIDTH 7")
            settings.append(flow.resolve("zcu104", wide, args.pkg, work)[0])
            check_lint(ck, settings, args.pkg)
            if args.rtlgen:
                for cfg in sorted(glob.glob(os.path.join(ROOT, "config", "*.json"))):
                    pkg = os.path.join(work, "pkgs", os.path.basename(cfg)[:-5], "vta_pkg.sv")
                    p = subprocess.run([args.rtlgen, "--config", cfg, "--out", pkg], capture_output=True, text=True)
                    if ck.check(p.returncode == 0, f"c: vta-rtlgen {os.path.basename(cfg)}", p.stderr):
                        check_pkg(ck, cfg, pkg)
                check_build_sh(ck, work, os.path.abspath(args.rtlgen))
            else:
                print("note: no --rtlgen: other configs' packages and build.sh not checked")
        if args.self_test:
            self_test(ck, args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"check_flows: {ck.count - len(ck.failures)} of {ck.count} checks passed"
          + (f", {len(ck.failures)} FAILED" if ck.failures else ""))
    return 1 if ck.failures else 0


if __name__ == "__main__":
    sys.exit(main())
