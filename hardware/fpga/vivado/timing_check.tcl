# The timing gate of the FPGA flows, on the routed design in memory: build.tcl calls it before it writes
# a bitstream, and v++ runs it after route_design of an Alveo link (vitis_route_hook.tcl, generated).
#
# vta_check_timing report_dir ?max_paths?
#   writes <report_dir>/timing_summary_routed.rpt and timing.json (WNS, WHS, met), and returns 1 when
#   every constrained path meets setup and hold. Otherwise it prints the failing paths (start point ->
#   end point, slack, clock) and writes them to <report_dir>/failing_paths.rpt, and returns 0.
#   No timing paths at all (no clock constraint) counts as a failure: nothing was checked.

proc vta_json_num {v} {
  if {$v eq ""} {
    return null
  }
  return $v
}

proc vta_write_timing_json {report_dir wns whs met} {
  set f [open [file join $report_dir timing.json] w]
  puts $f [format "{\"wns_ns\": %s, \"whs_ns\": %s, \"met\": %s}" [vta_json_num $wns] [vta_json_num $whs] $met]
  close $f
}

proc vta_check_timing {report_dir {max_paths 10}} {
  file mkdir $report_dir
  report_timing_summary -max_paths $max_paths -report_unconstrained -warn_on_violation \
      -file [file join $report_dir timing_summary_routed.rpt]
  # Constrained paths only: an unconstrained design then has none and fails below.
  set setup [get_timing_paths -setup -max_paths 1 -nworst 1 -no_report_unconstrained]
  set hold [get_timing_paths -hold -max_paths 1 -nworst 1 -no_report_unconstrained]
  set wns ""
  set whs ""
  if {$setup ne ""} {
    set wns [get_property SLACK $setup]
  }
  if {$hold ne ""} {
    set whs [get_property SLACK $hold]
  }
  if {![string is double -strict $wns] || ![string is double -strict $whs]} {
    vta_write_timing_json $report_dir $wns $whs false
    puts "VTA timing: FAILED: no constrained setup/hold path (WNS '$wns', WHS '$whs'): is the clock constrained?"
    return 0
  }
  if {$wns >= 0 && $whs >= 0} {
    vta_write_timing_json $report_dir $wns $whs true
    puts "VTA timing: met after routing (WNS $wns ns, WHS $whs ns)"
    return 1
  }
  vta_write_timing_json $report_dir $wns $whs false
  puts "VTA timing: FAILED after routing: WNS $wns ns, WHS $whs ns; the worst $max_paths paths of each kind:"
  foreach kind {setup hold} {
    foreach p [get_timing_paths -$kind -max_paths $max_paths -nworst 1 -slack_lesser_than 0 -no_report_unconstrained] {
      puts [format "  %-5s slack %8s ns  %s -> %s  (clock %s, %s logic levels)" $kind \
          [get_property SLACK $p] [get_property STARTPOINT_PIN $p] [get_property ENDPOINT_PIN $p] \
          [get_property ENDPOINT_CLOCK $p] [get_property LOGIC_LEVELS $p]]
    }
  }
  report_timing -delay_type min_max -max_paths $max_paths -slack_lesser_than 0 -sort_by slack -path_type summary
  report_timing -delay_type min_max -max_paths $max_paths -slack_lesser_than 0 -sort_by slack -input_pins \
      -file [file join $report_dir failing_paths.rpt]
  puts "VTA timing: full paths in [file join $report_dir failing_paths.rpt]"
  return 0
}
