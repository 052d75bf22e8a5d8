// The tsim harness (private to simulator/tsim): the per-cycle AXI4-Lite / AXI4 memory model, templated over
// the Verilated model class. Every model (one per config, plus the traced default) is compiled in its own
// translation unit (generated from model.cpp.in), which includes its model header and registers a factory.
#pragma once

#ifndef VTA_TSIM_HAS_TRACE
#define VTA_TSIM_HAS_TRACE 0  // set by CMake when the models are built with --trace-fst
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

// Verilator's runtime headers are not written for our warning flags.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wpedantic"
#include <verilated.h>
#if VTA_TSIM_HAS_TRACE
#include <verilated_fst_c.h>
#endif
#pragma GCC diagnostic pop
#include "model_registry.h"
#include "vta/driver/board_protocol.h"
#include "vta/isa/error.h"
#include "vta/isa/register_map.h"
#include "vta/tsim/tsim.h"

namespace vta::tsim::detail {

// The register map is vta/isa/register_map.h, the definition the driver and the RTL (through vta-rtlgen)
// share.
namespace reg = isa::reg;
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

// What a module did over a window, from the deltas of its busy and stall counters.
inline std::string module_state(uint64_t busy, uint64_t stall, uint64_t window) {
  if (busy == 0) return "idle";
  if (stall >= window) return "holds an instruction, waiting on a dependency-token queue";
  if (stall > 0) return "holds an instruction, partly waiting on a token queue";
  return "holds an instruction without finishing it (not waiting on a token: stuck in the datapath or memory)";
}

template <class Model, bool Traced>
struct Harness final : Tsim::Impl {
  static constexpr bool kTraced = Traced && VTA_TSIM_HAS_TRACE;
  isa::HwConfig config;
  sim::DeviceMemory& mem;
  TsimOptions opt;
  VerilatedContext ctx;
  std::unique_ptr<Model> top;
  uint64_t cycle_ = 0;

  std::deque<ReadBurst> reads;
  std::deque<WriteBurst> writes;
  std::deque<WriteResp> resps;
  uint32_t read_beat = 0;    // beats already sent of reads.front()
  uint64_t credit = 0;       // bandwidth credit in bytes
  bool r_valid = false;      // R beat presented this cycle
  bool b_valid = false;
  uint64_t last_error_address = 0;  // for diagnostics
  uint64_t beats = 0;        // memory beats transferred (R and W), a progress signal for the watchdog
  // fault injection (TsimFaults)
  TsimFaults faults;
  bool mem_stalled = false;         // the stall fault fired: the memory answers nothing until reset()
  bool r_inject = false;            // the R beat presented this cycle carries the one-shot injected error
  uint64_t run_begin = 0;           // cycle at which the current run started
  uint64_t run_read_beats = 0;      // R beats of the current run
  std::atomic<bool> cancel_requested{false};
#if VTA_TSIM_HAS_TRACE
  std::unique_ptr<VerilatedFstC> fst;
#endif

  Harness(const isa::HwConfig& c, sim::DeviceMemory& m, TsimOptions o)
      : config(c), mem(m), opt(std::move(o)), faults(opt.faults) {
    ctx.randReset(0);
    // A failed RTL assertion (models built with --assert) is reported by run() as an error, not abort().
    ctx.fatalOnError(false);
    use_context();
    if constexpr (kTraced) ctx.traceEverOn(true);
    top = std::make_unique<Model>(&ctx);
#if VTA_TSIM_HAS_TRACE
    if constexpr (kTraced) {
      fst = std::make_unique<VerilatedFstC>();
      top->trace(fst.get(), 99);
      fst->open(opt.trace_path.c_str());
      if (!fst->isOpen()) throw Error("tsim: cannot open waveform file " + opt.trace_path);
    }
#endif
    reset();
  }

  ~Harness() override {
    use_context();  // the model's scopes unregister from the thread's context (Verilator uses that one)
#if VTA_TSIM_HAS_TRACE
    if (fst) fst->close();
#endif
  }

  // Verilator reports assertion failures to, and unregisters scopes from, the *thread's* current context;
  // several harnesses (each with its own context) live in one thread, so every entry point selects ours.
  void use_context() { Verilated::threadContextp(&ctx); }
  void final() override {
    use_context();
    top->final();
  }
  void set_faults(const TsimFaults& f) override { faults = f; }
  void cancel() override { cancel_requested = true; }
  uint64_t memory_outstanding() const override { return reads.size() + writes.size() + resps.size(); }
  bool in_error_range(uint64_t addr) const { return addr >= faults.error_addr_lo && addr < faults.error_addr_hi; }
  uint64_t cycle() const override { return cycle_; }

  void dump(uint64_t time) {
#if VTA_TSIM_HAS_TRACE
    if constexpr (kTraced) fst->dump(time);
#endif
    (void)time;
  }

  // Drives the memory-side inputs from the model state.
  void drive_memory() {
    top->m_axi_arready_i = !mem_stalled && reads.size() < opt.max_outstanding;
    top->m_axi_awready_i = !mem_stalled && writes.size() < opt.max_outstanding;
    top->m_axi_wready_i = !mem_stalled && !writes.empty();
    r_valid = false;
    r_inject = false;
    if (!mem_stalled && !reads.empty() && reads.front().ready_at <= cycle_ && credit >= kBusBytes) {
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
      r_inject = faults.read_error_after_beats && run_read_beats == *faults.read_error_after_beats;
      const bool hole = in_error_range(addr);
      if (r_inject || hole) last_error_address = addr;
      r_valid = true;
      top->m_axi_rdata_i = data;
      top->m_axi_rresp_i = (r_inject || hole) ? static_cast<uint8_t>(faults.error_resp) : (err ? 2 : 0);
      top->m_axi_rid_i = static_cast<uint8_t>(rb.id);
      top->m_axi_rlast_i = (read_beat + 1 == rb.beats);
    }
    top->m_axi_rvalid_i = r_valid;
    b_valid = !mem_stalled && !resps.empty() && resps.front().ready_at <= cycle_;
    top->m_axi_bvalid_i = b_valid;
    top->m_axi_bresp_i = (b_valid && resps.front().error) ? static_cast<uint8_t>(faults.error_resp) : 0;
    top->m_axi_bid_i = 0;
  }

  // One clock cycle: settle, sample handshakes, clock edge, update the memory model.
  // One clock cycle: the falling edge of the cycle before together with this cycle's inputs (nothing in the
  // core acts on a falling edge, so one evaluation does both), the outputs sampled, then the rising edge.
  void step() {
    drive_memory();
    top->clk_i = 0;
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
    dump(2 * cycle_);

    top->clk_i = 1;
    top->eval();
    dump(2 * cycle_ + 1);
    ++cycle_;
    beats += uint64_t{r} + uint64_t{w};
    if (r) {
      ++run_read_beats;
      if (r_inject) faults.read_error_after_beats.reset();  // one-shot
    }
    if (faults.stall_at_cycle && cycle_ - run_begin >= *faults.stall_at_cycle) {
      mem_stalled = true;
      faults.stall_at_cycle.reset();
    }

    credit += opt.bytes_per_cycle;
    if (credit > 4 * kBusBytes + opt.bytes_per_cycle) credit = 4 * kBusBytes + opt.bytes_per_cycle;
    if (ar) reads.push_back({araddr, arlen + 1, arid, cycle_ + opt.read_latency});
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
        if (in_error_range(addr + i)) {
          wb.error = true;
          last_error_address = addr + i;
          continue;
        }
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
        resps.push_back({cycle_ + opt.write_latency, wb.error});
        writes.pop_front();
      }
    }
    if (b) resps.pop_front();
  }

  void reset() override {
    use_context();
    reads.clear();
    writes.clear();
    resps.clear();
    read_beat = 0;
    credit = 0;
    last_error_address = 0;
    mem_stalled = false;  // the system reset also resets the memory side
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

  uint32_t read_reg(uint32_t address) override {
    use_context();
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

  void write_reg(uint32_t address, uint32_t value) override {
    use_context();
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

  // The harness's AXI4-Lite accesses as the board protocol's register port: tsim starts and reads out
  // a run with the same code as the board backends.
  struct Port final : driver::RegisterPort {
    explicit Port(Harness& h) : harness(h) {}
    uint32_t read(uint32_t offset) override { return harness.read_reg(offset); }
    void write(uint32_t offset, uint32_t value) override { harness.write_reg(offset, value); }
    Harness& harness;
  };

  uint64_t counter(uint32_t index) {
    Port port(*this);
    return driver::BoardProtocol(port).counter(index);
  }

  bool soft_reset(uint64_t max_cycles) override {
    write_reg(reg::kControl, reg::kControlSoftReset);
    const uint64_t begin = cycle_;
    while (cycle_ - begin < max_cycles) {
      if ((read_reg(reg::kStatus) & reg::kStatusResetting) == 0) return true;
      for (int i = 0; i < 64; ++i) step();
    }
    return false;
  }

  void check_assertions() {
    if (ctx.gotError())
      throw Error("tsim: an RTL assertion failed at cycle " + std::to_string(cycle_ - run_begin) +
                  " of the run (its message is on stderr): a bug of the core, not of the program");
  }

  TsimResult run(uint64_t insn_addr, uint32_t insn_count, uint64_t max_cycles, double wall_seconds) override {
    auto& s = *this;
    use_context();
    const uint64_t begin = s.cycle_;
    const auto wall_begin = std::chrono::steady_clock::now();
    Port port(s);
    driver::BoardProtocol protocol(port);
    s.run_begin = begin;
    s.run_read_beats = 0;
    s.cancel_requested = false;
    const bool was_stalled = s.mem_stalled;
    try {
      protocol.start(insn_addr, insn_count);
    } catch (const Error& e) {
      throw Error(std::string("tsim: ") + e.what());
    }
    TsimResult result;

    // Progress = any work counter (instructions, bytes, micro-ops) or any memory beat changes.
    const auto signature = [&s] {
      std::vector<uint64_t> sig;
      for (uint32_t i = 0; i < reg::kWorkCounters; ++i) sig.push_back(s.read_reg(reg::counter_lo(i)));
      sig.push_back(s.beats);
      return sig;
    };
    std::vector<uint64_t> last_sig;
    uint64_t last_progress = begin;
    constexpr uint64_t kChunk = 1u << 14;
    // Poll the done output (cheap); STATUS is read once at the end through the bus.
    while (!s.top->done_o) {
      uint64_t chunk_end = std::min(s.cycle_ + kChunk, begin + max_cycles);
      if (s.faults.interrupt_at_cycle) chunk_end = std::min(chunk_end, begin + *s.faults.interrupt_at_cycle);
      while (!s.top->done_o && s.cycle_ < chunk_end) s.step();
      s.check_assertions();
      if (s.top->done_o) break;
      if (s.faults.interrupt_at_cycle && s.cycle_ - begin >= *s.faults.interrupt_at_cycle) {
        s.faults.interrupt_at_cycle.reset();  // one-shot
        result.interrupted = true;
        result.report = "run interrupted at cycle " + std::to_string(s.cycle_ - begin) +
                        " of the run (interrupt fault); the core was still running";
        break;
      }
      if (s.cancel_requested) {
        result.interrupted = true;
        result.report = "run cancelled at cycle " + std::to_string(s.cycle_ - begin) +
                        " of the run; the core was still running";
        break;
      }
      if (s.cycle_ - begin >= max_cycles) {
        result.cycle_limit = true;
        result.report = "no done after " + std::to_string(max_cycles) + " cycles (cycle limit)";
        break;
      }
      if (wall_seconds > 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_begin).count() > wall_seconds) {
        result.wall_timeout = true;
        result.report = "no done after " + std::to_string(s.cycle_ - begin) + " cycles in " +
                        std::to_string(wall_seconds) + " s of host time";
        break;
      }
      if (s.opt.watchdog_cycles == 0) continue;
      std::vector<uint64_t> sig = signature();
      if (sig != last_sig) {
        last_sig = std::move(sig);
        last_progress = s.cycle_;
      } else if (s.cycle_ - last_progress >= s.opt.watchdog_cycles) {
        // Which module is stuck: sample the busy/stall counters over a short window.
        constexpr uint32_t kExtra = reg::kCounterLoadBusy;
        std::vector<uint64_t> a, b;
        for (uint32_t i = 0; i < 7; ++i) a.push_back(s.counter(kExtra + i));
        for (int i = 0; i < 4096; ++i) s.step();
        for (uint32_t i = 0; i < 7; ++i) b.push_back(s.counter(kExtra + i));
        const uint64_t window = 4096;  // the counters advance at most once per cycle of this window
        const char* names[] = {"load", "compute", "store"};
        std::string stalled, states;
        for (uint32_t m = 0; m < 3; ++m) {
          const uint64_t busy = b[2 * m] - a[2 * m], stall = b[2 * m + 1] - a[2 * m + 1];
          if (busy > 0 && stalled.empty()) stalled = names[m];
          states += std::string("; ") + names[m] + ": " + module_state(busy, stall, window);
        }
        const uint64_t fetch_stall = b[6] - a[6];
        states += std::string("; fetch: ") + (fetch_stall > 0 ? "blocked on a full command queue" : "not blocked");
        // Reads the memory has not answered, by requester (ARID 0 fetch, 1 load, 2 compute).
        if (!s.reads.empty()) {
          const char* ids[] = {"fetch", "load", "compute"};
          const ReadBurst& oldest = s.reads.front();
          const std::string who = oldest.id < 3 ? ids[oldest.id] : "id " + std::to_string(oldest.id);
          states += "; memory: " + std::to_string(s.reads.size()) + " read burst(s) outstanding, the oldest from " +
                    who + " at address " + std::to_string(oldest.addr) + " (data due at cycle " +
                    std::to_string(oldest.ready_at - begin) + " of the run)";
          if (stalled.empty()) stalled = who + ", waiting for memory";
        }
        if (!s.writes.empty() || !s.resps.empty())
          states += "; memory: " + std::to_string(s.writes.size() + s.resps.size()) + " write burst(s) outstanding";
        if (s.mem_stalled) states += "; memory: stalled (fault injected), it accepts and answers nothing";
        result.hung = true;
        result.report = "watchdog: no progress for " + std::to_string(s.cycle_ - last_progress) +
                        " cycles, at cycle " + std::to_string(s.cycle_ - begin) + " of the run" +
                        (stalled.empty() ? std::string(" (no module holds an instruction)")
                                         : " (stalled module: " + stalled + ")") +
                        states;
        break;
      }
    }
    driver::CoreOutcome outcome = protocol.collect();
    result.done = outcome.done;
    result.error = outcome.error;
    result.error_code = outcome.error_code;
    result.error_index = outcome.error_index;
    result.error_info = outcome.error_info;
    result.error_addr = outcome.error_addr;
    result.memory_stalled = s.mem_stalled && !was_stalled;
    result.bus_error_address = s.last_error_address;
    result.counters = outcome.counters;
    result.extra_counters = std::move(outcome.extra_counters);
    result.harness_cycles = s.cycle_ - begin;
    return result;
  }
};

// The factory a model's translation unit registers.
template <class Model, bool Traced>
std::unique_ptr<Tsim::Impl> make_harness(const isa::HwConfig& config, sim::DeviceMemory& memory,
                                         TsimOptions options) {
  return std::make_unique<Harness<Model, Traced>>(config, memory, std::move(options));
}

}  // namespace vta::tsim::detail
