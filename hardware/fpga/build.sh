#!/usr/bin/env bash
# Builds the VTA core for one board: a bitstream (.bit, .hwh, .xsa) with Vivado for the Zynq boards, an
# xclbin with Vitis (v++) for the Alveo cards. docs/boards.md describes the flows.
#
#   hardware/fpga/build.sh BOARD [CONFIG_JSON] [OUT_DIR]
#   hardware/fpga/build.sh --list
#
# BOARD        a key of hardware/fpga/boards.json (--list prints them)
# CONFIG_JSON  hardware config (default: config/default.json)
# OUT_DIR      output directory (default: ./vta-fpga-<board>-<config>)
#
# Environment:
#   VTA_RTLGEN          vta-rtlgen to use (default: on PATH, else build*/hardware/vta-rtlgen of this tree)
#   VTA_FPGA_MEM_PORT   memory port key of boards.json (pynq: hp|acp, zynqmp: hp|hpc, u280: hbm|ddr)
#   VTA_FPGA_REG_PORT   register port key (zynqmp: fpd|lpd)
#   VTA_FPGA_CLOCK_MHZ  clock target instead of the board's
#   VTA_FPGA_JOBS       parallel jobs of Vivado runs (default: number of CPUs)
#   PYTHON              Python 3 interpreter (default: python3)
#
# Exit status: 0 built; 1 error; 2 timing not met after routing (no bitstream / xclbin kept);
#              3 the vendor tool (vivado, v++) is not on PATH.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}

die() { echo "build.sh: error: $*" >&2; exit "${2:-1}"; }
usage() { sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  --list) exec "$python" "$here/flow.py" boards ;;
  "") usage >&2; exit 1 ;;
esac
board=$1
config=${2:-$root/config/default.json}
[[ -f $config ]] || die "no config file $config"
config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
stem=$(basename "$config" .json)
out=${3:-$PWD/vta-fpga-$board-$stem}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# 1. the config's package, with the project's generator
rtlgen=${VTA_RTLGEN:-}
if [[ -z $rtlgen ]]; then
  rtlgen=$(command -v vta-rtlgen || true)
  for b in "$root"/build*/hardware/vta-rtlgen; do
    [[ -z $rtlgen && -x $b ]] && rtlgen=$b
  done
fi
[[ -n $rtlgen && -x $rtlgen ]] ||
  die "vta-rtlgen not found: build it (cmake --build <build> --target vta-rtlgen) or set VTA_RTLGEN"
"$rtlgen" --config "$config" --out "$out/gen/vta_pkg.sv" || die "vta-rtlgen failed for $config"

# 2. board + config -> settings.tcl, build_info.json (and link.cfg, the route hook for Alveo)
args=(configure "$board" --config "$config" --pkg "$out/gen/vta_pkg.sv" --out "$out")
[[ -n ${VTA_FPGA_MEM_PORT:-} ]] && args+=(--mem-port "$VTA_FPGA_MEM_PORT")
[[ -n ${VTA_FPGA_REG_PORT:-} ]] && args+=(--reg-port "$VTA_FPGA_REG_PORT")
[[ -n ${VTA_FPGA_CLOCK_MHZ:-} ]] && args+=(--clock-mhz "$VTA_FPGA_CLOCK_MHZ")
[[ -n ${VTA_FPGA_JOBS:-} ]] && args+=(--jobs "$VTA_FPGA_JOBS")
settings=$("$python" "$here/flow.py" "${args[@]}") || die "cannot configure $board with $config"
get() { sed -n "s/^$1=//p" <<<"$settings"; }
flow=$(get flow)
echo "build.sh: $board ($(get part)), config $(get config_name) (hash $(get config_hash)), $(get clock_mhz) MHz," \
     "BUS_W $(get bus_w), memory $(get mem_port_name)$( [[ -n $(get mem_bank) ]] && echo " -> $(get mem_bank)"), out $out"

# 3. the vendor tools
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "build.sh: error: '$1' is not on PATH. The $board flow needs $2." >&2
  echo "build.sh:        Source the tools' settings first, e.g. 'source <install>/Vivado/2022.2/settings64.sh'" \
       "(and for Alveo '<install>/Vitis/2022.2/settings64.sh' and XRT's setup.sh)." >&2
  echo "build.sh:        Prepared so far: $out/gen/vta_pkg.sv, $out/settings.tcl" >&2
  exit 3
}
status=0
if [[ $flow == vivado ]]; then
  need vivado "AMD Vivado 2022.2 or later"
  (cd "$out" && vivado -mode batch -nojournal -log "$out/vivado.log" \
     -source "$here/vivado/build.tcl" -tclargs "$out/settings.tcl") || status=$?
  [[ $status == 2 ]] && die "timing not met after routing: no bitstream (failing paths in $out/vivado.log," \
                            "$out/reports/failing_paths.rpt)" 2
  [[ $status == 0 ]] || die "Vivado failed ($status); see $out/vivado.log"
  echo "build.sh: done: $out/vta.bit $out/vta.hwh $out/vta.xsa (reports in $out/reports)"
else
  need vivado "AMD Vivado 2022.2 or later (package_xo) and Vitis v++"
  need v++ "AMD Vitis 2022.2 or later (v++) and the platform $(get platform)"
  (cd "$out" && vivado -mode batch -nojournal -log "$out/package_xo.log" \
     -source "$here/vitis/package_xo.tcl" -tclargs "$out/settings.tcl") || die "package_xo failed; see $out/package_xo.log"
  rm -f "$out/vta.xclbin" "$out/reports/timing.json"
  (cd "$out" && v++ --link --target hw --platform "$(get platform)" \
     --kernel_frequency "$(get kernel_clock_id):$(get clock_mhz)" --config "$out/link.cfg" \
     --linkhook.do_last "vpl.impl.route_design,$out/vitis_route_hook.tcl" \
     --save-temps --temp_dir "$out/_x" --report_dir "$out/reports/vpp" --log_dir "$out/logs" \
     --output "$out/vta.xclbin" "$(get xo_path)") || status=$?
  check=("$python" "$here/vitis/check_timing.py" --xclbin "$out/vta.xclbin" --reports "$out/reports" --search "$out/_x")
  if [[ $status != 0 ]]; then
    # The route hook stops the link on negative slack: say so, with the failing paths.
    if grep -qs '"met": false' "$out/reports/timing.json"; then
      "${check[@]}" || true
      die "timing not met after routing: no xclbin (failing paths above, $out/reports/failing_paths.rpt)" 2
    fi
    die "v++ failed ($status); see $out/logs"
  fi
  # A finished link may still carry a clock v++ scaled down: keep the xclbin only if timing was met.
  "${check[@]}" || die "timing not met after routing: xclbin removed" 2
  echo "build.sh: done: $out/vta.xclbin (reports in $out/reports)"
fi
