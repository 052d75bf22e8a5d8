# Stand-ins for the Vivado / Vitis Tcl commands the FPGA flows use, for hardware/fpga/check_flows.py: the
# flows' own scripts run in a plain tclsh with these defined instead of the tools.
#
# Each stand-in checks its arguments against the command's syntax as documented (UG835 Vivado Tcl
# Command Reference; UG1393 for package_xo; the ipx:: commands as the tools' own help and UG1118 show
# them): an option the command does not have, an option without its value, a missing required option or
# a wrong number of plain arguments is an error, and so is any command without a stand-in (`unknown`).
# Calls are recorded (::stub::dump writes them as JSON lines) and the stand-ins keep enough state to
# fail like the tools on the mistakes a script can make without a tool at hand: a pin or interface the
# cell does not have (or whose PS port is disabled), an unconnected clock or reset at validate_bd_design,
# an address assigned over an unconnected path, timing queried with no routed design open, a bitstream
# included before it was written. Timing results, the tool version and the installed board files come
# from a scenario the checker sets (::stub::scenario).

namespace eval ::stub {
  variable calls {}
  variable scenario [dict create version 2022.2 setup_slacks {0.120} hold_slacks {0.015} board_parts 1 \
      tmp /tmp]
  variable props [dict create]     ;# object -> dict of properties set
  variable cells [dict create]     ;# bd cell -> ip name
  variable nets {}                 ;# list of pin lists connected by connect_bd_net
  variable intf_nets {}            ;# list of {a b} interface connections
  variable external {}             ;# PS interfaces made external by apply_bd_automation
  variable runs [dict create]      ;# run -> status
  variable project ""
  variable project_dir ""
  variable bd ""
  variable design_open 0
  variable core ""
  variable core_root ""
  variable core_saved 0
  variable busifs [dict create]    ;# IP packager bus interfaces -> mode
  variable wrapper_ports {}        ;# ports of the FPGA top (set by the checker)
  variable wrapper_params {}       ;# its parameters
  variable addr_assigned 0
  variable reg_assigned 0
  variable top ""

  # Syntax: value-taking options (v), flags (f), required options (req), plain arguments (min, max; -1 = any).
  # -quiet and -verbose are accepted everywhere, as by every Vivado command.
  variable spec [dict create \
    version                 {v {} f {-short} min 0 max 0} \
    exit                    {v {} f {} min 0 max 1} \
    create_project          {v {-part} f {-force -in_memory -ip -rtl_kernel} min 0 max 2} \
    close_project           {v {} f {-delete} min 0 max 0} \
    current_project         {v {} f {} min 0 max 1} \
    current_fileset         {v {} f {-constrset -simset} min 0 max 1} \
    get_property            {v {} f {-min -max} min 2 max 2} \
    set_property            {v {-dict -name -value -objects} f {} min 0 max -1} \
    get_board_parts         {v {-filter} f {-regexp -nocase -latest_file_version -latest_hw_revision} min 0 max -1} \
    get_ipdefs              {v {-filter -of_objects} f {-name -regexp -nocase -all} min 0 max -1} \
    update_ip_catalog       {v {-add_ip -delete_ip -repo_path} f {-rebuild -scan_changes -disable_ip -enable_ip -add_interface -create_index -update_module_ref} min 0 max 0} \
    add_files               {v {-fileset -of_objects -copy_to} f {-norecurse -scan_for_includes -force} min 0 max -1} \
    update_compile_order    {v {-fileset} f {} min 0 max 0} \
    get_files               {v {-filter -of_objects -compile_order -used_in} f {-regexp -nocase -references -all} min 0 max -1} \
    get_runs                {v {-filter -of_objects} f {-regexp -nocase} min 0 max -1} \
    launch_runs             {v {-jobs -lsf -sge -cluster_configuration -dir -to_step -host -remote_cmd -email_to -pre_launch_script -post_launch_script -custom_script} f {-scripts_only -next_step -email_all -force} min 1 max -1} \
    wait_on_run             {v {-timeout -exit_condition} f {} min 1 max -1} \
    open_run                {v {-name -pr_config} f {-disable_flow} min 1 max 1} \
    close_design            {v {} f {} min 0 max 0} \
    report_utilization      {v {-file -pblocks -cells -name -spreadsheet_file -spreadsheet_table -spreadsheet_depth -hierarchical_depth} f {-append -evaluate_pblock -exclude_child_pblocks -exclude_non_assigned -return_string -slr -packthru -no_primitives -omit_locs -hierarchical -hierarchical_percentages} min 0 max 0} \
    report_timing_summary   {v {-delay_type -max_paths -nworst -path_type -inter_slr -slack_lesser_than -significant_digits -file -name -cells -rpx} f {-check_timing_verbose -no_detailed_paths -setup -hold -unique_pins -no_reused_label -input_pins -no_pr_attribute -no_pblock -routable_nets -report_unconstrained -no_header -append -return_string -warn_on_violation -datasheet} min 0 max 0} \
    report_timing           {v {-from -rise_from -fall_from -to -rise_to -fall_to -through -rise_through -fall_through -delay_type -max_paths -nworst -path_type -slack_lesser_than -slack_greater_than -group -sort_by -of_objects -significant_digits -column_style -file -name -inter_slr -cells -rpx} f {-setup -hold -unique_pins -input_pins -no_header -no_reused_label -no_report_unconstrained -user_ignored -append -no_pr_attribute -no_pblock -routable_nets -return_string -warn_on_violation} min 0 max 0} \
    get_timing_paths        {v {-from -rise_from -fall_from -to -rise_to -fall_to -through -rise_through -fall_through -delay_type -max_paths -nworst -slack_lesser_than -slack_greater_than -group -inter_slr -sort_by -filter -cell} f {-setup -hold -unique_pins -no_report_unconstrained -user_ignored -routable_nets -regexp -nocase} min 0 max 0} \
    write_hw_platform       {v {-rp -rm} f {-fixed -force -include_bit -include_sim_content -minimal -hw -hw_emu -static} min 0 max 1} \
    create_bd_design        {v {-dir -cell -mode -bdsource} f {} min 1 max 1} \
    save_bd_design          {v {} f {} min 0 max 1} \
    validate_bd_design      {v {-design -steps} f {-force -include_pfm} min 0 max 0} \
    create_bd_cell          {v {-vlnv -type -reference -revision} f {} min 1 max 1} \
    get_bd_cells            {v {-filter -of_objects} f {-regexp -hierarchical} min 0 max -1} \
    get_bd_pins             {v {-filter -of_objects} f {-regexp -hierarchical} min 0 max -1} \
    get_bd_intf_pins        {v {-filter -of_objects} f {-regexp -hierarchical} min 0 max -1} \
    get_bd_addr_spaces      {v {-filter -of_objects} f {-regexp -hierarchical} min 0 max -1} \
    get_bd_addr_segs        {v {-filter -of_objects} f {-regexp -hierarchical -excluded -addressables -addressing} min 0 max -1} \
    connect_bd_net          {v {-net -boundary_type} f {} min 2 max -1} \
    connect_bd_intf_net     {v {-intf_net -boundary_type} f {} min 2 max 2} \
    apply_bd_automation     {v {-rule -config -dict -opts} f {} min 1 max -1 req {-rule}} \
    assign_bd_address       {v {-target_address_space -dict -import_from_file -export_to_file -export_gui_to_file -offset -range -base_high} f {-boundary -master_boundary -external -force} min 0 max -1} \
    generate_target         {v {} f {-force} min 2 max 2} \
    make_wrapper            {v {-fileset} f {-top -testbench -inst_template -import -force} min 1 max 1} \
    ipx::package_project    {v {-root_dir -vendor -library -name -version -taxonomy -module -set_current} f {-import_files -force -force_update_compile_order -generated_files} min 0 max 0} \
    ipx::current_core       {v {} f {} min 0 max 1} \
    ipx::infer_bus_interface {v {-name} f {} min 2 max 3} \
    ipx::associate_bus_interfaces {v {-busif -clock -reset} f {-clear} min 0 max 1 req {-clock}} \
    ipx::get_bus_interfaces {v {-of_objects -filter} f {-regexp -nocase} min 0 max 1} \
    ipx::get_bus_parameters {v {-of_objects -filter} f {-regexp -nocase} min 0 max 1} \
    ipx::add_bus_parameter  {v {} f {} min 2 max 2} \
    ipx::get_memory_maps    {v {-of_objects -filter} f {-regexp -nocase} min 0 max 1} \
    ipx::add_memory_map     {v {} f {} min 2 max 2} \
    ipx::get_address_blocks {v {-of_objects -filter} f {-regexp -nocase} min 0 max 1} \
    ipx::add_address_block  {v {} f {} min 2 max 2} \
    ipx::get_user_parameters {v {-of_objects -filter} f {-regexp -nocase} min 0 max 1} \
    ipx::get_hdl_parameters {v {-of_objects -filter} f {-regexp -nocase} min 0 max 1} \
    ipx::create_xgui_files  {v {} f {} min 1 max 1} \
    ipx::update_checksums   {v {} f {} min 1 max 1} \
    ipx::check_integrity    {v {} f {-kernel -xrt -quiet_log} min 1 max 1} \
    ipx::save_core          {v {} f {} min 0 max 1} \
    package_xo              {v {-kernel_name -kernel_xml -output_kernel_xml -design_xml -ip_directory -parent_ip_directory -kernel_files -kernel_xml_args -kernel_xml_pipes -kernel_xml_connections -ctrl_protocol -xo_path} f {-force} min 0 max 0 req {-kernel_name -xo_path}} \
  ]

  # The PS pins and interfaces (PG082, PG201) and the parameter that enables each (always = present).
  variable ps_ports [dict create \
    processing_system7 {
      FCLK_CLK0 PCW_EN_CLK0_PORT FCLK_RESET0_N PCW_EN_RST0_PORT IRQ_F2P PCW_USE_FABRIC_INTERRUPT
      DDR always FIXED_IO always
      M_AXI_GP0 PCW_USE_M_AXI_GP0 M_AXI_GP0_ACLK PCW_USE_M_AXI_GP0
      M_AXI_GP1 PCW_USE_M_AXI_GP1 M_AXI_GP1_ACLK PCW_USE_M_AXI_GP1
      S_AXI_HP0 PCW_USE_S_AXI_HP0 S_AXI_HP0_ACLK PCW_USE_S_AXI_HP0
      S_AXI_HP1 PCW_USE_S_AXI_HP1 S_AXI_HP1_ACLK PCW_USE_S_AXI_HP1
      S_AXI_HP2 PCW_USE_S_AXI_HP2 S_AXI_HP2_ACLK PCW_USE_S_AXI_HP2
      S_AXI_HP3 PCW_USE_S_AXI_HP3 S_AXI_HP3_ACLK PCW_USE_S_AXI_HP3
      S_AXI_ACP PCW_USE_S_AXI_ACP S_AXI_ACP_ACLK PCW_USE_S_AXI_ACP
    } \
    zynq_ultra_ps_e {
      pl_clk0 PSU__FPGA_PL0_ENABLE pl_resetn0 PSU__FPGA_PL0_ENABLE pl_ps_irq0 PSU__USE__IRQ0
      M_AXI_HPM0_FPD PSU__USE__M_AXI_GP0 maxihpm0_fpd_aclk PSU__USE__M_AXI_GP0
      M_AXI_HPM1_FPD PSU__USE__M_AXI_GP1 maxihpm1_fpd_aclk PSU__USE__M_AXI_GP1
      M_AXI_HPM0_LPD PSU__USE__M_AXI_GP2 maxihpm0_lpd_aclk PSU__USE__M_AXI_GP2
      S_AXI_HPC0_FPD PSU__USE__S_AXI_GP0 saxihpc0_fpd_aclk PSU__USE__S_AXI_GP0
      S_AXI_HPC1_FPD PSU__USE__S_AXI_GP1 saxihpc1_fpd_aclk PSU__USE__S_AXI_GP1
      S_AXI_HP0_FPD PSU__USE__S_AXI_GP2 saxihp0_fpd_aclk PSU__USE__S_AXI_GP2
      S_AXI_HP1_FPD PSU__USE__S_AXI_GP3 saxihp1_fpd_aclk PSU__USE__S_AXI_GP3
      S_AXI_HP2_FPD PSU__USE__S_AXI_GP4 saxihp2_fpd_aclk PSU__USE__S_AXI_GP4
      S_AXI_HP3_FPD PSU__USE__S_AXI_GP5 saxihp3_fpd_aclk PSU__USE__S_AXI_GP5
    } \
  ]
  # What a PS enables before anyone configures it (its defaults).
  variable ps_defaults [dict create processing_system7 {PCW_USE_M_AXI_GP0 1 PCW_EN_CLK0_PORT 1 PCW_EN_RST0_PORT 1} \
      zynq_ultra_ps_e {PSU__USE__M_AXI_GP0 1 PSU__USE__M_AXI_GP1 1 PSU__FPGA_PL0_ENABLE 1}]
  variable other_pins [dict create \
    proc_sys_reset {pins {slowest_sync_clk ext_reset_in aux_reset_in mb_debug_sys_rst dcm_locked mb_reset bus_struct_reset peripheral_reset interconnect_aresetn peripheral_aresetn} intf {}} \
    smartconnect {pins {aclk aresetn} intf {S00_AXI M00_AXI}} \
  ]
}

proc ::stub::fail {msg} {
  return -code error -errorcode {VTASTUB MISUSE} $msg
}

# Parses a call against the spec; returns {options-dict positionals}.
proc ::stub::parse {cmd arglist} {
  variable spec
  set s [dict get $spec $cmd]
  set v [concat [dict get $s v]]
  set f [concat [dict get $s f] -quiet -verbose]
  set opts [dict create]
  set pos {}
  for {set i 0} {$i < [llength $arglist]} {incr i} {
    set a [lindex $arglist $i]
    if {[string match -* $a] && ![string is double -strict $a]} {
      if {$a in $v} {
        if {$i + 1 >= [llength $arglist]} {
          fail "$cmd: option $a needs a value"
        }
        incr i
        dict set opts $a [lindex $arglist $i]
      } elseif {$a in $f} {
        dict set opts $a 1
      } else {
        fail "$cmd: no option $a (documented: [lsort [concat $v $f]])"
      }
    } else {
      lappend pos $a
    }
  }
  set min [dict get $s min]
  set max [dict get $s max]
  if {[llength $pos] < $min || ($max >= 0 && [llength $pos] > $max)} {
    fail "$cmd: [llength $pos] plain arguments ($pos), takes $min..[expr {$max < 0 ? "any" : $max}]"
  }
  if {[dict exists $s req]} {
    foreach r [dict get $s req] {
      if {![dict exists $opts $r]} {
        fail "$cmd: required option $r missing"
      }
    }
  }
  return [list $opts $pos]
}

proc ::stub::record {cmd opts pos} {
  variable calls
  lappend calls [list $cmd $opts $pos]
}

proc ::stub::json_str {s} {
  return "\"[string map [list \\ \\\\ \" \\\" \n \\n \t \\t \r \\r] $s]\""
}

proc ::stub::dump {path} {
  variable calls
  set f [open $path w]
  foreach c $calls {
    lassign $c cmd opts pos
    set o {}
    dict for {k v} $opts {
      lappend o "[json_str $k]: [json_str $v]"
    }
    set p {}
    foreach x $pos {
      lappend p [json_str $x]
    }
    puts $f "{\"cmd\": [json_str $cmd], \"opts\": {[join $o {, }]}, \"args\": \[[join $p {, }]\]}"
  }
  close $f
}

proc ::stub::prop {obj name {default ""}} {
  variable props
  if {[dict exists $props $obj $name]} {
    return [dict get $props $obj $name]
  }
  return $default
}

proc ::stub::touch {path {text "stub output\n"}} {
  file mkdir [file dirname $path]
  set f [open $path w]
  puts -nonewline $f $text
  close $f
}

# --- block design model
proc ::stub::cell_ip {cell} {
  variable cells
  if {![dict exists $cells $cell]} {
    return ""
  }
  return [dict get $cells $cell]
}

# Whether cell/pin exists (kind pin or intf), with PS ports present only when enabled.
proc ::stub::has_pin {path kind} {
  variable ps_ports
  variable ps_defaults
  variable other_pins
  variable wrapper_ports
  set cell [file dirname $path]
  set pin [file tail $path]
  set ip [cell_ip $cell]
  if {$ip eq ""} {
    return 0
  }
  if {[dict exists $ps_ports $ip]} {
    set table [dict get $ps_ports $ip]
    if {![dict exists $table $pin]} {
      return 0
    }
    set en [dict get $table $pin]
    if {$en eq "always"} {
      return 1
    }
    set dflt [expr {[dict exists $ps_defaults $ip $en] ? [dict get $ps_defaults $ip $en] : 0}]
    return [expr {[prop $cell CONFIG.$en $dflt] == 1}]
  }
  if {$ip eq "vta"} {
    if {$kind eq "intf"} {
      return [expr {$pin in {s_axi_control m_axi_gmem}}]
    }
    return [expr {$pin in $wrapper_ports && ![string match s_axi_control_* $pin] && ![string match m_axi_gmem_* $pin]}]
  }
  if {[dict exists $other_pins $ip]} {
    return [expr {$pin in [dict get $other_pins $ip [expr {$kind eq "intf" ? "intf" : "pins"}]]}]
  }
  return 0
}

proc ::stub::get_pins {kind opts pos} {
  set out {}
  foreach p $pos {
    foreach x $p {
      if {[has_pin $x $kind]} {
        lappend out $x
      }
    }
  }
  return $out
}

proc ::stub::connected {pin} {
  variable nets
  foreach n $nets {
    if {$pin in $n} {
      return 1
    }
  }
  return 0
}

proc ::stub::intf_peer {pin} {
  variable intf_nets
  foreach n $intf_nets {
    lassign $n a b
    if {$a eq $pin} {
      return $b
    }
    if {$b eq $pin} {
      return $a
    }
  }
  return ""
}

# Follows an interface through SmartConnects (S0x_AXI <-> M0x_AXI) to the far end.
proc ::stub::reach {pin} {
  set seen {}
  while {$pin ne "" && $pin ni $seen} {
    lappend seen $pin
    set peer [intf_peer $pin]
    if {$peer eq ""} {
      return ""
    }
    set cell [file dirname $peer]
    if {[cell_ip $cell] ne "smartconnect"} {
      return $peer
    }
    set pin [expr {[string match S* [file tail $peer]] ? "$cell/M00_AXI" : "$cell/S00_AXI"}]
  }
  return ""
}

# --- scenario-driven timing
proc ::stub::paths {kind opts} {
  variable scenario
  variable design_open
  if {!$design_open} {
    fail "get_timing_paths: no design is open (open_run first)"
  }
  set slacks [dict get $scenario ${kind}_slacks]
  set out {}
  set i 0
  foreach s $slacks {
    incr i
    if {[dict exists $opts -slack_lesser_than] && !($s < [dict get $opts -slack_lesser_than])} {
      continue
    }
    lappend out "tp_${kind}_$i"
    dict set ::stub::props tp_${kind}_$i SLACK $s
    dict set ::stub::props tp_${kind}_$i STARTPOINT_PIN "vta/inst/u_core/u_compute/${kind}_src_reg\[$i\]/C"
    dict set ::stub::props tp_${kind}_$i ENDPOINT_PIN "vta/inst/u_core/u_compute/${kind}_dst_reg\[$i\]/D"
    dict set ::stub::props tp_${kind}_$i ENDPOINT_CLOCK clk_pl_0
    dict set ::stub::props tp_${kind}_$i LOGIC_LEVELS 33
  }
  set max [expr {[dict exists $opts -max_paths] ? [dict get $opts -max_paths] : 1}]
  return [lrange [lsort -command {apply {{a b} {
      expr {[dict get $::stub::props $a SLACK] < [dict get $::stub::props $b SLACK] ? -1 : 1}}}} $out] 0 [expr {$max - 1}]]
}

# --- the stand-ins
proc ::stub::define {cmd body} {
  proc ::$cmd args [string map [list @CMD@ $cmd @BODY@ $body] {
    lassign [::stub::parse {@CMD@} $args] opts pos
    ::stub::record {@CMD@} $opts $pos
    namespace eval ::stub [list set _opts $opts]
    namespace eval ::stub [list set _pos $pos]
    return [namespace eval ::stub {@BODY@}]
  }]
}

namespace eval ::stub {
  variable _opts
  variable _pos
}
namespace eval ::ipx {}

::stub::define version {dict get $scenario version}
::stub::define exit {
  set code [expr {[llength $_pos] ? [lindex $_pos 0] : 0}]
  return -code error -errorcode [list VTASTUB EXIT $code] "exit $code"
}
::stub::define create_project {
  lassign $_pos name dir
  set project $name
  set project_dir [file normalize [expr {$dir eq "" ? "." : $dir}]]
  set props [dict remove $props proj]
  set runs [dict create]
  file mkdir $project_dir
  set name
}
::stub::define close_project {
  if {$project eq ""} { fail "close_project: no project open" }
  set project ""
}
::stub::define current_project {
  if {$project eq ""} { fail "current_project: no project open" }
  return proj
}
::stub::define current_fileset {return sources_1}
::stub::define get_property {
  lassign $_pos name obj
  if {$obj eq ""} { fail "get_property $name: no object" }
  switch -glob -- $name {
    STATUS { return [expr {[dict exists $runs $obj] ? [dict get $runs $obj] : "Not started"}] }
    PROGRESS { return 100% }
    DIRECTORY {
      if {$obj eq "proj"} { return $project_dir }
      return [file join $project_dir $project.runs $obj]
    }
    INTERFACE_MODE {
      set n [lindex [split $obj :] end]
      return [expr {[dict exists $busifs $n] ? [dict get $busifs $n] : ""}]
    }
    CONFIG.PCW_ACT_FPGA0_PERIPHERAL_FREQMHZ { return [prop $obj CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ 50] }
    CONFIG.PSU__CRL_APB__PL0_REF_CTRL__ACT_FREQMHZ { return [prop $obj CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ 100] }
    default { return [prop $obj $name] }
  }
}
::stub::define set_property {
  if {[dict exists $_opts -dict]} {
    set pairs [dict get $_opts -dict]
    set objs [concat {*}$_pos]
    if {[llength $pairs] % 2} { fail "set_property -dict: odd name/value list" }
  } elseif {[dict exists $_opts -name]} {
    set pairs [list [dict get $_opts -name] [dict get $_opts -value]]
    set objs [dict get $_opts -objects]
  } else {
    if {[llength $_pos] < 3} { fail "set_property: needs <name> <value> <objects>" }
    set pairs [lrange $_pos 0 1]
    set objs [concat {*}[lrange $_pos 2 end]]
  }
  if {[llength $objs] == 0} { fail "set_property [lindex $pairs 0]: no object" }
  foreach o $objs {
    foreach {k v} $pairs {
      dict set props $o $k $v
      if {$o eq "sources_1" && $k eq "top"} { set top $v }
    }
  }
  return
}
::stub::define get_board_parts {
  if {![dict get $scenario board_parts]} { return {} }
  set out {}
  foreach p $_pos {
    lappend out [string map {* x} $p]
  }
  set out
}
::stub::define get_ipdefs {
  set out {}
  foreach p $_pos {
    lappend out [string map {* 1.0} $p]
  }
  set out
}
::stub::define update_ip_catalog {
  if {[prop proj ip_repo_paths] eq ""} { fail "update_ip_catalog: no IP repository set" }
}
::stub::define add_files {
  foreach f [concat {*}$_pos] {
    if {![file exists $f]} { fail "add_files: no file $f" }
  }
  set _pos
}
::stub::define update_compile_order {}
::stub::define get_files {
  set out {}
  foreach p $_pos {
    if {$bd ne "" && $p eq "$bd.bd"} {
      lappend out [file join $project_dir $project.srcs sources_1 bd $bd $bd.bd]
    }
  }
  set out
}
::stub::define get_runs {set _pos}
::stub::define launch_runs {
  foreach r $_pos {
    if {$project eq ""} { fail "launch_runs: no project" }
    if {$r eq "synth_1"} {
      if {$top eq ""} { fail "launch_runs: no top set" }
      dict set runs $r "synth_design Complete!"
    } else {
      if {![dict exists $runs synth_1]} { fail "launch_runs $r: synthesis has not run" }
      set step [expr {[dict exists $_opts -to_step] ? [dict get $_opts -to_step] : "write_bitstream"}]
      if {$design_open} { fail "launch_runs $r: close the open design first" }
      dict set runs $r "$step Complete!"
      if {$step eq "write_bitstream"} {
        touch [file join $project_dir $project.runs $r $top.bit]
      }
    }
  }
}
::stub::define wait_on_run {}
::stub::define open_run {
  set r [lindex $_pos 0]
  if {![dict exists $runs $r]} { fail "open_run $r: not run" }
  set design_open 1
}
::stub::define close_design {
  if {!$design_open} { fail "close_design: no design open" }
  set design_open 0
}
foreach ::stub::c {report_utilization report_timing_summary report_timing} {
  ::stub::define $::stub::c {
    if {!$design_open} { fail "report: no design open" }
    if {[dict exists $_opts -file]} { touch [dict get $_opts -file] }
  }
}
::stub::define get_timing_paths {
  if {[dict exists $_opts -hold] || ([dict exists $_opts -delay_type] && [dict get $_opts -delay_type] eq "min")} {
    paths hold $_opts
  } else {
    paths setup $_opts
  }
}
::stub::define write_hw_platform {
  if {[dict exists $_opts -include_bit] && (![dict exists $runs impl_1] ||
      [dict get $runs impl_1] ne "write_bitstream Complete!")} {
    fail "write_hw_platform -include_bit: no bitstream written"
  }
  if {[llength $_pos] == 0} { fail "write_hw_platform: no file" }
  touch [lindex $_pos 0]
}
::stub::define create_bd_design {
  set bd [lindex $_pos 0]
}
::stub::define save_bd_design {}
::stub::define create_bd_cell {
  set name [lindex $_pos 0]
  if {$bd eq ""} { fail "create_bd_cell: no block design" }
  if {![dict exists $_opts -vlnv]} { fail "create_bd_cell $name: no -vlnv" }
  set vlnv [split [dict get $_opts -vlnv] :]
  if {[llength $vlnv] != 4} { fail "create_bd_cell: VLNV [dict get $_opts -vlnv] is not vendor:library:name:version" }
  set ip [lindex $vlnv 2]
  if {$ip eq "vta_accel"} { set ip vta }
  dict set cells $name $ip
  set name
}
::stub::define get_bd_cells {
  set out {}
  foreach p $_pos { if {[dict exists $cells $p]} { lappend out $p } }
  set out
}
::stub::define get_bd_pins {get_pins pin $_opts $_pos}
::stub::define get_bd_intf_pins {get_pins intf $_opts $_pos}
::stub::define get_bd_addr_spaces {
  set out {}
  foreach p $_pos {
    if {$p eq "ps/Data" && [dict exists $cells ps]} { lappend out $p }
    if {$p eq "vta/m_axi_gmem" && [dict exists $cells vta]} { lappend out $p }
  }
  set out
}
::stub::define get_bd_addr_segs {
  if {[dict exists $_opts -of_objects]} {
    if {[dict get $_opts -of_objects] eq "vta/m_axi_gmem" && $addr_assigned} {
      return SEG_ps_DDR
    }
    return {}
  }
  set out {}
  foreach p $_pos {
    if {[string match vta/s_axi_control/* $p] && [dict exists $cells vta]} { lappend out vta/s_axi_control/reg0 }
  }
  set out
}
::stub::define connect_bd_net {
  foreach p $_pos {
    if {$p eq ""} { fail "connect_bd_net: an empty object (a pin that does not exist?)" }
  }
  lappend nets $_pos
}
::stub::define connect_bd_intf_net {
  foreach p $_pos {
    if {$p eq ""} { fail "connect_bd_intf_net: an empty object (an interface that does not exist or is disabled?)" }
    if {[intf_peer $p] ne ""} { fail "connect_bd_intf_net: $p is already connected" }
  }
  lappend intf_nets $_pos
}
::stub::define apply_bd_automation {
  set cfg [expr {[dict exists $_opts -config] ? [dict get $_opts -config] : {}}]
  if {[llength $cfg] % 2} { fail "apply_bd_automation -config: odd name/value list" }
  if {[dict exists $cfg make_external]} {
    foreach i [split [dict get $cfg make_external] ", "] {
      if {$i ne ""} { lappend external ps/$i }
    }
  }
}
::stub::define assign_bd_address {
  set segs [concat {*}$_pos]
  if {[llength $segs] == 0} {
    # everything left: the core's memory space needs a path to the PS memory port
    set far [reach vta/m_axi_gmem]
    if {$far eq "" || [cell_ip [file dirname $far]] ni {processing_system7 zynq_ultra_ps_e}} {
      fail "assign_bd_address: vta/m_axi_gmem does not reach a PS slave port"
    }
    set addr_assigned 1
    return SEG_ps_DDR
  }
  if {![dict exists $_opts -target_address_space]} { fail "assign_bd_address: no -target_address_space" }
  foreach s $segs {
    if {$s ne "vta/s_axi_control/reg0"} { fail "assign_bd_address: unknown segment $s" }
    set from [reach vta/s_axi_control]
    if {$from eq "" || [file dirname $from] ne [file dirname [dict get $_opts -target_address_space]]} {
      fail "assign_bd_address: vta/s_axi_control is not reached from [dict get $_opts -target_address_space]"
    }
  }
  set reg_assigned 1
  set segs
}
::stub::define validate_bd_design {
  # every present PS clock pin of a used AXI port connected; every AXI port of the PS either connected
  # or made external; the core, the SmartConnects and the reset block clocked and reset
  dict for {cell ip} $cells {
    if {![dict exists $ps_ports $ip]} { continue }
    dict for {pin en} [dict get $ps_ports $ip] {
      if {![has_pin $cell/$pin pin]} { continue }
      if {[string match *_ACLK $pin] || [string match *_aclk $pin]} {
        if {![connected $cell/$pin]} { fail "validate_bd_design: $cell/$pin (an enabled port's clock) is not connected" }
      } elseif {[string match {[MS]_AXI_*} $pin]} {
        if {[intf_peer $cell/$pin] eq "" && "$cell/$pin" ni $external} {
          fail "validate_bd_design: $cell/$pin is enabled but not connected"
        }
      } elseif {$pin in {DDR FIXED_IO} && "$cell/$pin" ni $external} {
        fail "validate_bd_design: $cell/$pin must be external (apply_bd_automation)"
      }
    }
  }
  foreach pin {vta/ap_clk vta/ap_rst_n smc_reg/aclk smc_reg/aresetn smc_mem/aclk smc_mem/aresetn
               rst/slowest_sync_clk rst/ext_reset_in} {
    if {![connected $pin]} { fail "validate_bd_design: $pin is not connected" }
  }
  foreach pin {vta/s_axi_control vta/m_axi_gmem} {
    if {[intf_peer $pin] eq ""} { fail "validate_bd_design: $pin is not connected" }
  }
  if {!$reg_assigned || !$addr_assigned} { fail "validate_bd_design: unassigned address segments" }
}
::stub::define generate_target {
  lassign $_pos what obj
  if {$obj eq ""} { fail "generate_target: no object" }
  if {[string match *.bd $obj]} {
    touch [file join $project_dir $project.gen sources_1 bd $bd hw_handoff $bd.hwh]
  }
}
::stub::define make_wrapper {
  if {[lindex $_pos 0] eq ""} { fail "make_wrapper: no file" }
  set w [file join $project_dir $project.gen sources_1 bd $bd hdl ${bd}_wrapper.v]
  touch $w
  set w
}
# --- IP packager
::stub::define ipx::package_project {
  if {$project eq ""} { fail "ipx::package_project: no project" }
  if {![dict exists $_opts -root_dir]} { fail "ipx::package_project: no -root_dir" }
  set core_root [dict get $_opts -root_dir]
  set core "ipcore:$top"
  # the packager infers AXI interfaces from port-name prefixes
  set busifs [dict create]
  foreach p $wrapper_ports {
    if {[regexp {^(s_axi_[a-z]+|m_axi_[a-z]+)_} $p -> bi]} {
      dict set busifs $bi [expr {[string match s_* $bi] ? "slave" : "master"}]
    }
  }
  return $core
}
::stub::define ipx::current_core {
  if {$core eq ""} { fail "ipx::current_core: no IP being packaged" }
  set core
}
::stub::define ipx::infer_bus_interface {
  lassign $_pos port vlnv obj
  foreach p $port {
    if {$p ni $wrapper_ports} { fail "ipx::infer_bus_interface: the top has no port $p" }
  }
  if {[llength [split $vlnv :]] != 4} { fail "ipx::infer_bus_interface: $vlnv is not a VLNV" }
  dict set busifs [lindex $port 0] signal
}
::stub::define ipx::associate_bus_interfaces {
  foreach o {-busif -clock -reset} {
    if {[dict exists $_opts $o] && ![dict exists $busifs [dict get $_opts $o]]} {
      fail "ipx::associate_bus_interfaces: no bus interface [dict get $_opts $o]"
    }
  }
}
::stub::define ipx::get_bus_interfaces {
  set n [lindex $_pos 0]
  expr {[dict exists $busifs $n] ? "busif:$n" : ""}
}
::stub::define ipx::get_bus_parameters {return ""}
::stub::define ipx::add_bus_parameter {
  lassign $_pos name obj
  if {$obj eq ""} { fail "ipx::add_bus_parameter $name: no bus interface" }
  return "$obj:$name"
}
::stub::define ipx::get_memory_maps {
  expr {[lindex $_pos 0] eq "s_axi_control" && [dict exists $busifs s_axi_control] ? "mm:s_axi_control" : ""}
}
::stub::define ipx::add_memory_map {return "mm:[lindex $_pos 0]"}
::stub::define ipx::get_address_blocks {
  expr {[dict exists $_opts -of_objects] && [dict get $_opts -of_objects] ne "" ? "ab:reg0" : ""}
}
::stub::define ipx::add_address_block {return "ab:[lindex $_pos 0]"}
foreach ::stub::c {ipx::get_user_parameters ipx::get_hdl_parameters} {
  ::stub::define $::stub::c {
    set n [lindex $_pos 0]
    expr {$n in $wrapper_params ? "param:$n" : ""}
  }
}
foreach ::stub::c {ipx::create_xgui_files ipx::update_checksums ipx::check_integrity} {
  ::stub::define $::stub::c {
    if {[lindex $_pos 0] ne $core} { fail "ipx: not the current core" }
  }
}
::stub::define ipx::save_core {
  set core_saved 1
  touch [file join $core_root component.xml]
}
::stub::define package_xo {
  if {!$core_saved} { fail "package_xo: no packaged IP saved" }
  if {[dict get $_opts -ip_directory] ne $core_root} { fail "package_xo: -ip_directory is not the packaged IP" }
  touch [dict get $_opts -xo_path]
}

# Any other command is one the flows use without a stand-in: undocumented here, so an error.
proc unknown {args} {
  return -code error -errorcode {VTASTUB UNDEFINED} "undefined command: [lindex $args 0]"
}
