# Helpers shared by the Vivado and Vitis flows of the VTA core (hardware/fpga/).
# Every script takes one argument, the settings.tcl hardware/fpga/flow.py wrote for a board and a config:
#   vivado -mode batch -source <script> -tclargs <out>/settings.tcl

# Loads the settings into the global array vta (once; a script sourced by another finds them loaded).
proc vta_load_settings {} {
  global vta argv
  if {[info exists vta(board)]} {
    return
  }
  if {[llength $argv] < 1} {
    error "VTA: usage: vivado -mode batch -source <script> -tclargs <settings.tcl> (hardware/fpga/build.sh writes it)"
  }
  set settings [lindex $argv 0]
  if {![file exists $settings]} {
    error "VTA: no settings file $settings"
  }
  uplevel #0 [list source $settings]
}

# Refuses tool versions older than the flows were written for ("2022.2" < "2023.1").
proc vta_require_version {minimum} {
  set have [version -short]
  if {![regexp {^(\d+)\.(\d+)} $have -> y r] || ![regexp {^(\d+)\.(\d+)} $minimum -> my mr]} {
    error "VTA: cannot read the tool version '$have'"
  }
  if {$y < $my || ($y == $my && $r < $mr)} {
    error "VTA: Vivado $have is older than $minimum, the oldest version these scripts are written for"
  }
  puts "VTA: Vivado $have"
}

# The newest VLNV of an AMD catalog IP (xilinx.com:ip:<name>:<version>): no version pinned in the scripts.
proc vta_ip_vlnv {name} {
  set defs [get_ipdefs -all "xilinx.com:ip:${name}:*"]
  if {[llength $defs] == 0} {
    error "VTA: IP xilinx.com:ip:$name is not in the IP catalog"
  }
  return [lindex [lsort -dictionary $defs] end]
}

# The installed board part matching the board's (any vendor prefix, newest file version), or "".
proc vta_board_part {} {
  global vta
  if {$vta(board_part) eq ""} {
    return ""
  }
  set fields [split $vta(board_part) :]
  set found [get_board_parts -quiet "*:[lindex $fields 1]:[lindex $fields 2]:*"]
  if {[llength $found] == 0} {
    return ""
  }
  return [lindex [lsort -dictionary $found] end]
}

# Fails unless a run finished the step it was launched to (STATUS "<step> Complete!").
proc vta_require_run {run step} {
  set status [get_property STATUS [get_runs $run]]
  if {![string match "$step Complete*" $status]} {
    error "VTA: run $run did not complete $step (status: $status); see its log under [get_property DIRECTORY [get_runs $run]]"
  }
}

# The first file named $name below $dir (the block design's hand-off file moves between Vivado versions).
proc vta_find_file {dir name} {
  foreach f [glob -nocomplain -directory $dir -types f $name] {
    return $f
  }
  foreach d [glob -nocomplain -directory $dir -types d *] {
    set f [vta_find_file $d $name]
    if {$f ne ""} {
      return $f
    }
  }
  return ""
}

# Checks the PS's PL clock: it is what its PLL divides to, not always what was asked.
proc vta_check_pl_clock {actual} {
  global vta
  if {$actual eq "" || abs($actual - $vta(clock_mhz)) > 0.01 * $vta(clock_mhz)} {
    error "VTA: the PS gives a $actual MHz PL clock for the $vta(clock_mhz) MHz asked; pick a clock its PLL divides to (VTA_FPGA_CLOCK_MHZ)"
  }
  puts "VTA: PL clock $actual MHz (asked $vta(clock_mhz))"
}

# Registers at the board's base address (4 KiB: the 12-bit register map), every other segment where
# Vivado puts it; the core must reach DDR through its memory port.
proc vta_assign_addresses {ps_space} {
  global vta
  set reg_seg [get_bd_addr_segs vta/s_axi_control/*]
  if {$reg_seg eq ""} {
    error "VTA: the core has no register segment (vta/s_axi_control)"
  }
  assign_bd_address -offset $vta(reg_base) -range $vta(reg_range) \
      -target_address_space [get_bd_addr_spaces $ps_space] $reg_seg -force
  assign_bd_address
  set mem_segs [get_bd_addr_segs -of_objects [get_bd_addr_spaces vta/m_axi_gmem]]
  if {$mem_segs eq ""} {
    error "VTA: nothing is mapped into the core's memory space (vta/m_axi_gmem -> $vta(mem_port_name))"
  }
  puts "VTA: registers at $vta(reg_base) ($vta(reg_range)) through $vta(reg_port_name); memory through $vta(mem_port_name)"
}

# The part of the block design both PS families share: the VTA core, a SmartConnect on each of its AXI
# ports (protocol, width and clock-domain conversion to the PS port), a reset synchronizer, one PL clock.
#   ps: the PS cell; pins: dict of the PS's pin names (clk rstn reg_intf reg_aclk mem_intf mem_aclk irq)
proc vta_bd_core {ps pins} {
  global vta
  set core [create_bd_cell -type ip -vlnv $vta(ip_vlnv) vta]
  set_property -dict [list CONFIG.BUS_W $vta(bus_w) CONFIG.ADDR_W $vta(addr_w) \
      CONFIG.AXI_CACHE $vta(axi_cache) CONFIG.AXI_PROT $vta(axi_prot)] $core
  set rst [create_bd_cell -type ip -vlnv [vta_ip_vlnv proc_sys_reset] rst]
  foreach smc {smc_reg smc_mem} {
    set_property -dict [list CONFIG.NUM_SI 1 CONFIG.NUM_MI 1] \
        [create_bd_cell -type ip -vlnv [vta_ip_vlnv smartconnect] $smc]
  }
  set clk [get_bd_pins $ps/[dict get $pins clk]]
  connect_bd_net $clk [get_bd_pins $ps/[dict get $pins reg_aclk]] [get_bd_pins $ps/[dict get $pins mem_aclk]] \
      [get_bd_pins vta/ap_clk] [get_bd_pins rst/slowest_sync_clk] [get_bd_pins smc_reg/aclk] [get_bd_pins smc_mem/aclk]
  connect_bd_net [get_bd_pins $ps/[dict get $pins rstn]] [get_bd_pins rst/ext_reset_in]
  connect_bd_net [get_bd_pins rst/peripheral_aresetn] [get_bd_pins vta/ap_rst_n]
  connect_bd_net [get_bd_pins rst/interconnect_aresetn] [get_bd_pins smc_reg/aresetn] [get_bd_pins smc_mem/aresetn]
  connect_bd_intf_net [get_bd_intf_pins $ps/[dict get $pins reg_intf]] [get_bd_intf_pins smc_reg/S00_AXI]
  connect_bd_intf_net [get_bd_intf_pins smc_reg/M00_AXI] [get_bd_intf_pins vta/s_axi_control]
  connect_bd_intf_net [get_bd_intf_pins vta/m_axi_gmem] [get_bd_intf_pins smc_mem/S00_AXI]
  connect_bd_intf_net [get_bd_intf_pins smc_mem/M00_AXI] [get_bd_intf_pins $ps/[dict get $pins mem_intf]]
  connect_bd_net [get_bd_pins vta/interrupt] [get_bd_pins $ps/[dict get $pins irq]]
  return $core
}
