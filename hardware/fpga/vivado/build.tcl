# Bitstream of the VTA core for a Zynq board (hardware/fpga/build.sh runs it):
#   vivado -mode batch -source build.tcl -tclargs <out>/settings.tcl
# 1. packages the core as an IP (package_ip.tcl), 2. builds the block design (bd_<family>.tcl),
# 3. synthesis, then implementation up to route_design, 4. the timing gate (timing_check.tcl) on the
# routed design: WNS or WHS below zero prints the failing paths and exits with status 2, before any
# bitstream exists, 5. otherwise the bitstream, the .hwh (PYNQ) and the .xsa (PetaLinux / Vitis).
# Outputs in <out>: vta.bit, vta.hwh, vta.xsa, reports/{timing_summary_routed,utilization*}.rpt,
# reports/timing.json; the Vivado project in <out>/vivado.

set vta_library_mode 1
set vta_script_dir [file dirname [file normalize [info script]]]
source [file join $vta_script_dir util.tcl]
vta_load_settings
vta_require_version $vta(min_vivado)
if {$vta(family) ni {zynq7 zynqmp}} {
  error "VTA: build.tcl builds Zynq boards; $vta(board) is $vta(family) (vitis/ flow)"
}
source [file join $vta_script_dir package_ip.tcl]
source [file join $vta_script_dir timing_check.tcl]
source [file join $vta_script_dir bd_$vta(family).tcl]
file mkdir $vta(out_dir) $vta(reports_dir)
foreach f {vta.bit vta.hwh vta.xsa} {
  file delete -force [file join $vta(out_dir) $f]
}

# 1. the core as an IP
vta_package_ip

# 2. the board's project and block design
set proj_dir [file join $vta(out_dir) vivado]
create_project -force -part $vta(part) $vta(project_name) $proj_dir
set board_part [vta_board_part]
if {$board_part ne ""} {
  set_property board_part $board_part [current_project]
  # The carrier card's connection only matters to its own interfaces, which the design does not use.
  if {$vta(board_connections) ne "" &&
      [catch {set_property board_connections $vta(board_connections) [current_project]} err]} {
    puts "WARNING: VTA: board connection '$vta(board_connections)' not set: $err"
  }
  puts "VTA: board part $board_part"
} else {
  puts "WARNING: VTA: no board files for $vta(board_part) installed: the PS keeps the part's defaults (no board preset)"
}
set_property ip_repo_paths [list $vta(ip_dir)] [current_project]
update_ip_catalog -rebuild
vta_create_bd
set bd_file [get_files $vta(bd_name).bd]
generate_target all $bd_file
# UG835 syntax: the .bd as the plain argument; -import adds the wrapper to the project.
make_wrapper -top -import $bd_file
set_property top $vta(bd_name)_wrapper [current_fileset]
update_compile_order -fileset sources_1

# 3. synthesis, placement and routing
launch_runs synth_1 -jobs $vta(jobs)
wait_on_run synth_1
vta_require_run synth_1 synth_design
launch_runs impl_1 -to_step route_design -jobs $vta(jobs)
wait_on_run impl_1
vta_require_run impl_1 route_design

# 4. the timing gate, on the routed design
open_run impl_1
report_utilization -file [file join $vta(reports_dir) utilization.rpt]
report_utilization -hierarchical -file [file join $vta(reports_dir) utilization_hierarchical.rpt]
set timing_met [vta_check_timing $vta(reports_dir) $vta(timing_max_paths)]
if {!$timing_met} {
  puts "ERROR: VTA: $vta(board) at $vta(clock_mhz) MHz does not meet timing after routing; no bitstream written."
  puts "ERROR: VTA: reports in $vta(reports_dir); a lower clock: VTA_FPGA_CLOCK_MHZ=<MHz> hardware/fpga/build.sh ..."
  exit 2
}
close_design

# 5. bitstream and hand-off files
launch_runs impl_1 -to_step write_bitstream -jobs $vta(jobs)
wait_on_run impl_1
vta_require_run impl_1 write_bitstream
set run_dir [get_property DIRECTORY [get_runs impl_1]]
file copy -force [file join $run_dir $vta(bd_name)_wrapper.bit] [file join $vta(out_dir) vta.bit]
set hwh [vta_find_file [get_property DIRECTORY [current_project]] $vta(bd_name).hwh]
if {$hwh eq ""} {
  error "VTA: no $vta(bd_name).hwh under [get_property DIRECTORY [current_project]]"
}
file copy -force $hwh [file join $vta(out_dir) vta.hwh]
write_hw_platform -fixed -include_bit -force [file join $vta(out_dir) vta.xsa]
puts "VTA: built $vta(board) ($vta(config_name), $vta(clock_mhz) MHz): [file join $vta(out_dir) vta.bit], vta.hwh, vta.xsa"
