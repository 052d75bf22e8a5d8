#include "vta/tsim/tsim.h"

#include <deque>
#include <stdexcept>
#include <string>

// Verilator's runtime headers are not written for our warning flags.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wpedantic"
#include <verilated.h>

#include "Vvta_top.h"
#pragma GCC diagnostic pop
#include "tsim_config_hash.h"  // generated: VTA_TSIM_CONFIG_HASH
#include "vta/isa/error.h"

#ifndef VTA_TSIM_CONFIG_HASH
#error "VTA_TSIM_CONFIG_HASH must name the config hash the model was built for"
#endif

namespace vta::tsim {
namespace {

// Register offsets of driver/include/vta/driver/register_map.h (duplicated here because tsim sits below
// the driver layer; a test pins them against the driver header).
constexpr uint32_t kControl = 0x00, kStatus = 0x04, kInsnAddrLo = 0x08, kInsnAddrHi = 0x0c, kInsnCount = 0x10,
                   kErrorCode = 0x14, kErrorIndex = 0x18, kCounterBase = 0x40;
constexpr const char* kExtraCounters[] = {"load_busy_cycles",    "load_stall_cycles",  "compute_busy_cycles",
                                          "compute_stall_cycles", "store_busy_cycles", "store_stall_cycles",
                                          "fetch_stall_cycles",  "gemm_hazard_cycles"};
constexpr uint32_t kBusBytes = 8;  // the model is built with BUS_W = 64

struct ReadBurst {
  uint64_t addr;
  uint32_t beats;
  uint32_t id;
  uint64_t ready_at;
};
struct WriteBurst {
  uint64_t addr;
  uint32_t beats;
  uint32_t done = 0;
  bool error = false;
};
struct WriteResp {
  uint64_t ready_at;
  bool error;
};

}  // namespace

struct Tsim::Impl {
  isa::HwConfig config;
  sim::DeviceMemory& mem;
  TsimOptions opt;
  VerilatedContext ctx;
  std::unique_ptr<Vvta_top> top;
  uint64_t cycle = 0;

  std::deque<ReadBurst> reads;
  std::deque<WriteBurst> writes;
  std::deque<WriteResp> resps;
  uint32_t read_beat = 0;    // beats already sent of reads.front()
  uint64_t credit = 0;       // bandwidth credit in bytes
  bool r_valid = false;      // R beat presented this cycle
  bool b_valid = false;
  uint64_t last_error_address = 0;  // for diagnostics

  Impl(const isa::HwConfig& c, sim::DeviceMemory& m, TsimOptions o) : config(c), mem(m), opt(o) {
    ctx.randReset(0);
    top = std::make_unique<Vvta_top>(&ctx);
  }

  // Drives the memory-side inputs from the model state.
  void drive_memory() {
    top->m_axi_arready_i = reads.size() < opt.max_outstanding;
    top->m_axi_awready_i = writes.size() < opt.max_outstanding;
    top->m_axi_wready_i = !writes.empty();
    r_valid = false;
    if (!reads.empty() && reads.front().ready_at <= cycle && credit >= kBusBytes) {
      const ReadBurst& rb = reads.front();
      const uint64_t addr = rb.addr + uint64_t{read_beat} * kBusBytes;
      uint64_t data = 0;
      bool err = false;
      if (mem.contains(addr, kBusBytes)) {
        mem.read(addr, &data, kBusBytes);
      } else {
        // A beat may stick out of a buffer whose size is not a multiple of the bus width (e.g. an odd
        // number of micro-ops): read the mapped bytes; it is an error only if none is mapped.
        bool any = false;
        for (uint32_t i = 0; i < kBusBytes; ++i) {
          if (!mem.contains(addr + i, 1)) continue;
          uint8_t byte = 0;
          mem.read(addr + i, &byte, 1);
          data |= uint64_t{byte} << (8 * i);
          any = true;
        }
        err = !any;
        if (err) last_error_address = addr;
      }
      r_valid = true;
      top->m_axi_rdata_i = data;
      top->m_axi_rresp_i = err ? 2 : 0;
      top->m_axi_rid_i = static_cast<uint8_t>(rb.id);
      top->m_axi_rlast_i = (read_beat + 1 == rb.beats);
    }
    top->m_axi_rvalid_i = r_valid;
    b_valid = !resps.empty() && resps.front().ready_at <= cycle;
    top->m_axi_bvalid_i = b_valid;
    top->m_axi_bresp_i = (b_valid && resps.front().error) ? 2 : 0;
    top->m_axi_bid_i = 0;
  }

  // One clock cycle: settle, sample handshakes, clock edge, update the memory model.
  void step() {
    drive_memory();
    top->eval();
    const bool ar = top->m_axi_arvalid_o && top->m_axi_arready_i;
    const bool r = r_valid && top->m_axi_rready_o;
    const bool aw = top->m_axi_awvalid_o && top->m_axi_awready_i;
    const bool w = top->m_axi_wvalid_o && top->m_axi_wready_i;
    const bool b = b_valid && top->m_axi_bready_o;
    const uint64_t araddr = top->m_axi_araddr_o, awaddr = top->m_axi_awaddr_o;
    const uint32_t arlen = top->m_axi_arlen_o, awlen = top->m_axi_awlen_o, arid = top->m_axi_arid_o;
    const uint64_t wdata = top->m_axi_wdata_o;
    const uint32_t wstrb = top->m_axi_wstrb_o;
    const bool wlast = top->m_axi_wlast_o;

    top->clk_i = 1;
    top->eval();
    top->clk_i = 0;
    top->eval();
    ++cycle;

    credit += opt.bytes_per_cycle;
    if (credit > 4 * kBusBytes + opt.bytes_per_cycle) credit = 4 * kBusBytes + opt.bytes_per_cycle;
    if (ar) reads.push_back({araddr, arlen + 1, arid, cycle + opt.read_latency});
    if (r) {
      credit -= kBusBytes;
      if (++read_beat == reads.front().beats) {
        reads.pop_front();
        read_beat = 0;
      }
    }
    if (aw) writes.push_back({awaddr, awlen + 1});
    if (w) {
      WriteBurst& wb = writes.front();
      const uint64_t addr = wb.addr + uint64_t{wb.done} * kBusBytes;
      for (uint32_t i = 0; i < kBusBytes; ++i) {
        if (!((wstrb >> i) & 1u)) continue;
        const auto byte = static_cast<uint8_t>(wdata >> (8 * i));
        try {
          mem.write(addr + i, &byte, 1);
        } catch (const std::exception&) {
          wb.error = true;
          last_error_address = addr + i;
        }
      }
      credit = credit >= kBusBytes ? credit - kBusBytes : 0;
      ++wb.done;
      if (wlast != (wb.done == wb.beats)) wb.error = true;  // WLAST must mark the burst's last beat
      if (wb.done == wb.beats) {
        resps.push_back({cycle + opt.write_latency, wb.error});
        writes.pop_front();
      }
    }
    if (b) resps.pop_front();
  }

  void reset() {
    reads.clear();
    writes.clear();
    resps.clear();
    read_beat = 0;
    credit = 0;
    top->clk_i = 0;
    top->rst_ni = 0;
    top->s_axil_awvalid_i = 0;
    top->s_axil_wvalid_i = 0;
    top->s_axil_bready_i = 0;
    top->s_axil_arvalid_i = 0;
    top->s_axil_rready_i = 0;
    top->eval();
    for (int i = 0; i < 4; ++i) step();
    top->rst_ni = 1;
    for (int i = 0; i < 2; ++i) step();
  }

  uint32_t read_reg(uint32_t address) {
    top->s_axil_araddr_i = static_cast<uint16_t>(address);
    top->s_axil_arvalid_i = 1;
    top->s_axil_rready_i = 0;
    for (int guard = 0;; ++guard) {
      drive_memory();
      top->eval();
      const bool fire = top->s_axil_arready_o;
      step();
      if (fire) break;
      if (guard > 1000) throw Error("tsim: register read not accepted");
    }
    top->s_axil_arvalid_i = 0;
    top->s_axil_rready_i = 1;
    for (int guard = 0;; ++guard) {
      drive_memory();
      top->eval();
      if (top->s_axil_rvalid_o) {
        const uint32_t value = top->s_axil_rdata_o;
        step();
        top->s_axil_rready_i = 0;
        return value;
      }
      step();
      if (guard > 1000) throw Error("tsim: register read got no response");
    }
  }

  void write_reg(uint32_t address, uint32_t value) {
    top->s_axil_awaddr_i = static_cast<uint16_t>(address);
    top->s_axil_wdata_i = value;
    top->s_axil_wstrb_i = 0xf;
    top->s_axil_awvalid_i = 1;
    top->s_axil_wvalid_i = 1;
    top->s_axil_bready_i = 0;
    for (int guard = 0;; ++guard) {
      drive_memory();
      top->eval();
      const bool fire = top->s_axil_awready_o && top->s_axil_wready_o;
      step();
      if (fire) break;
      if (guard > 1000) throw Error("tsim: register write not accepted");
    }
    top->s_axil_awvalid_i = 0;
    top->s_axil_wvalid_i = 0;
    top->s_axil_bready_i = 1;
    for (int guard = 0;; ++guard) {
      drive_memory();
      top->eval();
      const bool resp = top->s_axil_bvalid_o;
      step();
      if (resp) break;
      if (guard > 1000) throw Error("tsim: register write got no response");
    }
    top->s_axil_bready_i = 0;
  }

  uint64_t counter(uint32_t index) {
    const uint64_t lo = read_reg(kCounterBase + 8 * index);
    const uint64_t hi = read_reg(kCounterBase + 8 * index + 4);
    return (hi << 32) | lo;
  }
};

TsimOptions TsimOptions::from_config(const isa::HwConfig& config) {
  TsimOptions o;
  o.read_latency = config.timing().dram_latency_cycles;
  o.write_latency = config.timing().dram_latency_cycles;
  o.bytes_per_cycle = config.timing().dram_bytes_per_cycle;
  return o;
}

std::string Tsim::built_config_hash() { return VTA_TSIM_CONFIG_HASH; }

Tsim::Tsim(const isa::HwConfig& config, sim::DeviceMemory& memory, TsimOptions options) {
  if (config.hash() != built_config_hash())
    throw ConfigError("(config)", "tsim was built for config hash " + built_config_hash() + ", not " +
                                      config.hash() + " (" + config.name() + ")");
  if (options.bytes_per_cycle == 0) options.bytes_per_cycle = 1;
  if (options.max_outstanding == 0) options.max_outstanding = 1;
  impl_ = std::make_unique<Impl>(config, memory, options);
  impl_->reset();
}

Tsim::~Tsim() {
  if (impl_) impl_->top->final();
}

void Tsim::reset() { impl_->reset(); }
uint32_t Tsim::read_reg(uint32_t address) { return impl_->read_reg(address); }
void Tsim::write_reg(uint32_t address, uint32_t value) { impl_->write_reg(address, value); }
uint64_t Tsim::cycle() const { return impl_->cycle; }

TsimResult Tsim::run(uint64_t insn_addr, uint32_t insn_count, uint64_t max_cycles) {
  Impl& s = *impl_;
  const uint64_t begin = s.cycle;
  s.write_reg(kInsnAddrLo, static_cast<uint32_t>(insn_addr));
  s.write_reg(kInsnAddrHi, static_cast<uint32_t>(insn_addr >> 32));
  s.write_reg(kInsnCount, insn_count);
  s.write_reg(kControl, 1);
  TsimResult result;
  // Poll the done output (cheap); STATUS is read once at the end through the bus.
  while (!s.top->done_o && s.cycle - begin < max_cycles) s.step();
  const uint32_t status = s.read_reg(kStatus);
  result.done = (status & 1u) != 0;
  result.error = (status & 2u) != 0;
  result.error_code = s.read_reg(kErrorCode);
  result.error_index = s.read_reg(kErrorIndex);
  auto& c = result.counters;
  uint64_t* fields[] = {&c.load_insn_count, &c.compute_insn_count, &c.store_insn_count, &c.inp_load_nbytes,
                        &c.wgt_load_nbytes, &c.acc_load_nbytes,    &c.uop_load_nbytes,  &c.out_store_nbytes,
                        &c.gemm_counter,    &c.alu_counter,        &c.cycle_count};
  for (uint32_t i = 0; i < std::size(fields); ++i) *fields[i] = s.counter(i);
  for (uint32_t i = 0; i < std::size(kExtraCounters); ++i)
    result.extra_counters.emplace_back(kExtraCounters[i], s.counter(static_cast<uint32_t>(std::size(fields)) + i));
  result.harness_cycles = s.cycle - begin;
  return result;
}

}  // namespace vta::tsim
