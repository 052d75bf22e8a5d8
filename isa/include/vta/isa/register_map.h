// The core's control/status register map, error codes and counter indices: the one definition shared by
// the driver (driver/include/vta/driver/register_map.h), tsim's harness and the RTL (vta-rtlgen writes
// every constant below into the generated vta_pkg.sv as REG_*, CONTROL_*/STATUS_* bits, ERR_*, IDX_*,
// AXI_ID_* and CNT_* localparams). It lives in isa/ because every one of those layers depends on isa/.
// Documented in docs/hardware.md (register map) and docs/driver.md.
#pragma once

#include <cstdint>
#include <iterator>
#include <string_view>

namespace vta::isa::reg {

// ---- registers (AXI4-Lite, 32 bits each, 12-bit address; 64-bit values are lo/hi pairs) ----
inline constexpr uint32_t kControl = 0x00;       // W: bit 0 start, bit 1 soft reset; reads 0
inline constexpr uint32_t kStatus = 0x04;        // R: bit 0 done, 1 error, 2 busy, 3 resetting
inline constexpr uint32_t kInsnAddrLo = 0x08;    // RW
inline constexpr uint32_t kInsnAddrHi = 0x0c;    // RW
inline constexpr uint32_t kInsnCount = 0x10;     // RW
inline constexpr uint32_t kErrorCode = 0x14;     // R: first error of the run (kErr*), 0 = none
inline constexpr uint32_t kErrorIndex = 0x18;    // R: instruction index of the first error (kNoIndex: none)
inline constexpr uint32_t kErrorInfo = 0x1c;     // R: detail of the first error (see below)
inline constexpr uint32_t kConfigHashLo = 0x20;  // R: HwConfig::hash() the core was generated for
inline constexpr uint32_t kConfigHashHi = 0x24;
inline constexpr uint32_t kBusWidth = 0x28;      // R: memory bus data width in bits
inline constexpr uint32_t kErrorAddr = 0x2c;     // R: for kErrIndex, the buffer index that is out of range
inline constexpr uint32_t kCounterBase = 0x40;   // R: counter i at kCounterBase + 8 i (lo), + 4 (hi)

struct Register {
  std::string_view name;  // as in the RTL (REG_<name>) and docs
  uint32_t offset;
  std::string_view access;
  std::string_view meaning;
};
inline constexpr Register kRegisters[] = {
    {"CONTROL", kControl, "W", "bit 0 start (ignored while busy or resetting); bit 1 soft reset"},
    {"STATUS", kStatus, "R", "bit 0 done, bit 1 error, bit 2 busy, bit 3 resetting"},
    {"INSN_ADDR_LO", kInsnAddrLo, "RW", "byte address of the instruction stream, low word"},
    {"INSN_ADDR_HI", kInsnAddrHi, "RW", "byte address of the instruction stream, high word"},
    {"INSN_COUNT", kInsnCount, "RW", "number of instructions"},
    {"ERROR_CODE", kErrorCode, "R", "first error of the run (0 = none)"},
    {"ERROR_INDEX", kErrorIndex, "R", "instruction index of the first error (0xffffffff = none)"},
    {"ERROR_INFO", kErrorInfo, "R", "detail of the first error: buffer operand, or AXI requester and response"},
    {"CONFIG_HASH_LO", kConfigHashLo, "R", "HwConfig::hash() of the core's config, low word"},
    {"CONFIG_HASH_HI", kConfigHashHi, "R", "HwConfig::hash() of the core's config, high word"},
    {"BUS_WIDTH", kBusWidth, "R", "memory bus data width in bits"},
    {"ERROR_ADDR", kErrorAddr, "R", "out-of-range error: the buffer index (or micro-op range end)"},
    {"COUNTER_BASE", kCounterBase, "R", "64-bit counters, lo at +8 i, hi at +8 i + 4"},
};

// ---- register bits ----
inline constexpr uint32_t kControlStartBit = 0;
inline constexpr uint32_t kControlSoftResetBit = 1;
inline constexpr uint32_t kStatusDoneBit = 0;
inline constexpr uint32_t kStatusErrorBit = 1;
inline constexpr uint32_t kStatusBusyBit = 2;
inline constexpr uint32_t kStatusResettingBit = 3;
inline constexpr uint32_t kControlStart = 1u << kControlStartBit;
inline constexpr uint32_t kControlSoftReset = 1u << kControlSoftResetBit;
inline constexpr uint32_t kStatusDone = 1u << kStatusDoneBit;
inline constexpr uint32_t kStatusError = 1u << kStatusErrorBit;
inline constexpr uint32_t kStatusBusy = 1u << kStatusBusyBit;
inline constexpr uint32_t kStatusResetting = 1u << kStatusResettingBit;

struct Bit {
  std::string_view name;  // RTL: CONTROL_<name>_BIT / STATUS_<name>_BIT
  uint32_t bit;
};
inline constexpr Bit kControlBits[] = {{"START", kControlStartBit}, {"SOFT_RESET", kControlSoftResetBit}};
inline constexpr Bit kStatusBits[] = {{"DONE", kStatusDoneBit},
                                      {"ERROR", kStatusErrorBit},
                                      {"BUSY", kStatusBusyBit},
                                      {"RESETTING", kStatusResettingBit}};

// ---- ERROR_CODE values ----
inline constexpr uint32_t kErrNone = 0;
inline constexpr uint32_t kErrOpcode = 1;    // unassigned opcode (5..7)
inline constexpr uint32_t kErrMemType = 2;   // memory type invalid for the instruction
inline constexpr uint32_t kErrAluOp = 3;     // unassigned ALU opcode (5..7)
inline constexpr uint32_t kErrDepFlags = 4;  // dependency flag the executing module cannot have
inline constexpr uint32_t kErrAxi = 5;       // SLVERR/DECERR response on a memory read or write
inline constexpr uint32_t kErrDeadlock = 6;  // every module waits on a token that cannot arrive
inline constexpr uint32_t kErrIndex = 7;     // on-chip buffer index out of range (ERROR_INFO: operand)
inline constexpr uint32_t kErrFinish = 8;    // FINISH before the last instruction, or the last is not FINISH

struct ErrorCode {
  std::string_view name;  // RTL: ERR_<name>
  uint32_t code;
  std::string_view meaning;
};
inline constexpr ErrorCode kErrorCodes[] = {
    {"NONE", kErrNone, "no error"},
    {"OPCODE", kErrOpcode, "unassigned opcode"},
    {"MEM_TYPE", kErrMemType, "memory type invalid for the instruction"},
    {"ALU_OP", kErrAluOp, "unassigned ALU opcode"},
    {"DEP_FLAGS", kErrDepFlags, "dependency flag the module cannot have"},
    {"AXI", kErrAxi, "AXI bus error response from memory"},
    {"DEADLOCK", kErrDeadlock, "deadlock: every module waits on a dependency token that cannot arrive"},
    {"INDEX", kErrIndex, "on-chip buffer index out of range"},
    {"FINISH", kErrFinish, "FINISH misplaced or missing: a program ends with exactly one FINISH"},
};
inline constexpr std::string_view error_meaning(uint32_t code) {
  for (const ErrorCode& e : kErrorCodes)
    if (e.code == code) return e.meaning;
  return "unknown hardware error";
}

// ERROR_INDEX when no instruction is to blame (e.g. a bus error on an instruction fetch or a write).
inline constexpr uint32_t kNoIndex = 0xffffffffu;

// ---- ERROR_INFO ----
// For kErrIndex: bits [3:0] name the buffer operand that is out of range (kIdx*); ERROR_ADDR holds the
// index (the last element of a LOAD/STORE tile, the micro-op's index, or uop_end for a micro-op range).
inline constexpr uint32_t kIdxUop = 0;        // LOAD UOP tile
inline constexpr uint32_t kIdxWgt = 1;        // LOAD WGT tile or GEMM weight operand
inline constexpr uint32_t kIdxInp = 2;        // LOAD INP tile or GEMM input operand
inline constexpr uint32_t kIdxAcc = 3;        // LOAD ACC tile or GEMM/ALU destination
inline constexpr uint32_t kIdxStoreSrc = 4;   // STORE tile (read from OUT = ACC truncated)
inline constexpr uint32_t kIdxAluSrc = 5;     // ALU vector source operand
inline constexpr uint32_t kIdxUopRange = 6;   // GEMM/ALU micro-op range [uop_bgn, uop_end)

struct IndexOperand {
  std::string_view name;  // RTL: IDX_<name>
  uint32_t code;
  std::string_view text;  // in messages; the spelling fsim uses for the same check
};
inline constexpr IndexOperand kIndexOperands[] = {
    {"UOP", kIdxUop, "UOP"},
    {"WGT", kIdxWgt, "WGT"},
    {"INP", kIdxInp, "INP"},
    {"ACC", kIdxAcc, "ACC"},
    {"STORE_SRC", kIdxStoreSrc, "ACC (STORE source)"},
    {"ALU_SRC", kIdxAluSrc, "ACC (ALU source)"},
    {"UOP_RANGE", kIdxUopRange, "micro-op range"},
};

// For kErrAxi: bits [1:0] the AXI ID of the read (kAxiId*), bit 2 set for a write response (store),
// bits [5:4] the response (2 SLVERR, 3 DECERR).
inline constexpr uint32_t kAxiInfoWriteBit = 2;
inline constexpr uint32_t kAxiInfoRespLsb = 4;

// ---- AXI read IDs of the core's bus clients ----
inline constexpr uint32_t kAxiIdFetch = 0;
inline constexpr uint32_t kAxiIdLoad = 1;
inline constexpr uint32_t kAxiIdCompute = 2;
struct AxiId {
  std::string_view name;  // RTL: AXI_ID_<name>
  uint32_t id;
  std::string_view text;
};
inline constexpr AxiId kAxiIds[] = {
    {"FETCH", kAxiIdFetch, "fetch"}, {"LOAD", kAxiIdLoad, "load"}, {"COMPUTE", kAxiIdCompute, "compute"}};

// ---- counters: 64-bit, at kCounterBase + 8 * index ----
// 0..10 are isa::ExecutionCounters::items() in order (a test pins this); 11.. are the core's own.
struct Counter {
  std::string_view name;  // as reported (ExecutionCounters / extra counters)
  std::string_view sv;    // RTL: CNT_<sv>
};
inline constexpr Counter kCounters[] = {
    {"load_insn_count", "LOAD_INSN"},
    {"compute_insn_count", "COMPUTE_INSN"},
    {"store_insn_count", "STORE_INSN"},
    {"inp_load_nbytes", "INP_NBYTES"},
    {"wgt_load_nbytes", "WGT_NBYTES"},
    {"acc_load_nbytes", "ACC_NBYTES"},
    {"uop_load_nbytes", "UOP_NBYTES"},
    {"out_store_nbytes", "OUT_NBYTES"},
    {"gemm_counter", "GEMM"},
    {"alu_counter", "ALU"},
    {"cycle_count", "CYCLES"},
    {"load_busy_cycles", "LOAD_BUSY"},        // the load module holds an instruction
    {"load_stall_cycles", "LOAD_STALL"},      // ... of which waiting for a token
    {"compute_busy_cycles", "COMPUTE_BUSY"},
    {"compute_stall_cycles", "COMPUTE_STALL"},
    {"store_busy_cycles", "STORE_BUSY"},
    {"store_stall_cycles", "STORE_STALL"},
    {"fetch_stall_cycles", "FETCH_STALL"},    // dispatch waits on a full command queue
    {"gemm_hazard_cycles", "GEMM_HAZARD"},    // the micro-op pipeline stalls on a RAW hazard
};
inline constexpr uint32_t kNumCounters = static_cast<uint32_t>(std::size(kCounters));
inline constexpr uint32_t kNumExecutionCounters = 11;  // the ExecutionCounters prefix
inline constexpr uint32_t kWorkCounters = 10;          // the prefix that measures work (all but cycles)
inline constexpr uint32_t kCounterLoadBusy = 11;       // first of the busy/stall counters
inline constexpr uint32_t kCounterFetchStall = 17;
inline constexpr uint32_t counter_lo(uint32_t index) { return kCounterBase + 8 * index; }
inline constexpr uint32_t counter_hi(uint32_t index) { return kCounterBase + 8 * index + 4; }

}  // namespace vta::isa::reg
