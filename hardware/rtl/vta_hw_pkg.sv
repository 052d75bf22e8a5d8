// Hand-written constants of this implementation that do not come from the hardware config:
// error codes reported in the ERROR_CODE register, AXI read IDs of the bus clients, and the
// register offsets the core adds to driver/include/vta/driver/register_map.h (documented in
// docs/hardware.md). Config-derived constants live in the generated vta_pkg.
package vta_hw_pkg;
  // ERROR_CODE register values (0 = no error). The first error is kept until the next start.
  localparam logic [7:0] ERR_NONE      = 8'd0;
  localparam logic [7:0] ERR_OPCODE    = 8'd1;  // unassigned opcode (5..7)
  localparam logic [7:0] ERR_MEM_TYPE  = 8'd2;  // memory type invalid for the instruction
  localparam logic [7:0] ERR_ALU_OP    = 8'd3;  // unassigned ALU opcode (5..7)
  localparam logic [7:0] ERR_DEP_FLAGS = 8'd4;  // dependency flag the executing module cannot have
  localparam logic [7:0] ERR_AXI       = 8'd5;  // SLVERR/DECERR on a memory read or write
  localparam logic [7:0] ERR_DEADLOCK  = 8'd6;  // every module waits on a token that cannot arrive

  // AXI read IDs of the bus clients.
  localparam logic [1:0] ID_FETCH   = 2'd0;
  localparam logic [1:0] ID_LOAD    = 2'd1;
  localparam logic [1:0] ID_COMPUTE = 2'd2;

  // Registers beyond register_map.h.
  localparam logic [11:0] REG_ERROR_INDEX  = 12'h018;  // instruction index of the first error
  localparam logic [11:0] REG_CONFIG_HASH_LO = 12'h020;  // vta_pkg::CONFIG_HASH[31:0]
  localparam logic [11:0] REG_CONFIG_HASH_HI = 12'h024;  // vta_pkg::CONFIG_HASH[63:32]
  localparam logic [11:0] REG_BUS_WIDTH    = 12'h028;  // memory bus width in bits
  // Counters: 0x40 + 8 * index, lo/hi. 0..10 are isa::ExecutionCounters::items(); 11.. are below.
  localparam int unsigned CNT_LOAD_INSN     = 0;
  localparam int unsigned CNT_COMPUTE_INSN  = 1;
  localparam int unsigned CNT_STORE_INSN    = 2;
  localparam int unsigned CNT_INP_NBYTES    = 3;
  localparam int unsigned CNT_WGT_NBYTES    = 4;
  localparam int unsigned CNT_ACC_NBYTES    = 5;
  localparam int unsigned CNT_UOP_NBYTES    = 6;
  localparam int unsigned CNT_OUT_NBYTES    = 7;
  localparam int unsigned CNT_GEMM          = 8;
  localparam int unsigned CNT_ALU           = 9;
  localparam int unsigned CNT_CYCLES        = 10;
  localparam int unsigned CNT_LOAD_BUSY     = 11;  // cycles the load module holds an instruction
  localparam int unsigned CNT_LOAD_STALL    = 12;  // ... of which waiting for a token (pop or push)
  localparam int unsigned CNT_COMPUTE_BUSY  = 13;
  localparam int unsigned CNT_COMPUTE_STALL = 14;
  localparam int unsigned CNT_STORE_BUSY    = 15;
  localparam int unsigned CNT_STORE_STALL   = 16;
  localparam int unsigned CNT_FETCH_STALL   = 17;  // cycles dispatch waits on a full command queue
  localparam int unsigned CNT_GEMM_HAZARD   = 18;  // cycles the micro-op pipeline stalls on a RAW hazard
  localparam int unsigned NUM_COUNTERS      = 19;
endpackage
