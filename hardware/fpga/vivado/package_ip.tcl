# Packages the VTA core as a Vivado IP (user.org:vta:vta_accel:1.0) for one board and config:
# the RTL (hardware/rtl/*.sv), the config's generated vta_pkg.sv and the FPGA top hardware/fpga/rtl/vta_accel.v.
#   vivado -mode batch -source package_ip.tcl -tclargs <out>/settings.tcl
# build.tcl and vitis/package_xo.tcl source it (with vta_library_mode set) and call vta_package_ip.

source [file join [file dirname [info script]] util.tcl]

# Sets a bus parameter of an interface, adding it when the packager did not infer it.
proc vta_bus_parameter {busif name value} {
  set p [ipx::get_bus_parameters $name -of_objects $busif]
  if {$p eq ""} {
    set p [ipx::add_bus_parameter $name $busif]
  }
  set_property value $value $p
}

proc vta_package_ip {} {
  global vta
  foreach f $vta(rtl_files) {
    if {![file exists $f]} {
      error "VTA: missing source $f"
    }
  }
  file delete -force $vta(ip_dir)
  create_project -force -part $vta(part) vta_ip_package [file join $vta(out_dir) ip_project]
  add_files -norecurse $vta(rtl_files)
  set_property top $vta(top) [current_fileset]
  update_compile_order -fileset sources_1
  ipx::package_project -root_dir $vta(ip_dir) -vendor $vta(ip_vendor) -library $vta(ip_library) \
      -taxonomy /UserIP -import_files -set_current true
  set core [ipx::current_core]
  set_property version $vta(ip_version) $core
  set_property display_name "VTA core ($vta(config_name))" $core
  set_property description "VTA deep-learning accelerator, config $vta(config_name) (hash $vta(config_hash))" $core

  # Clock, reset and interrupt by name; the AXI interfaces are inferred from the port prefixes.
  ipx::infer_bus_interface ap_clk xilinx.com:signal:clock_rtl:1.0 $core
  ipx::infer_bus_interface ap_rst_n xilinx.com:signal:reset_rtl:1.0 $core
  ipx::infer_bus_interface interrupt xilinx.com:signal:interrupt_rtl:1.0 $core
  foreach {name mode} {s_axi_control slave m_axi_gmem master} {
    set bi [ipx::get_bus_interfaces $name -of_objects $core]
    if {$bi eq ""} {
      error "VTA: the IP packager did not infer the AXI interface $name from vta_accel's ports"
    }
    if {[get_property INTERFACE_MODE $bi] ne $mode} {
      error "VTA: $name was inferred as [get_property INTERFACE_MODE $bi], not $mode"
    }
    ipx::associate_bus_interfaces -busif $name -clock ap_clk $core
  }
  ipx::associate_bus_interfaces -clock ap_clk -reset ap_rst_n $core
  vta_bus_parameter [ipx::get_bus_interfaces ap_rst_n -of_objects $core] POLARITY ACTIVE_LOW
  vta_bus_parameter [ipx::get_bus_interfaces interrupt -of_objects $core] SENSITIVITY LEVEL_HIGH

  # The register map takes the 12-bit address space of s_axi_control: 4 KiB.
  set mm [ipx::get_memory_maps s_axi_control -of_objects $core]
  if {$mm eq ""} {
    set mm [ipx::add_memory_map s_axi_control $core]
    set_property slave_memory_map_ref s_axi_control [ipx::get_bus_interfaces s_axi_control -of_objects $core]
  }
  set blocks [ipx::get_address_blocks -of_objects $mm]
  if {$blocks eq ""} {
    set blocks [ipx::add_address_block reg0 $mm]
  }
  set_property range 4096 [lindex $blocks 0]

  # The parameters this build is for: the config's bus width, the port's address width and attributes.
  foreach {name value} [list BUS_W $vta(bus_w) ADDR_W $vta(addr_w) AXI_CACHE $vta(axi_cache) AXI_PROT $vta(axi_prot)] {
    set up [ipx::get_user_parameters $name -of_objects $core]
    set hp [ipx::get_hdl_parameters $name -of_objects $core]
    if {$up eq "" || $hp eq ""} {
      error "VTA: vta_accel has no parameter $name"
    }
    set_property value $value $up
    set_property value $value $hp
  }
  if {$vta(flow) eq "vitis"} {
    # Properties package_xo requires of an RTL kernel's IP.
    set_property sdx_kernel true $core
    set_property sdx_kernel_type rtl $core
  }
  ipx::create_xgui_files $core
  ipx::update_checksums $core
  ipx::check_integrity $core
  ipx::save_core $core
  close_project
  puts "VTA: packaged $vta(ip_vlnv) (BUS_W $vta(bus_w), ADDR_W $vta(addr_w)) in $vta(ip_dir)"
  return $vta(ip_dir)
}

if {![info exists vta_library_mode]} {
  vta_load_settings
  vta_require_version $vta(min_vivado)
  vta_package_ip
}
