// Hand-written constants of this implementation that software never sees. The register map, error
// codes, AXI IDs and counter indices are shared with the driver and tsim's harness, so they are generated
// into vta_pkg from isa/include/vta/isa/register_map.h (vta-rtlgen); config-derived constants live there too.

// Arithmetic forms. Synthesis sees the structure the FPGA gets (carry-select adds, carry-save trees, two
// products per DSP48, one write port per ACC bank); a simulator evaluates the same sums as plain arithmetic,
// takes the GEMM's dot products from C and picks an ACC bank's writer where it writes (VTA_SIM_ARITH: Verilator,
// unless verilated with +define+VTA_SYNTH_ARITH, as tsim's traced model is). Same results in the same
// cycles: tests/hardware/synth_forms proves the forms equal, and tsim.synth_arith runs programs on the
// traced model. Defined here, in the first source file every flow reads.
`ifdef VERILATOR
`ifndef VTA_SYNTH_ARITH
`define VTA_SIM_ARITH
`endif
`endif

package vta_hw_pkg;
  // Write bursts whose W beats the bus guard (vta_axi_drain) can owe at once: more than the store's
  // length FIFO (4) plus the burst in flight.
  localparam int unsigned DRAIN_W_BURSTS = 8;
  // Cycles every module must wait on a token before the core reports a deadlock.
  localparam int unsigned DEADLOCK_CYCLES = 1024;

  // A LOAD tile's geometry in elements, worked out as the instruction is taken (vta_tile_geom) and carried
  // with it, so the load unit's walkers start from registers.
  typedef struct packed {
    logic [17:0] rows;      // y_pad_0 + y_size + y_pad_1
    logic [17:0] cols;      // x_pad_0 + x_size + x_pad_1
    logic [17:0] col_end;   // x_pad_0 + x_size: the first column of right padding
    logic [15:0] first_a;   // the first data element's offset from sram_base (y_pad_0 * cols + x_pad_0)
    logic [15:0] first_b;   // is first_a + first_b (mod 2^16)
  } tile_geom_t;
  localparam int unsigned TILE_GEOM_BITS = 3 * 18 + 2 * 16;  // $bits(tile_geom_t), for tools without it
endpackage
