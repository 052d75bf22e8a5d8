#!/usr/bin/env python3
"""Post-link timing check of an Alveo build: keeps the xclbin only when the routed design met timing.

    hardware/fpga/vitis/check_timing.py --xclbin OUT/vta.xclbin --reports OUT/reports [--search DIR ...]

Why after v++ as well as in the route hook (vitis_route_hook.tcl): when a kernel misses its clock, v++
lowers the clock ("automatic frequency scaling") and still writes an xclbin, so a finished link proves
nothing. Evidence, in order: the hook's <reports>/timing.json (WNS/WHS at the requested clock); else the
routed timing summary (*timing_summary_routed.rpt) under <reports> or a --search directory (v++'s
--temp_dir), parsed here. Negative WNS or WHS, or no evidence at all, deletes the xclbin, prints the
failing paths (start point -> end point) and exits 1.
"""
import argparse
import glob
import json
import os
import re
import sys

MAX_PATHS = 10


def find_reports(dirs):
    found = []
    for d in dirs:
        found += glob.glob(os.path.join(d, "**", "*timing_summary_routed*.rpt"), recursive=True)
    return sorted(set(found), key=lambda p: os.path.getmtime(p), reverse=True)


def parse_summary(text):
    """WNS and WHS (ns) from the 'Design Timing Summary' table of report_timing_summary, or None."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "WNS(ns)" in line and "WHS(ns)" in line:
            heads = re.split(r"\s{2,}", line.strip())
            for values in lines[i + 1:i + 4]:
                cells = values.split()
                if cells and not set(values.strip()) <= set("- ") and len(cells) >= len(heads):
                    row = dict(zip(heads, cells))
                    try:
                        return float(row["WNS(ns)"]), float(row["WHS(ns)"])
                    except (KeyError, ValueError):
                        return None
    return None


def violated_paths(text, limit=MAX_PATHS):
    """(slack, source, destination) of the paths a timing report marks VIOLATED."""
    paths = []
    cur = None
    for line in text.splitlines():
        m = re.match(r"\s*Slack \(VIOLATED\)\s*:\s*(-?[\d.]+)\s*ns", line)
        if m:
            cur = [m.group(1), "?", "?"]
            paths.append(cur)
            continue
        if cur is not None:
            m = re.match(r"\s*(Source|Destination):\s*(\S+)", line)
            if m:
                cur[1 if m.group(1) == "Source" else 2] = m.group(2)
                if m.group(1) == "Destination":
                    cur = None
    return paths[:limit]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--xclbin", required=True)
    ap.add_argument("--reports", required=True, help="where the route hook wrote timing.json and its reports")
    ap.add_argument("--search", action="append", default=[], help="more directories with routed timing reports")
    args = ap.parse_args(argv)

    wns = whs = None
    source = None
    hook = os.path.join(args.reports, "timing.json")
    if os.path.isfile(hook):
        with open(hook) as f:
            t = json.load(f)
        wns, whs, source = t.get("wns_ns"), t.get("whs_ns"), hook
    reports = find_reports([args.reports] + args.search)
    report_text = ""
    if reports:
        with open(reports[0]) as f:
            report_text = f.read()
    parsed = parse_summary(report_text) if report_text else None
    if parsed:
        if source is None:
            (wns, whs), source = parsed, reports[0]
        elif wns is not None and whs is not None:
            # both: the worse of the two (the summary may come from a later step than the hook's)
            wns, whs = min(wns, parsed[0]), min(whs, parsed[1])
            source = f"{source} and {reports[0]}"
    if source is None:
        print("check_timing: WARNING: neither the route hook's timing.json nor a routed timing summary was found")

    met = wns is not None and whs is not None and wns >= 0 and whs >= 0
    if met:
        print(f"check_timing: timing met after routing (WNS {wns} ns, WHS {whs} ns; {source}); keeping {args.xclbin}")
        return 0
    print(f"check_timing: ERROR: timing NOT met after routing (WNS {wns} ns, WHS {whs} ns; "
          f"{source or 'no timing evidence'})")
    failing = os.path.join(args.reports, "failing_paths.rpt")
    paths = []
    for text in ([open(failing).read()] if os.path.isfile(failing) else []) + [report_text]:
        paths = violated_paths(text)
        if paths:
            break
    for slack, src, dst in paths:
        print(f"  slack {slack} ns  {src} -> {dst}")
    if not paths:
        print("  (no path details found; see the routed timing summary)")
    for f in (args.xclbin, args.xclbin + ".info", args.xclbin + ".link_summary"):
        if os.path.exists(f):
            os.remove(f)
            print(f"check_timing: removed {f}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
