#!/usr/bin/env python3
"""Adds (or replaces) one synthesis result in hardware/area/synth_results.json, the data the area model
(vta dse) is fitted to.

    hardware/scripts/area_sample.py CONFIG.json REPORT.json [--name NAME] [--validation]

REPORT.json is what `hardware/scripts/fpga_report.py <vta_pkg.sv> --json REPORT.json` wrote for the
package generated from CONFIG.json (build/hardware/gen/<stem>/vta_pkg.sv). NAME defaults to the config
file's stem. --validation files it under "validation" instead: kept out of the fit, to check the model on
a config it was not fitted on (AreaModel.PredictsHeldOutConfigs). Rebuild afterwards: the results are
compiled into the tools.
"""
import argparse
import json
import os
import sys

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "area", "synth_results.json")
HW_KEYS = ("LOG_INP_WIDTH", "LOG_WGT_WIDTH", "LOG_ACC_WIDTH", "LOG_BATCH", "LOG_BLOCK", "LOG_BLOCK_IN",
           "LOG_BLOCK_OUT", "LOG_UOP_BUFF_SIZE", "LOG_INP_BUFF_SIZE", "LOG_WGT_BUFF_SIZE", "LOG_ACC_BUFF_SIZE")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config")
    ap.add_argument("report")
    ap.add_argument("--name")
    ap.add_argument("--validation", action="store_true", help="a held-out sample, not fitted")
    args = ap.parse_args()
    with open(args.config) as f:
        config = {k: v for k, v in json.load(f).items() if k in HW_KEYS}
    with open(args.report) as f:
        report = json.load(f)
    if report.get("family") != "xc7":
        sys.exit("area_sample: the model is fitted to -family xc7 results (fpga_report.py --part xc7z020)")
    res = report["resources"]
    sample = {"name": args.name or os.path.splitext(os.path.basename(args.config))[0], "yosys": report["yosys"],
              "config": config, "resources": {k: res[k] for k in ("lut", "ff", "dsp", "bram36")}}
    with open(RESULTS) as f:
        data = json.load(f)
    key = "validation" if args.validation else "samples"
    for k in ("samples", "validation"):
        data[k] = [s for s in data.get(k, []) if s["name"] != sample["name"]]
    data[key].append(sample)
    with open(RESULTS, "w") as f:
        f.write("{\n  \"comment\": " + json.dumps(data["comment"]))
        for k in ("samples", "validation"):
            data[k].sort(key=lambda s: s["name"])
            f.write(",\n  \"" + k + "\": [\n" + ",\n".join("    " + json.dumps(s) for s in data[k]) + "\n  ]")
        f.write("\n}\n")
    print(f"area_sample: {sample['name']} ({key}): {sample['resources']} "
          f"({len(data['samples'])} fitted, {len(data['validation'])} held out)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
