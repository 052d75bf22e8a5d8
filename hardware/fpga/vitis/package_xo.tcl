# Vitis kernel (.xo) of the VTA core for an Alveo card (hardware/fpga/build.sh runs it):
#   vivado -mode batch -source package_xo.tcl -tclargs <out>/settings.tcl
# The core is packaged as an IP (../vivado/package_ip.tcl, with the sdx_kernel properties) and then as a
# user-managed RTL kernel: it does not speak XRT's ap_ctrl protocols; the host drives its own register
# map (docs/hardware.md) through xrt::ip. package_xo writes the kernel.xml from the IP (ap_clk, ap_rst_n,
# s_axi_control, m_axi_gmem, interrupt); a copy goes to <out>/kernel.xml for inspection.

set vta_library_mode 1
set vta_vivado_dir [file join [file dirname [file dirname [file normalize [info script]]]] vivado]
source [file join $vta_vivado_dir util.tcl]
vta_load_settings
vta_require_version $vta(min_vivado)
if {$vta(flow) ne "vitis"} {
  error "VTA: package_xo.tcl is the Alveo flow; $vta(board) uses $vta(flow)"
}
source [file join $vta_vivado_dir package_ip.tcl]
file mkdir $vta(out_dir)
vta_package_ip
package_xo -force -xo_path $vta(xo_path) -kernel_name $vta(kernel_name) -ip_directory $vta(ip_dir) \
    -ctrl_protocol user_managed -output_kernel_xml [file join $vta(out_dir) kernel.xml]
puts "VTA: kernel $vta(kernel_name) in $vta(xo_path)"
