# Block design of the VTA core on a Zynq-7000 (processing_system7): PYNQ-Z1, PYNQ-Z2.
#   FCLK_CLK0 at the board's clock drives everything; the registers hang off a PS master port
#   (M_AXI_GP0, 0x43C00000), the core's memory master goes to S_AXI_HP0 (not coherent: the host flushes
#   and invalidates its caches) or S_AXI_ACP (coherent with the CPUs' caches); done -> IRQ_F2P[0].
# build.tcl sources it and calls vta_create_bd inside the board's project.

source [file join [file dirname [info script]] util.tcl]

# The PS ports the flows may use (PG082): enable parameter, data-width parameter ("" = fixed), clock pin,
# and parameters the port needs besides.
set vta_ps_ports(zynq7) {
  M_AXI_GP0 {enable PCW_USE_M_AXI_GP0 width {} aclk M_AXI_GP0_ACLK extra {}}
  M_AXI_GP1 {enable PCW_USE_M_AXI_GP1 width {} aclk M_AXI_GP1_ACLK extra {}}
  S_AXI_HP0 {enable PCW_USE_S_AXI_HP0 width PCW_S_AXI_HP0_DATA_WIDTH aclk S_AXI_HP0_ACLK extra {}}
  S_AXI_HP1 {enable PCW_USE_S_AXI_HP1 width PCW_S_AXI_HP1_DATA_WIDTH aclk S_AXI_HP1_ACLK extra {}}
  S_AXI_HP2 {enable PCW_USE_S_AXI_HP2 width PCW_S_AXI_HP2_DATA_WIDTH aclk S_AXI_HP2_ACLK extra {}}
  S_AXI_HP3 {enable PCW_USE_S_AXI_HP3 width PCW_S_AXI_HP3_DATA_WIDTH aclk S_AXI_HP3_ACLK extra {}}
  S_AXI_ACP {enable PCW_USE_S_AXI_ACP width {} aclk S_AXI_ACP_ACLK
             extra {PCW_USE_DEFAULT_ACP_USER_VAL 1}}
}
set vta_ps_pins(zynq7) {clk FCLK_CLK0 rstn FCLK_RESET0_N irq IRQ_F2P space Data}

proc vta_create_bd {} {
  global vta vta_ps_ports vta_ps_pins
  set ports $vta_ps_ports(zynq7)
  foreach p [list $vta(reg_port_name) $vta(mem_port_name)] {
    if {![dict exists $ports $p]} {
      error "VTA: bd_zynq7.tcl does not know the PS port $p (boards.json, $vta(board))"
    }
  }
  create_bd_design $vta(bd_name)
  set ps [create_bd_cell -type ip -vlnv [vta_ip_vlnv processing_system7] ps]
  # DDR and FIXED_IO made external; the board preset (MIO, DDR timing) when the board files are installed.
  set preset [expr {[get_property board_part [current_project]] ne "" ? 1 : 0}]
  apply_bd_automation -rule xilinx.com:bd_rule:processing_system7 \
      -config [list make_external "FIXED_IO, DDR" apply_board_preset $preset Master Disable Slave Disable] $ps

  # Every master/slave port off but the two the core uses; the PL clock; the interrupt.
  set cfg [list CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ $vta(clock_mhz) CONFIG.PCW_EN_CLK0_PORT 1 \
      CONFIG.PCW_EN_RST0_PORT 1 CONFIG.PCW_USE_FABRIC_INTERRUPT 1 CONFIG.PCW_IRQ_F2P_INTR 1]
  dict for {name p} $ports {
    set used [expr {$name eq $vta(reg_port_name) || $name eq $vta(mem_port_name)}]
    lappend cfg CONFIG.[dict get $p enable] $used
  }
  set mem [dict get $ports $vta(mem_port_name)]
  if {[dict get $mem width] ne ""} {
    lappend cfg CONFIG.[dict get $mem width] $vta(bus_w)
  }
  foreach {k v} [dict get $mem extra] {
    lappend cfg CONFIG.$k $v
  }
  set_property -dict $cfg $ps
  vta_check_pl_clock [get_property CONFIG.PCW_ACT_FPGA0_PERIPHERAL_FREQMHZ $ps]

  set pins [dict merge $vta_ps_pins(zynq7) [list \
      reg_intf $vta(reg_port_name) reg_aclk [dict get [dict get $ports $vta(reg_port_name)] aclk] \
      mem_intf $vta(mem_port_name) mem_aclk [dict get $mem aclk]]]
  vta_bd_core ps $pins
  vta_assign_addresses ps/[dict get $pins space]
  validate_bd_design
  save_bd_design
}
