#include "vta/isa/counters.h"

#include <nlohmann/json.hpp>

#include "vta/isa/error.h"

namespace vta::isa {
namespace {

// The single table of counter names and members.
struct CounterField {
  const char* name;
  uint64_t ExecutionCounters::*member;
};
constexpr CounterField kFields[] = {
    {"load_insn_count", &ExecutionCounters::load_insn_count},
    {"compute_insn_count", &ExecutionCounters::compute_insn_count},
    {"store_insn_count", &ExecutionCounters::store_insn_count},
    {"inp_load_nbytes", &ExecutionCounters::inp_load_nbytes},
    {"wgt_load_nbytes", &ExecutionCounters::wgt_load_nbytes},
    {"acc_load_nbytes", &ExecutionCounters::acc_load_nbytes},
    {"uop_load_nbytes", &ExecutionCounters::uop_load_nbytes},
    {"out_store_nbytes", &ExecutionCounters::out_store_nbytes},
    {"gemm_counter", &ExecutionCounters::gemm_counter},
    {"alu_counter", &ExecutionCounters::alu_counter},
    {"cycle_count", &ExecutionCounters::cycle_count},
};

}  // namespace

std::vector<std::pair<std::string, uint64_t>> ExecutionCounters::items() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  out.reserve(std::size(kFields));
  for (const auto& f : kFields) out.emplace_back(f.name, this->*f.member);
  return out;
}

nlohmann::json ExecutionCounters::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : kFields) j[f.name] = this->*f.member;
  return j;
}

ExecutionCounters ExecutionCounters::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("counters: expected a JSON object");
  ExecutionCounters c;
  for (const auto& f : kFields) {
    auto it = j.find(f.name);
    if (it == j.end()) continue;
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0))
      throw Error(std::string("counters: '") + f.name + "' must be a non-negative integer");
    c.*f.member = it->get<uint64_t>();
  }
  return c;
}

ExecutionCounters& ExecutionCounters::operator+=(const ExecutionCounters& other) {
  for (const auto& f : kFields) this->*f.member += other.*f.member;
  return *this;
}

}  // namespace vta::isa
