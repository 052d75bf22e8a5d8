#!/usr/bin/env python3
"""FPGA fit and logic-depth report for one generated config of the core, from Yosys alone.

    hardware/scripts/fpga_report.py <vta_pkg.sv> [--part xc7z020] [--out DIR] [--json FILE] [--markdown]

Runs `synth_xilinx -flatten -noiopad` for the part's family and prints:
  * resources: LUT (LUT1-6), FF, DSP, block RAM as RAMB36 equivalents (RAMB36 + RAMB18 / 2), LUT-RAM and
    CARRY cells, against the part's budget;
  * how the DSPs are used: how many have their M and P pipeline registers (MREG = PREG = 1);
  * the logic depth: the same netlist with the sequential primitives deleted
    (`delete t:FD* t:RAMB* t:RAM* t:SRL*`), then Yosys `ltp`; and, from the netlist, the cells on one
    longest path by type (LUT, CARRY4, MUXF, DSP48E1, ...).

The depth is a stand-in for Fmax until a board flow exists: it counts cells, not nanoseconds, and Yosys'
mapping is not Vivado's. It is measured the same way every time so that changes can be compared.
Only Yosys is needed (Debian's `yosys`); the package comes from vta-rtlgen (build/hardware/gen/<config>/).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter

# Budgets of the parts a VTA core is usually taken to: one table, shared with the area model.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "area", "parts.json")) as _f:
    PARTS = json.load(_f)["parts"]

SEQUENTIAL = "t:FD* t:RAMB* t:RAM* t:SRL*"


def rtl_sources(pkg):
    rtl = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rtl")
    rtl = os.path.normpath(rtl)
    srcs = [pkg, os.path.join(rtl, "vta_hw_pkg.sv")]
    srcs += sorted(os.path.join(rtl, f) for f in os.listdir(rtl) if f.endswith(".sv") and not f.endswith("_pkg.sv"))
    return srcs


def run_yosys(pkg, family, out):
    srcs = " ".join(rtl_sources(pkg))
    script = f"""
read_verilog -sv {srcs}
hierarchy -check -top vta_top
synth_xilinx -family {family} -top vta_top -flatten -noiopad
tee -q -o {out}/stat.txt stat
delete {SEQUENTIAL}
tee -q -o {out}/ltp.txt ltp
write_json {out}/comb.json
"""
    with open(os.path.join(out, "report.ys"), "w") as f:
        f.write(script)
    start = time.time()
    with open(os.path.join(out, "yosys.log"), "w") as log:
        rc = subprocess.run(["yosys", "-q", "-s", os.path.join(out, "report.ys")], stdout=log,
                            stderr=subprocess.STDOUT).returncode
    if rc != 0:
        sys.exit(f"fpga_report: yosys failed ({rc}); see {out}/yosys.log")
    return time.time() - start


def parse_stat(path):
    cells = Counter()
    with open(path) as f:
        for line in f:
            m = re.match(r"\s+(\S+)\s+(\d+)\s*$", line)
            if m and not m.group(1).startswith("Number"):
                cells[m.group(1)] += int(m.group(2))
    return cells


def resources(cells):
    def total(pattern):
        return sum(n for c, n in cells.items() if re.fullmatch(pattern, c))
    return {
        "lut": total(r"LUT[1-6]"),
        "inv": total(r"INV"),
        "ff": total(r"FD[A-Z]*"),
        "dsp": total(r"DSP48E[12]"),
        "ramb36": total(r"RAMB36E[12]"),
        "ramb18": total(r"RAMB18E[12]"),
        "bram36": total(r"RAMB36E[12]") + total(r"RAMB18E[12]") / 2,
        "lutram": total(r"RAM(32|64|128|256)[XM].*"),
        "carry": total(r"CARRY[48]"),
        "muxf": total(r"MUXF[789]"),
    }


def parse_ltp(path):
    with open(path) as f:
        text = f.read()
    m = re.search(r"Longest topological path in \S+ \(length=(\d+)\)", text)
    if not m:
        sys.exit(f"fpga_report: no ltp result in {path}")
    return int(m.group(1))


def param_int(v):
    if isinstance(v, int):
        return v
    try:
        return int(v, 2)
    except ValueError:
        return 0


def cell_class(ctype):
    for prefix, name in (("LUT", "LUT"), ("CARRY", "CARRY4"), ("MUXF", "MUXF"), ("DSP48", "DSP48"),
                         ("INV", "INV")):
        if ctype.startswith(prefix):
            return name
    return ctype


def cell_bits(cell, direction):
    """The net bits on a cell's ports of one direction ("input" or "output"), constants left out."""
    return [b for port, bits in cell["connections"].items() if cell.get("port_directions", {}).get(port) == direction
            for b in bits if isinstance(b, int)]


def bit_names(module):
    """A net name per bit and whether it is public (not Yosys' $...): a public one where there is one."""
    names = {}
    for name, n in module["netnames"].items():
        public = not n.get("hide_name", 0)
        for i, b in enumerate(n["bits"]):
            if not isinstance(b, int):
                continue
            label = name if len(n["bits"]) == 1 else f"{name}[{i}]"
            if b not in names or (public and not names[b][1]):
                names[b] = (label, public)
    return names


def deepest_ends(module, depth, best_pred, count):
    """The `count` deepest paths by (start, end): where a path ends (the last net on it with a readable
    name) and starts (a readable input net of its first cell), bit indices dropped."""
    cells = module["cells"]
    names = bit_names(module)
    public = {b for b, (_, pub) in names.items() if pub}
    consumed = {b for c in cells.values() for b in cell_bits(c, "input")}

    def ports(n, direction):
        return cell_bits(cells[n], direction)

    def base(label):
        return re.sub(r"\[\d+\]$", "", label)

    best = {}
    for n, d in depth.items():
        if all(b in consumed for b in ports(n, "output")):
            continue
        end, at = None, n
        while at is not None and end is None:
            named = [b for b in ports(at, "output") if b in public]
            if named:
                end = base(names[named[0]][0])
            at = best_pred.get(at)
        first = n
        while first in best_pred:
            first = best_pred[first]
        starts = [base(names[b][0]) for b in ports(first, "input") if b in public]
        key = (starts[0] if starts else "?", end or "?")
        if best.get(key, 0) < d:
            best[key] = d
    return sorted(((d, e, s) for (s, e), d in best.items()), reverse=True)[:count]


def analyse_netlist(path, ends=0):
    """Longest cell path in the combinational netlist, and the DSPs' pipeline registers."""
    with open(path) as f:
        design = json.load(f)
    module = design["modules"]["vta_top"]
    cells = module["cells"]
    driver = {b: name for name, c in cells.items() for b in cell_bits(c, "output")}  # net bit -> driving cell
    fanin = {name: {driver[b] for b in cell_bits(c, "input") if b in driver and driver[b] != name}
             for name, c in cells.items()}
    # Longest path ending at each cell (cells counted), iteratively in topological order.
    depth, best_pred = {}, {}
    indeg = {n: len(p) for n, p in fanin.items()}
    fanout = {n: [] for n in cells}
    for n, preds in fanin.items():
        for p in preds:
            fanout[p].append(n)
    ready = [n for n, d in indeg.items() if d == 0]
    for n in ready:
        depth[n] = 1
    order = 0
    while ready:
        n = ready.pop()
        order += 1
        for s in fanout[n]:
            if depth[n] + 1 > depth.get(s, 0):
                depth[s] = depth[n] + 1
                best_pred[s] = n
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
    if order != len(cells):
        print(f"fpga_report: warning: {len(cells) - order} cells sit on combinational loops", file=sys.stderr)
    end = max(depth, key=depth.get) if depth else None
    path = []
    while end is not None:
        path.append(end)
        end = best_pred.get(end)
    path.reverse()
    composition = Counter(cell_class(cells[n]["type"]) for n in path)
    dsps = [c for c in cells.values() if c["type"].startswith("DSP48")]
    dsp_mp = sum(1 for c in dsps if param_int(c["parameters"].get("MREG", 0)) == 1 and
                 param_int(c["parameters"].get("PREG", 0)) == 1)
    result = {"length": len(path), "composition": dict(composition),
              "path": [f"{cells[n]['type']} {n}" for n in path], "dsp_total": len(dsps), "dsp_mreg_preg": dsp_mp}
    if ends:
        result["deepest_ends"] = [{"cells": d, "end": e, "start": s}
                                  for d, e, s in deepest_ends(module, depth, best_pred, ends)]
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pkg", help="generated vta_pkg.sv (build/hardware/gen/<config>/vta_pkg.sv)")
    ap.add_argument("--part", default="xc7z020", choices=sorted(PARTS))
    ap.add_argument("--out", help="folder for the Yosys script, log and netlist (default: a temporary one)")
    ap.add_argument("--json", help="also write the figures as JSON to this file")
    ap.add_argument("--markdown", action="store_true", help="print the docs/hardware.md table rows")
    ap.add_argument("--paths", type=int, default=0, metavar="N",
                    help="also list the N deepest path ends (one per register or net) with where each starts")
    ap.add_argument("--netlist", metavar="DIR",
                    help="only list the --paths of the comb.json a run left in DIR (no synthesis)")
    args = ap.parse_args()
    if args.netlist:
        net = analyse_netlist(os.path.join(args.netlist, "comb.json"), args.paths or 20)
        for e in net["deepest_ends"]:
            print(f"{e['cells']:4d}  {e['end']}  <-  {e['start']}")
        return 0
    if not os.path.isfile(args.pkg):
        sys.exit(f"fpga_report: no such package: {args.pkg} (build the vta-rtlgen outputs first)")
    part = PARTS[args.part]
    out = args.out or tempfile.mkdtemp(prefix="vta-fpga-")
    os.makedirs(out, exist_ok=True)
    version = subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.strip()
    seconds = run_yosys(args.pkg, part["family"], out)
    res = resources(parse_stat(os.path.join(out, "stat.txt")))
    ltp = parse_ltp(os.path.join(out, "ltp.txt"))
    net = analyse_netlist(os.path.join(out, "comb.json"), args.paths)

    config = "?"
    with open(args.pkg) as f:
        m = re.search(r"^// config ([^\s,]+)", f.read(), re.M)
        if m:
            config = m.group(1)
    fits = {k: res[k] <= part[k] for k in ("lut", "dsp", "bram36")}
    report = {"config": config, "part": args.part, "board": part["board"], "family": part["family"],
              "yosys": version, "synth_seconds": round(seconds, 1), "resources": res,
              "budget": {k: part[k] for k in ("lut", "ff", "dsp", "bram36")}, "fits": fits,
              "logic_depth_ltp": ltp, "longest_path": net, "work_dir": out}

    print(f"{version}; synth_xilinx -family {part['family']} -flatten -noiopad; {seconds:.0f} s; files in {out}")
    print(f"config {config}, part {args.part} ({part['board']})")
    for key, label in (("lut", "LUT"), ("ff", "FF"), ("dsp", "DSP"), ("bram36", "BRAM36 eq.")):
        budget = part[key]
        mark = "ok" if res[key] <= budget else "OVER"
        print(f"  {label:<11} {res[key]:>9g} / {budget:<7} {100.0 * res[key] / budget:5.1f}%  {mark}")
    print(f"  (RAMB36 {res['ramb36']}, RAMB18 {res['ramb18']}, LUT-RAM {res['lutram']}, CARRY {res['carry']}, "
          f"MUXF {res['muxf']}, INV {res['inv']})")
    print(f"  DSPs with MREG and PREG: {net['dsp_mreg_preg']} of {net['dsp_total']}")
    comp = ", ".join(f"{n} {k}" for k, n in sorted(net["composition"].items(), key=lambda kv: -kv[1]))
    print(f"  logic depth (ltp after `delete {SEQUENTIAL}`): {ltp}; one longest path: {net['length']} cells ({comp})")
    print("  (a stand-in for Fmax until a board flow exists: cells between registers, not nanoseconds)")
    for e in net.get("deepest_ends", []):
        print(f"  {e['cells']:4d} cells to {e['end']}  from {e['start']}")
    if args.markdown:
        print()
        print("| config | part | LUT | FF | DSP | BRAM36 eq. | DSP with M+P regs | logic depth (ltp) | longest path |")
        print("|---|---|---|---|---|---|---|---|---|")
        print(f"| {config} | {args.part} | {res['lut']} / {part['lut']} | {res['ff']} | {res['dsp']} / {part['dsp']} | "
              f"{res['bram36']:g} / {part['bram36']} | {net['dsp_mreg_preg']} / {net['dsp_total']} | {ltp} | {comp} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
