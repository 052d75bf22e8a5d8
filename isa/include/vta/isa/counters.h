// Execution counters every backend reports, named as Apache VTA's simulator names them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace vta::isa {

struct ExecutionCounters {
  // Instructions executed per module.
  uint64_t load_insn_count = 0;
  uint64_t compute_insn_count = 0;
  uint64_t store_insn_count = 0;
  // DRAM bytes per LOAD type: x_size * y_size * element bytes (padding not counted).
  uint64_t inp_load_nbytes = 0;
  uint64_t wgt_load_nbytes = 0;
  uint64_t acc_load_nbytes = 0;
  uint64_t uop_load_nbytes = 0;
  // DRAM bytes stored: x_size * y_size * OUT element bytes.
  uint64_t out_store_nbytes = 0;
  // GEMM micro-op executions (reset GEMMs not counted) and ALU micro-op executions.
  uint64_t gemm_counter = 0;
  uint64_t alu_counter = 0;
  // Cycles (0 where the backend has no notion of time, e.g. fsim).
  uint64_t cycle_count = 0;

  // (name, value) pairs in a fixed order; the single list of counter names.
  std::vector<std::pair<std::string, uint64_t>> items() const;
  nlohmann::json to_json() const;
  static ExecutionCounters from_json(const nlohmann::json& j);
  ExecutionCounters& operator+=(const ExecutionCounters& other);
  bool operator==(const ExecutionCounters&) const = default;
};

}  // namespace vta::isa
