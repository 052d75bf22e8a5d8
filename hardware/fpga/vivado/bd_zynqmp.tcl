# Block design of the VTA core on a Zynq UltraScale+ MPSoC (zynq_ultra_ps_e): Ultra96-V2, ZCU104, KV260.
#   pl_clk0 at the board's clock drives everything; the registers hang off M_AXI_HPM0_FPD (0xA0000000)
#   or M_AXI_HPM0_LPD (0x80000000), the core's memory master goes to S_AXI_HP0_FPD (not coherent: the
#   host flushes and invalidates its caches) or S_AXI_HPC0_FPD (I/O-coherent once the boot firmware and
#   the kernel enable snooping for it); done -> pl_ps_irq0.
# build.tcl sources it and calls vta_create_bd inside the board's project.

source [file join [file dirname [info script]] util.tcl]

# The PS ports the flows may use (PG201; the PS names its FPD slave ports S_AXI_GP0..GP5 in its
# parameters): enable parameter, data-width parameter, clock pin, parameters the port needs besides.
set vta_ps_ports(zynqmp) {
  M_AXI_HPM0_FPD {enable PSU__USE__M_AXI_GP0 width PSU__MAXIGP0__DATA_WIDTH aclk maxihpm0_fpd_aclk extra {}}
  M_AXI_HPM1_FPD {enable PSU__USE__M_AXI_GP1 width PSU__MAXIGP1__DATA_WIDTH aclk maxihpm1_fpd_aclk extra {}}
  M_AXI_HPM0_LPD {enable PSU__USE__M_AXI_GP2 width PSU__MAXIGP2__DATA_WIDTH aclk maxihpm0_lpd_aclk extra {}}
  S_AXI_HPC0_FPD {enable PSU__USE__S_AXI_GP0 width PSU__SAXIGP0__DATA_WIDTH aclk saxihpc0_fpd_aclk extra {}}
  S_AXI_HPC1_FPD {enable PSU__USE__S_AXI_GP1 width PSU__SAXIGP1__DATA_WIDTH aclk saxihpc1_fpd_aclk extra {}}
  S_AXI_HP0_FPD  {enable PSU__USE__S_AXI_GP2 width PSU__SAXIGP2__DATA_WIDTH aclk saxihp0_fpd_aclk extra {}}
  S_AXI_HP1_FPD  {enable PSU__USE__S_AXI_GP3 width PSU__SAXIGP3__DATA_WIDTH aclk saxihp1_fpd_aclk extra {}}
  S_AXI_HP2_FPD  {enable PSU__USE__S_AXI_GP4 width PSU__SAXIGP4__DATA_WIDTH aclk saxihp2_fpd_aclk extra {}}
  S_AXI_HP3_FPD  {enable PSU__USE__S_AXI_GP5 width PSU__SAXIGP5__DATA_WIDTH aclk saxihp3_fpd_aclk extra {}}
}
set vta_ps_pins(zynqmp) {clk pl_clk0 rstn pl_resetn0 irq pl_ps_irq0 space Data}

proc vta_create_bd {} {
  global vta vta_ps_ports vta_ps_pins
  set ports $vta_ps_ports(zynqmp)
  foreach p [list $vta(reg_port_name) $vta(mem_port_name)] {
    if {![dict exists $ports $p]} {
      error "VTA: bd_zynqmp.tcl does not know the PS port $p (boards.json, $vta(board))"
    }
  }
  create_bd_design $vta(bd_name)
  set ps [create_bd_cell -type ip -vlnv [vta_ip_vlnv zynq_ultra_ps_e] ps]
  # The board preset (DDR, MIO, PLLs) when the board files are installed; without it the PS keeps the
  # part's defaults, fine for loading a bitstream from a running Linux, not for booting from this .xsa.
  if {[get_property board_part [current_project]] ne ""} {
    apply_bd_automation -rule xilinx.com:bd_rule:zynq_ultra_ps_e -config {apply_board_preset "1"} $ps
  }

  # Every master/slave port off but the two the core uses (an enabled port needs its clock); a 32-bit
  # register master (AXI4-Lite registers); the memory port as wide as the core's bus; the interrupt.
  set cfg [list CONFIG.PSU__FPGA_PL0_ENABLE 1 CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ $vta(clock_mhz) \
      CONFIG.PSU__USE__IRQ0 1]
  dict for {name p} $ports {
    set used [expr {$name eq $vta(reg_port_name) || $name eq $vta(mem_port_name)}]
    lappend cfg CONFIG.[dict get $p enable] $used
  }
  set reg [dict get $ports $vta(reg_port_name)]
  set mem [dict get $ports $vta(mem_port_name)]
  lappend cfg CONFIG.[dict get $reg width] 32 CONFIG.[dict get $mem width] $vta(bus_w)
  foreach {k v} [dict get $mem extra] {
    lappend cfg CONFIG.$k $v
  }
  set_property -dict $cfg $ps
  vta_check_pl_clock [get_property CONFIG.PSU__CRL_APB__PL0_REF_CTRL__ACT_FREQMHZ $ps]

  set pins [dict merge $vta_ps_pins(zynqmp) [list \
      reg_intf $vta(reg_port_name) reg_aclk [dict get $reg aclk] \
      mem_intf $vta(mem_port_name) mem_aclk [dict get $mem aclk]]]
  vta_bd_core ps $pins
  vta_assign_addresses ps/[dict get $pins space]
  validate_bd_design
  save_bd_design
}
