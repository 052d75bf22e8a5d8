// Hand-written constants of this implementation that software never sees. The register map, error
// codes, AXI IDs and counter indices are shared with the driver and tsim's harness, so they are generated
// into vta_pkg from isa/include/vta/isa/register_map.h (vta-rtlgen); config-derived constants live there too.
package vta_hw_pkg;
  // Write bursts whose W beats the bus guard (vta_axi_drain) can owe at once: more than the store's
  // length FIFO (4) plus the burst in flight.
  localparam int unsigned DRAIN_W_BURSTS = 8;
  // Cycles every module must wait on a token before the core reports a deadlock.
  localparam int unsigned DEADLOCK_CYCLES = 1024;
endpackage
