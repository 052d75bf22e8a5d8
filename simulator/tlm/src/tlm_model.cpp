// The SystemC TLM-2.0 timing model of the core (see tlm_model.h and docs/tlm.md).
//
// Time: one cycle = 1 ns of SystemC time; a run's cycles are counted from its start. Every thread waits
// until the cycle of an action before performing it (no temporal decoupling), so the shared state (queues,
// the DRAM target's channel timelines) sees actions in time order. Within an instruction a module
// computes its timing in closed form (micro-op pipeline, load/store walkers) and only synchronizes where
// it meets another process: a token, a command queue, a DRAM burst.
#include "vta/tlm/tlm_model.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "kernel.h"  // fsim's internal kernel interface (simulator/fsim/src)
#include "vta/hw/acc_rows.h"
#include "vta/isa/disassembler.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"
#include "vta/isa/instruction_codec.h"
#include "vta/isa/register_map.h"

// libsystemc's own main() refers to sc_main; we never use that entry point (the model is a library).
int sc_main(int, char**) { return 1; }

namespace vta::tlm {
namespace {

using Cycle = uint64_t;
using isa::AluInsn;
using isa::FinishInsn;
using isa::GemmInsn;
using isa::MemInsn;
using isa::MemoryType;
using isa::Module;
using isa::Opcode;

constexpr uint32_t kBusBytes = 8;     // the core's 64-bit AXI data bus (docs/hardware.md)
constexpr Cycle kNever = Cycle{1} << 60;  // a bound for what cannot happen; sums of two stay exact
// One cycle is 1 ns, SystemC's default time resolution 1 ps: times are built from raw values (building
// them from a double and a unit costs more than the rest of a wait).
constexpr uint64_t kTimeUnitsPerCycle = 1000;
constexpr uint32_t kMaxBurst = 256;   // AXI4 INCR burst limit, in beats
constexpr uint32_t kPage = 4096;      // bursts never cross a 4 KiB boundary
constexpr uint32_t kFetchBurst = 8;   // instructions per fetch burst (vta_fetch BURST_INSNS)
constexpr uint32_t kFetchBuffer = 16; // fetch buffer entries (vta_fetch BUF_DEPTH)
constexpr uint32_t kAluQueue = 4;     // ALU instructions queued for the ALU engine (vta_compute QD)
constexpr Cycle kGemmDrain = 7;       // a GEMM's last micro-op issues this many cycles before the engine is idle
// cycles from a micro-op leaving S1 to exec_done after it: S2, S2P, S2Y, S3 and the cycle after (ALU:
// the operands, the op's parts, its result); GEMM and ALU MUL have S2X too (vta_compute_pipe: the
// DSP48s' M and P registers, the carry-save sums, the add). The GEMM reads ACC three stages after S1 and
// writes it two later: an older micro-op's row is written kGemmWindow cycles after it left S1.
constexpr Cycle kAluTail = 5, kGemmTail = kAluTail + 1, kGemmWindow = 3;
constexpr uint32_t kInsnBytes = 16;

enum Client : uint8_t { kFetch = 0, kLoadClient = 1, kComputeClient = 2 };

// Thrown inside a thread to unwind it when the run is aborted (error elsewhere, or deadlock).
struct Aborted {};

// ---------------------------------------------------------------- TLM extension: burst timing
// A read burst in the DRAM target's queue. The target's data-channel process serves the queue in order
// and fills in the beat cycles; `scheduled` when they are known (a slot frees after the last one).
struct ReadBurst {
  Cycle ready_at = 0;  // first cycle data may return (address handshake + latency)
  uint32_t beats = 0;
  Cycle first_beat = 0, last_beat = 0;
  bool started = false, scheduled = false;  // first beat known, every beat known
  sc_core::sc_event started_ev, scheduled_ev;
  bool awaited = false;  // a thread waits on one of the events (a notification nobody waits for still costs)
  uint32_t refs = 0;                          // BurstRefs that hold it
  std::vector<ReadBurst*>* free = nullptr;    // where it goes back when the last one lets go
};

// A counted handle to a pooled ReadBurst. Bursts are made once (two SystemC events each are costly to
// make per burst) and reused; the count is plain, not atomic: every SystemC process runs on one thread.
class BurstRef {
 public:
  BurstRef() = default;
  explicit BurstRef(ReadBurst* b) : b_(b) { hold(); }
  BurstRef(const BurstRef& o) : b_(o.b_) { hold(); }
  BurstRef(BurstRef&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
  BurstRef& operator=(BurstRef o) noexcept {
    std::swap(b_, o.b_);
    return *this;
  }
  ~BurstRef() {
    if (b_ != nullptr && --b_->refs == 0) b_->free->push_back(b_);
  }
  ReadBurst* operator->() const { return b_; }
  ReadBurst& operator*() const { return *b_; }

 private:
  void hold() {
    if (b_ != nullptr) ++b_->refs;
  }
  ReadBurst* b_ = nullptr;
};

// The generic payload carries address, command and length; this extension carries the cycle the
// initiator presents the burst and returns the cycles the target grants (address handshake, the read
// burst's record, write beats and response). Data moves through fsim's kernels, not through the payload.
struct BurstTiming : ::tlm::tlm_extension<BurstTiming> {
  Cycle request = 0;     // in: read: cycle the arbiter takes the request; write: first W beat wanted
  uint32_t beats = 0;    // in
  Cycle accept = 0;      // out: AR handshake (reads)
  BurstRef burst;        // out: reads
  Cycle first_beat = 0;  // out: writes
  Cycle last_beat = 0;   // out: writes
  Cycle response = 0;    // out: B handshake (writes)
  ::tlm::tlm_extension_base* clone() const override { return new BurstTiming(*this); }
  void copy_from(const ::tlm::tlm_extension_base& other) override {
    *this = static_cast<const BurstTiming&>(other);
  }
};

// ---------------------------------------------------------------- DRAM / interconnect target
// The harness's memory model in transaction form: AR requests pass one arbiter register (one per cycle),
// at most max_outstanding read bursts are in flight, read data returns in request order after the
// latency, one beat per cycle while the bandwidth credit lasts; write beats take credit too (without
// waiting for it); a write response follows the burst's last beat after the latency. Read beats are
// scheduled in order, without waiting, up to the write horizon (the first cycle a write beat registered
// from now on can take); past it the data channel waits for the beat's cycle, so write beats registered
// meanwhile take their share of the bandwidth from the reads that follow them.
struct Dram : sc_core::sc_module {
  tlm_utils::simple_target_socket<Dram> socket;
  // The first cycle a write beat registered from now on can take (the core knows when its store module
  // cannot start a STORE before some cycle): reads before it are scheduled without waiting for time.
  std::function<Cycle(Cycle now)> write_horizon;
  Cycle wake_horizon = 0;
  Options opt;
  Cycle base = 0;  // SystemC cycle of the run start
  bool aborted = false;
  sc_core::sc_event restart_ev, fifo_ev;

  Cycle last_accept = 0;
  Cycle last_read_beat = 0;
  std::vector<std::unique_ptr<ReadBurst>> bursts;  // every burst made (new_burst)
  std::vector<ReadBurst*> free_bursts;
  std::deque<BurstRef> fifo;    // accepted, not yet completed, in order
  std::deque<BurstRef> window;  // the most recent max_outstanding accepted bursts
  Cycle last_write_beat = 0;
  std::deque<Cycle> write_ends;  // last W beat of the most recent max_outstanding write bursts
  Cycle last_response = 0;
  int64_t credit = 0;
  Cycle credit_at = 0;  // credit is the bucket's value at the start of this cycle
  int64_t cap = 0;

  SC_HAS_PROCESS(Dram);
  explicit Dram(sc_core::sc_module_name name) : sc_module(name), socket("socket") {
    socket.register_b_transport(this, &Dram::b_transport);
    SC_THREAD(serve_thread);
  }

  void reset(const Options& o, Cycle run_base) {
    opt = o;
    base = run_base;
    aborted = false;
    last_accept = 0;
    last_read_beat = 0;
    fifo.clear();
    window.clear();
    last_write_beat = 0;
    write_ends.clear();
    last_response = 0;
    cap = 4 * int64_t{kBusBytes} + o.dram_bytes_per_cycle;
    credit = cap;  // the bucket fills while the host programs the registers
    credit_at = 0;
    writes.clear();
    wake_horizon = 0;
    cur_active = false;
    restart_ev.notify(sc_core::SC_ZERO_TIME);
  }

  Cycle now() const { return sc_core::sc_time_stamp().value() / kTimeUnitsPerCycle - base; }
  void check() const {
    if (aborted) throw Aborted{};
  }
  // Waits carry no abort event (an or-list allocates on every wait): abort notifies every event a thread
  // can wait on, and a timed wait simply ends.
  void wait_for(sc_core::sc_event& ev) {
    check();
    wait(ev);
    check();
  }
  void wait_until(Cycle c) {
    check();
    const Cycle n = now();
    if (c > n) {
      wait(sc_core::sc_time::from_value((c - n) * kTimeUnitsPerCycle));
      check();
    }
  }

  // The bandwidth bucket, stepped as the harness steps it: every cycle it gains the bytes per cycle (up to
  // the cap), a read beat needs 8 bytes in it and takes them, a write beat takes 8 (never below 0).
  std::deque<std::pair<Cycle, Cycle>> writes;  // registered W beats, [first, last], in order

  bool writing(Cycle c) {
    while (!writes.empty() && writes.front().second < c) writes.pop_front();
    return !writes.empty() && writes.front().first <= c;
  }

  void advance(Cycle t) {
    while (credit_at < t) {
      while (!writes.empty() && writes.front().second < credit_at) writes.pop_front();
      const Cycle next_w = writes.empty() ? t : std::max(writes.front().first, credit_at);
      if (next_w > credit_at) {  // no write beat until next_w: closed form
        const Cycle until = std::min(t, next_w);
        const int64_t grow = static_cast<int64_t>(std::min<Cycle>(until - credit_at, 1u << 20)) * opt.dram_bytes_per_cycle;
        credit = std::min(cap, credit + grow);
        credit_at = until;
        continue;
      }
      credit = std::max<int64_t>(0, std::min(cap, credit + int64_t{opt.dram_bytes_per_cycle}) - kBusBytes);
      ++credit_at;
    }
  }

  // The cycle of one read beat wanted at `t` (at least), consuming its credit.
  Cycle read_beat(Cycle t) {
    t = std::max(t, credit_at);
    advance(t);
    while (credit < kBusBytes) advance(++t);
    int64_t c = std::min(cap, credit + int64_t{opt.dram_bytes_per_cycle}) - kBusBytes;
    if (writing(t)) c = std::max<int64_t>(0, c - kBusBytes);
    credit = c;
    credit_at = t + 1;
    return t;
  }

  // Registers the write beats [first, last] (before they happen, so reads see them).
  void write_beats(Cycle first, Cycle last) {
    for (Cycle c = first; c <= last && c < credit_at; ++c) {
      credit = std::max<int64_t>(0, credit - kBusBytes);  // reads are already scheduled past this beat
    }
    writes.emplace_back(std::max(first, credit_at), last);
    if (writes.back().first > writes.back().second) writes.pop_back();
  }

  // The data channel (serve): schedules the read queue in order.
  void serve_thread() {
    for (;;) {
      try {
        serve();
      } catch (const Aborted&) {
      }
      wait(restart_ev);
    }
  }

  // The front burst's progress: its next beat is wanted at cur_t, cur_left beats are still to schedule.
  bool cur_active = false, cur_first = true;
  Cycle cur_t = 0;
  uint32_t cur_left = 0;

  // Schedules the front burst's beats wanted before `until` (at least one), finishing it after the last.
  void schedule_beats(Cycle until) {
    ReadBurst& b = *fifo.front();
    do {
      const Cycle c = read_beat(cur_t);
      if (cur_first) b.first_beat = c, cur_first = false;
      cur_t = c + 1;
      --cur_left;
    } while (cur_left > 0 && cur_t < until);
    if (!b.started) {
      b.started = true;
      if (b.awaited) b.started_ev.notify(sc_core::SC_ZERO_TIME);
    }
    if (cur_left == 0) {
      b.last_beat = cur_t - 1;
      last_read_beat = b.last_beat;
      b.scheduled = true;
      if (b.awaited) b.scheduled_ev.notify(sc_core::SC_ZERO_TIME);
      cur_active = false;
      fifo.pop_front();  // the next burst's beats follow; nobody waits for this one's end in time
    }
  }

  // Schedules, beat by beat, every queued beat wanted before the horizon (no write beat can come before
  // it, so no time needs to pass); stops at the first one that needs the data channel to wait.
  void schedule_known() {
    while (!fifo.empty()) {
      if (!cur_active) {
        cur_active = true;
        cur_first = true;
        cur_t = std::max(fifo.front()->ready_at, last_read_beat + 1);
        cur_left = fifo.front()->beats;
      }
      if (cur_t >= wake_horizon) return;
      schedule_beats(wake_horizon);
    }
  }

  // The data channel: beats before the horizon are scheduled as soon as they are queued (also from
  // b_transport); at a beat past it the channel waits for its cycle and renews the horizon, which is then
  // at least 3 cycles later (Core::write_horizon).
  void serve() {
    for (;;) {
      schedule_known();
      if (fifo.empty()) {
        wait_for(fifo_ev);
        continue;
      }
      const Cycle want = cur_t;
      const ReadBurst* front = &*fifo.front();
      wait_until(want);
      if (fifo.empty() || &*fifo.front() != front || !cur_active || cur_t != want) continue;  // moved meanwhile
      wake_horizon = write_horizon ? write_horizon(now()) : now() + 1;
    }
  }

  // Read bursts are recycled once no BurstRef holds them (the pool is declared before the queues).
  BurstRef new_burst() {
    if (free_bursts.empty()) {
      bursts.push_back(std::make_unique<ReadBurst>());
      bursts.back()->free = &free_bursts;
      free_bursts.push_back(bursts.back().get());
    }
    ReadBurst* b = free_bursts.back();
    free_bursts.pop_back();
    b->ready_at = 0;
    b->beats = 0;
    b->first_beat = b->last_beat = 0;
    b->started = b->scheduled = b->awaited = false;
    return BurstRef(b);
  }

  // Runs in the initiator's thread at the cycle of the request; a read may wait for a free slot.
  void b_transport(::tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    BurstTiming* bt = nullptr;
    gp.get_extension(bt);
    if (bt == nullptr || bt->beats == 0) {
      gp.set_response_status(::tlm::TLM_GENERIC_ERROR_RESPONSE);
      return;
    }
    if (gp.is_read()) {
      Cycle accept = std::max(bt->request + 1, last_accept + 1);
      last_accept = accept;  // the arbiter register holds this request until the memory takes it
      if (window.size() >= opt.max_outstanding) {
        const BurstRef oldest = window.front();
        while (!oldest->scheduled) {
          oldest->awaited = true;
          wait_for(oldest->scheduled_ev);
        }
        accept = std::max(accept, oldest->last_beat + 1);
        window.pop_front();
      }
      last_accept = accept;
      BurstRef b = new_burst();
      b->ready_at = accept + 1 + opt.dram_latency_cycles;
      b->beats = bt->beats;
      fifo.push_back(b);
      window.push_back(b);
      // beats before the write horizon need no simulated time: schedule them here rather than wake the
      // data channel for each burst
      const Cycle next_beat = cur_active ? cur_t : std::max(fifo.front()->ready_at, last_read_beat + 1);
      if (write_horizon && next_beat >= wake_horizon) wake_horizon = std::max(wake_horizon, write_horizon(now()));
      schedule_known();
      if (!fifo.empty()) fifo_ev.notify(sc_core::SC_ZERO_TIME);
      bt->accept = accept;
      bt->burst = b;
    } else {
      // AW is accepted while fewer than max_outstanding bursts still have W beats to send; W follows AW
      Cycle first = std::max(bt->request, last_write_beat + 1);
      if (write_ends.size() >= opt.max_outstanding) first = std::max(first, write_ends.front() + 2);
      const Cycle last = first + bt->beats - 1;
      write_ends.push_back(last);
      while (write_ends.size() > opt.max_outstanding) write_ends.pop_front();
      write_beats(first, last);
      last_write_beat = last;
      last_response = std::max(last + 1 + opt.dram_latency_cycles, last_response + 1);
      bt->first_beat = first;
      bt->last_beat = last;
      bt->response = last_response;
    }
    gp.set_response_status(::tlm::TLM_OK_RESPONSE);
    delay = sc_core::SC_ZERO_TIME;
  }
};

// ---------------------------------------------------------------- per-run state
struct Counts {
  uint64_t busy = 0, stall = 0;
};

struct RunState;

// A command queue (vta_fifo, CMD_DEPTH entries) from fetch to one module.
struct CmdQueue {
  std::deque<std::pair<uint32_t, Cycle>> q;  // (instruction index, first cycle the module sees it)
  Cycle last_pop = ~Cycle{0};
  sc_core::sc_event pushed, popped;
};

// A dependency-token queue (vta_token_queue): a push at cycle p is poppable from p + 1.
struct TokenQueue {
  const char* name = "";
  std::deque<Cycle> avail;
  Cycle last_pop = 0;
  sc_core::sc_event pushed, popped;
};

// A lower bound on the cycle of a module's next event: an absolute cycle once the module has popped the
// instruction it comes from, a distance from now while the module still waits to pop it (it pops no
// sooner than now). Both 0: unknown, i.e. any time from now on.
struct EventBound {
  Cycle not_before = 0, from_now = 0;
  Cycle at(Cycle now) const { return std::max(not_before, from_now ? now + from_now : 0); }
  void after_now(Cycle distance) { not_before = 0, from_now = distance; }
  void at_cycle(Cycle c) { not_before = std::min(kNever, c), from_now = 0; }
};

struct RunState {
  // VTA_TLM_TIMELINE=FILE: every instruction's interval per unit, appended as CSV (docs/tlm.md)
  std::FILE* timeline = nullptr;
  void note(const char* unit, uint32_t index, uint64_t from, uint64_t to) const {
    if (timeline != nullptr)
      std::fprintf(timeline, "%s,%u,%llu,%llu\n", unit, index, static_cast<unsigned long long>(from),
                   static_cast<unsigned long long>(to));
  }
  const isa::HwConfig* config = nullptr;
  sim::DeviceMemory* memory = nullptr;
  fsim::detail::ExecKernel* kernel = nullptr;
  std::vector<isa::MicroOp>* uops = nullptr;  // shadow of the UOP buffer (for hazard timing)
  const isa::InstructionCodec* codec = nullptr;
  Options opt;
  std::vector<isa::Instruction> program;
  std::vector<Module> modules;
  uint32_t token_depth = isa::CoreQueueDepths::kToken;
  uint32_t cmd_depth = isa::CoreQueueDepths::kCommand;

  std::array<CmdQueue, 3> cmd;
  std::array<TokenQueue, 4> tok;  // l2c, c2l, c2s, s2c
  std::deque<std::pair<uint32_t, Cycle>> fetch_buf;  // (index, cycle it can be dispatched)
  sc_core::sc_event fetch_pushed, fetch_popped;

  isa::ExecutionCounters counters;
  std::array<Counts, 3> mod;
  uint64_t fetch_stall = 0, hazard = 0;
  std::array<uint32_t, 3> remaining{};   // instructions each module still has to complete
  std::array<Cycle, 3> end_cycle{};      // cycle each module returned to idle after its last one
  Cycle fetch_done = 0;
  // What bounds the next write beat (Core::write_horizon). The compute module cannot push a token to the
  // store before c2s_push; c2s_min[k] bounds the cycles from popping its k-th instruction to the next push
  // (kNever: no push follows). The store module STARTs a STORE at store_cycle (kStarting), executes one
  // until store_cycle (kExecuting), waits for a compute->store token, waits for its next instruction
  // (store_next_pops: that one pops a token), or is done.
  std::vector<Cycle> c2s_min;  // per compute instruction, in the compute module's order, plus one kNever
  size_t compute_pos = 0;      // compute instructions started
  EventBound c2s_push;
  enum class StorePhase : uint8_t { kOther, kIdle, kStarting, kExecuting, kWaitingForCompute, kDone } store_phase = StorePhase::kOther;
  bool store_next_pops = false;
  std::vector<bool> store_pops;  // per store instruction, in order: it pops a compute->store token
  size_t store_pos = 0;
  Cycle store_cycle = 0;
  // What bounds the next read request of the clients other than the load module (Core::
  // other_reads_not_before), so that the load module may present its requests before their cycle. The
  // compute module reads no sooner than compute_read (unknown while it is loading), from popping its k-th
  // instruction no sooner than cread_min[k] cycles later, and pops its next instruction no sooner than
  // compute_pops_not_before (0: now). Fetch requests its next
  // burst at fetch_next_request at the earliest, or waits for room in its buffer (which only a dispatch
  // makes; dispatch_blocked_on: the module whose full command queue holds the dispatch up, or -1).
  std::vector<Cycle> cread_min;
  EventBound compute_read;
  Cycle compute_pops_not_before = 0;
  // The compute module's two engines (vta_compute): the GEMM engine is idle from gemm_free; ALU
  // instructions wait in a queue of kAluQueue entries (alu_starts: the START cycle of every entry still
  // counted in it) and run one after the other, each STARTing no sooner than alu_ready; bank_release[b]
  // is the cycle the last queued or running ALU instruction that may touch ACC bank b stops locking it.
  // The ALU engine pushes its instructions' tokens itself (Core::alu_push_thread): alu_jobs in order (the
  // first one with a compute->store push bounds the next push, Core::next_c2s_push); alu_idle: the cycle
  // the engine is empty after the last job it finished.
  // A GEMM whose one push is compute->load hands it to the GEMM engine, which gives it from the cycle
  // after the GEMM's last micro-op left S1 (Core::gemm_push_thread; gemm_jobs, at most one).
  struct AluJob {
    uint32_t index;
    Cycle done;  // exec_done of its micro-ops
    bool push_prev, push_next;
  };
  std::deque<AluJob> gemm_jobs;
  Cycle gemm_free = 0, alu_ready = 0, alu_idle = 0;
  Cycle gemm_pushed = 0;       // the cycle after the GEMM engine gave its last handed-over push
  // the GEMM engine may take the next GEMM from gemm_next (its last one's micro-ops are past S1) unless
  // ALU instructions came in behind the running one (they wait for it to be idle; so does the next GEMM)
  Cycle gemm_next = 0;
  bool alu_behind_gemm = false;
  bool gemm_push_pending = false;  // ... which is still to give
  std::deque<Cycle> alu_starts;
  std::array<Cycle, hw::kAccBanks> bank_release{};
  std::deque<AluJob> alu_jobs;
  Cycle busy_covered = 0;  // compute busy cycles are counted up to here (a union of intervals)
  enum class FetchPhase : uint8_t { kRequesting, kWaitingForRoom, kDone } fetch_phase = FetchPhase::kRequesting;
  Cycle fetch_next_request = 0;
  int dispatch_blocked_on = -1;
  // where each module waits (for the deadlock report)
  struct Waiting {
    const char* what = nullptr;     // a format with the queue's name, e.g. "waiting on the empty {} queue"
    const char* queue = "";
    std::optional<uint32_t> index;  // the stalled instruction
    std::string text() const { return what ? fmt::format(fmt::runtime(what), queue) : std::string(); }
  };
  std::array<Waiting, 4> waiting;  // set only while a module waits (formatted only for the report);
                                   // [kLoadBack]: the load module's back end, reported for the load module

  // The load module (vta_load): the front end takes an instruction, pops its token and issues its read
  // requests; the back end's queue (load_q, at most kLoadEntries) holds the instructions started, and its
  // head writes its data and pushes its token. A head's beats are taken from the beat queue from its
  // run_start on, one per cycle, the cycle after they arrive at the earliest (takes).
  struct LoadEntry {
    uint32_t index = 0;
    const MemInsn* m = nullptr;
    bool runs = false;          // moves data (x_size != 0)
    Cycle accepted = 0;         // the front end took it
    Cycle start = 0;            // START: entered load_q; its first request the cycle after
    Cycle run_start = kNever;   // the head's first B_RUN cycle, once known
    Cycle data_end = 0;         // narrow elements (no overlap): the data side's end, from load_unit
    std::vector<std::pair<BurstRef, uint32_t>> bursts;  // with their beats
    uint64_t fired = 0;         // beats requested
    bool requests_done = false;
    std::vector<Cycle> takes;   // as far as known
    size_t take_burst = 0;      // the first burst not yet in takes
  };
  std::deque<LoadEntry> load_q;
  sc_core::sc_event load_q_changed;  // an entry came or went, a head's run_start, an entry's requests done
  Cycle load_back_free = 0;          // the back end's first idle cycle after its last push
  Cycle load_popped_at = 0;          // the cycle of the back end's last push (load_q has room the next)
  Cycle load_busy_covered = 0;       // load busy cycles are counted up to here (a union of intervals)
  uint32_t load_front_left = 0;      // instructions the front end has still to take
  bool load_overlap = true;          // INP and WGT elements at least a bus word (vta_load OVERLAP)

  bool aborted = false;
  std::exception_ptr error;
};

constexpr int kL2C = 0, kC2L = 1, kC2S = 2, kS2C = 3;
constexpr int kLoadBack = 3;  // RunState::waiting's slot of the load module's back end
// vta_load: the beat queue (beats) and the bursts issued ahead of their data side; the back end's queue
constexpr uint32_t kLoadBeatQueue = 64, kLoadAheadBurst = kLoadBeatQueue / 2, kLoadEntries = 2;

// ---------------------------------------------------------------- the core
struct Core : sc_core::sc_module {
  // An initiator: its socket and the one payload it reuses for every burst (a payload allocates its
  // extension array when it is made; a LOAD can issue thousands of bursts).
  struct Port {
    tlm_utils::simple_initiator_socket<Core> socket;
    ::tlm::tlm_generic_payload gp;
    explicit Port(const char* name) : socket(name) {}
  };
  Port fetch_port{"fetch_socket"}, load_port{"load_socket"}, compute_port{"compute_socket"},
      store_port{"store_socket"};
  Dram dram;
  RunState* run = nullptr;
  Cycle base = 0;
  sc_core::sc_event start_ev;
  sc_core::sc_event alu_job_ev, alu_done_ev;  // a job for the ALU engine's pushes; one done
  sc_core::sc_event gemm_job_ev, gemm_done_ev;  // the GEMM engine's push: handed over; given
  uint8_t scratch[kMaxBurst * kBusBytes] = {};

  SC_HAS_PROCESS(Core);
  explicit Core(sc_core::sc_module_name name)
      : sc_module(name), dram("dram") {
    fetch_port.socket.bind(dram.socket);
    // one target socket, several initiators: simple_target_socket takes a single binding, so the other
    // initiators reach the same target through passthrough sockets of their own
    load_target.register_b_transport(this, &Core::forward);
    compute_target.register_b_transport(this, &Core::forward);
    store_target.register_b_transport(this, &Core::forward);
    load_port.socket.bind(load_target);
    compute_port.socket.bind(compute_target);
    store_port.socket.bind(store_target);
    dram.write_horizon = [this](Cycle t) { return write_horizon(t); };
    SC_THREAD(fetch_request_thread);
    SC_THREAD(fetch_dispatch_thread);
    SC_THREAD(load_thread);
    SC_THREAD(load_back_thread);
    SC_THREAD(compute_thread);
    SC_THREAD(alu_push_thread);
    SC_THREAD(gemm_push_thread);
    SC_THREAD(store_thread);
  }

  // The interconnect: every initiator's transaction goes to the one DRAM target.
  tlm_utils::simple_target_socket<Core> load_target{"load_target"}, compute_target{"compute_target"},
      store_target{"store_target"};
  void forward(::tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) { dram.b_transport(gp, delay); }

  // ---- time helpers ----
  Cycle now() const { return sc_core::sc_time_stamp().value() / kTimeUnitsPerCycle - base; }
  void check_abort() const {
    if (run == nullptr || run->aborted) throw Aborted{};
  }
  void wait_until(Cycle c) {
    check_abort();
    const Cycle n = now();
    if (c > n) {
      wait(sc_core::sc_time::from_value((c - n) * kTimeUnitsPerCycle));
      check_abort();
    }
  }
  void wait_event(sc_core::sc_event& ev) {  // see Dram::wait_for
    check_abort();
    wait(ev);
    check_abort();
  }
  void fail(std::exception_ptr e) {
    if (!run->error) run->error = e;
    abort_all();
  }
  // Wakes every thread waiting on an event; each then finds the run aborted and unwinds.
  void abort_all() {
    run->aborted = true;
    dram.aborted = true;
    const auto wake = [](sc_core::sc_event& ev) { ev.notify(sc_core::SC_ZERO_TIME); };
    for (CmdQueue& cq : run->cmd) wake(cq.pushed), wake(cq.popped);
    for (TokenQueue& tq : run->tok) wake(tq.pushed), wake(tq.popped);
    wake(run->fetch_pushed);
    wake(run->fetch_popped);
    wake(run->load_q_changed);
    wake(alu_job_ev);
    wake(alu_done_ev);
    wake(gemm_job_ev);
    wake(gemm_done_ev);
    wake(dram.fifo_ev);
    for (const auto& b : dram.bursts) wake(b->started_ev), wake(b->scheduled_ev);
  }
  // Waits until a read burst's beats are known.
  void wait_scheduled(const BurstRef& b) {
    while (!b->scheduled) {
      b->awaited = true;
      wait_event(b->scheduled_ev);
    }
  }

  // ---- DRAM transactions ----
  BurstTiming transact(Port& port, bool write, uint64_t address, uint32_t beats, Cycle request,
                       bool sync = true) {
    // the load module's reads need not wait for their cycle while no other client can request before it
    if (sync && !(&port == &load_port && request < other_reads_not_before(now()))) wait_until(request);
    ::tlm::tlm_generic_payload& gp = port.gp;
    BurstTiming bt;
    bt.request = request;
    bt.beats = beats;
    gp.set_command(write ? ::tlm::TLM_WRITE_COMMAND : ::tlm::TLM_READ_COMMAND);
    gp.set_address(address);
    gp.set_data_ptr(scratch);
    gp.set_data_length(std::min<uint32_t>(beats * kBusBytes, sizeof scratch));
    gp.set_streaming_width(gp.get_data_length());
    gp.set_byte_enable_ptr(nullptr);
    gp.set_dmi_allowed(false);
    gp.set_response_status(::tlm::TLM_INCOMPLETE_RESPONSE);
    gp.set_extension(&bt);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    port.socket->b_transport(gp, delay);
    gp.clear_extension(&bt);
    return bt;
  }

  // ---- queues ----
  // Pops the command queue of module m; the module is idle from `ready`. Returns (index, accept cycle).
  std::pair<uint32_t, Cycle> pop_cmd(int m, Cycle ready) {
    CmdQueue& cq = run->cmd[m];
    while (cq.q.empty()) {
      run->waiting[m] = {"waiting for an instruction", "", std::nullopt};
      wait_event(cq.pushed);
    }
    run->waiting[m] = {};
    const auto [index, visible] = cq.q.front();
    const Cycle a = std::max(ready, visible);
    wait_until(a);
    cq.q.pop_front();
    cq.last_pop = a;
    cq.popped.notify(sc_core::SC_ZERO_TIME);
    return {index, a};
  }

  // Pops a token at `from` or later; returns the cycle of the pop.
  Cycle pop_token(int qi, int m, uint32_t index, Cycle from) {
    TokenQueue& tq = run->tok[qi];
    wait_until(from);
    while (tq.avail.empty()) {
      run->waiting[m] = {"waiting on the empty {} queue", tq.name, index};
      wait_event(tq.pushed);
    }
    run->waiting[m] = {};
    const Cycle q = std::max(now(), tq.avail.front());
    wait_until(q);
    tq.avail.pop_front();
    tq.last_pop = q;
    tq.popped.notify(sc_core::SC_ZERO_TIME);
    return q;
  }

  // Pushes a token at `from` or later (a full queue waits for a pop); returns the cycle of the push.
  Cycle push_token(int qi, int m, uint32_t index, Cycle from) {
    TokenQueue& tq = run->tok[qi];
    wait_until(from);
    bool waited = false;
    while (tq.avail.size() >= run->token_depth) {
      run->waiting[m] = {"waiting for room in the full {} queue", tq.name, index};
      wait_event(tq.popped);
      waited = true;
    }
    run->waiting[m] = {};
    Cycle p = now();
    if (waited) p = std::max(p, tq.last_pop + 1);
    wait_until(p);
    tq.avail.push_back(p + 1);
    tq.pushed.notify(sc_core::SC_ZERO_TIME);
    return p;
  }

  // ---- fetch ----
  void fetch_request_thread() {
    for (;;) {
      wait(start_ev);
      try {
        fetch_requests();
      } catch (const Aborted&) {
      } catch (...) {
        fail(std::current_exception());
      }
    }
  }

  void fetch_requests() {
    const uint32_t count = static_cast<uint32_t>(run->program.size());
    uint64_t address = insn_address;
    uint32_t next = 0;
    Cycle c = 2;  // the burst is planned the cycle after start and requested the cycle after that
    while (next < count) {
      uint32_t n = std::min(kFetchBurst, count - next);
      n = std::min<uint32_t>(n, static_cast<uint32_t>((kPage - address % kPage) / kInsnBytes));
      run->fetch_phase = RunState::FetchPhase::kRequesting;
      run->fetch_next_request = c;
      wait_until(c);
      // a burst is requested only when the buffer has room for all of it
      while (run->fetch_buf.size() + n > kFetchBuffer) {
        run->fetch_phase = RunState::FetchPhase::kWaitingForRoom;
        wait_event(run->fetch_popped);
        c = now() + 1;
        run->fetch_phase = RunState::FetchPhase::kRequesting;
        run->fetch_next_request = c;
        wait_until(c);
      }
      const uint32_t beats = n * kInsnBytes / kBusBytes;
      const BurstTiming rq = transact(fetch_port, false, address, beats, c);
      // the next request follows this burst's last beat, which is no sooner than latency + beats
      run->fetch_next_request = rq.accept + 1 + run->opt.dram_latency_cycles + beats;
      // instructions go to the buffer as the beats arrive (taken as back to back from the first one)
      while (!rq.burst->started) {
        rq.burst->awaited = true;
        wait_event(rq.burst->started_ev);
      }
      const ReadBurst& bt = *rq.burst;
      for (uint32_t k = 0; k < n; ++k) {
        // an instruction is complete with its last beat; it can leave the buffer the cycle after
        const uint32_t beat = (k + 1) * (kInsnBytes / kBusBytes) - 1;
        run->fetch_buf.emplace_back(next + k, bt.first_beat + beat + 1);
      }
      run->fetch_pushed.notify(sc_core::SC_ZERO_TIME);
      wait_scheduled(rq.burst);
      next += n;
      address += uint64_t{n} * kInsnBytes;
      c = bt.last_beat + 1;  // one burst outstanding at a time
    }
    run->fetch_phase = RunState::FetchPhase::kDone;
  }

  void fetch_dispatch_thread() {
    for (;;) {
      wait(start_ev);
      try {
        fetch_dispatch();
      } catch (const Aborted&) {
      } catch (...) {
        fail(std::current_exception());
      }
    }
  }

  void fetch_dispatch() {
    const uint32_t count = static_cast<uint32_t>(run->program.size());
    Cycle t = 0;
    for (uint32_t i = 0; i < count; ++i) {
      while (run->fetch_buf.empty()) wait_event(run->fetch_pushed);
      t = std::max(t, run->fetch_buf.front().second);
      wait_until(t);
      const int m = static_cast<int>(run->modules[i]);
      CmdQueue& cq = run->cmd[m];
      const Cycle blocked_from = t;
      // the queue has room in cycle t unless it is full or was full until a pop in this very cycle
      for (;;) {
        const size_t occupied = cq.q.size() + (cq.last_pop == now() ? 1 : 0);
        if (occupied < run->cmd_depth) break;
        if (cq.q.size() >= run->cmd_depth) {
          run->dispatch_blocked_on = m;
          wait_event(cq.popped);
          run->dispatch_blocked_on = -1;
        } else {
          wait_until(now() + 1);
        }
      }
      t = now();
      run->fetch_stall += t - blocked_from;
      cq.q.emplace_back(i, t + 1);
      cq.pushed.notify(sc_core::SC_ZERO_TIME);
      run->fetch_buf.pop_front();
      run->fetch_popped.notify(sc_core::SC_ZERO_TIME);
      ++t;
    }
    run->fetch_done = t;
  }

  // Cycle of beat `i` of a scheduled burst (beats spread evenly over its first and last).
  static Cycle beat_cycle(const ReadBurst& b, uint32_t i) {
    const uint32_t n = b.beats;
    if (b.last_beat - b.first_beat == n - 1) return b.first_beat + std::min(i, n - 1);  // back to back
    return n > 1 ? b.first_beat + (b.last_beat - b.first_beat) * std::min(i, n - 1) / (n - 1) : b.first_beat;
  }

  // Elements narrower than the bus (vta_load_unit's narrow path): each row's beats in bursts of at most
  // kNarrowBurst, issued only while the beat queue has room for every beat requested and not consumed
  // (kNarrowQueue); the data walker takes one beat per cycle out of the queue, a cycle after it arrived,
  // writing all of its elements of the row at once (the UOP buffer has a bank per lane).
  static constexpr uint32_t kNarrowQueue = 128, kNarrowBurst = 16;
  struct NarrowBurst {
    BurstRef burst;
    uint32_t row = 0, first_beat = 0;  // row of the LOAD and the burst's first beat within the row
  };
  struct NarrowLoad {
    std::vector<NarrowBurst> bursts;
    std::vector<Cycle> pops;  // the cycle each beat taken so far left the queue
    size_t taken = 0;         // bursts whose elements are written
    uint64_t beats = 0;       // beats requested
    // Writes the elements of the next burst (waiting for its beats), recording its beats' pops.
    void take_next(Core& core, const MemInsn& m, uint32_t elem_bytes, std::vector<Cycle>& writes) {
      const NarrowBurst& nb = bursts[taken++];
      core.wait_scheduled(nb.burst);
      const uint32_t lanes = kBusBytes / elem_bytes;
      const uint32_t lane0 = static_cast<uint32_t>((uint64_t{m.dram_base} + uint64_t{nb.row} * m.x_stride) % lanes);
      for (uint32_t j = 0; j < nb.burst->beats; ++j) {
        const uint64_t q = nb.first_beat + j;  // beat of the row
        const uint64_t x0 = q * lanes > lane0 ? q * lanes - lane0 : 0;
        const uint64_t x1 = std::min<uint64_t>(m.x_size, (q + 1) * lanes - lane0);
        // the beat's elements of the row go in one cycle (the UOP buffer has a bank per lane)
        const Cycle arrive = beat_cycle(*nb.burst, j) + 1;
        const Cycle w = std::max(arrive, writes.empty() ? 0 : writes.back() + 1);
        for (uint64_t x = x0; x < x1; ++x) writes.push_back(w);
        pops.push_back(w);
      }
    }
  };
  // Issues row `y`'s bursts from cycle `c`; returns the cycle the request walker is free again.
  Cycle narrow_row(Port& port, const MemInsn& m, uint32_t y,
                   uint32_t elem_bytes, Cycle c, NarrowLoad& nl, std::vector<Cycle>& writes) {
    const uint32_t lanes = kBusBytes / elem_bytes;
    const uint64_t first_elem = uint64_t{m.dram_base} + uint64_t{y} * m.x_stride;
    uint64_t address = first_elem * elem_bytes / kBusBytes * kBusBytes;
    const uint32_t row_beats = static_cast<uint32_t>((first_elem % lanes + m.x_size + lanes - 1) / lanes);
    uint32_t done = 0;
    while (done < row_beats) {
      const uint64_t to_page = (kPage - address % kPage) / kBusBytes;
      const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>({row_beats - done, kNarrowBurst, to_page}));
      if (nl.beats + kNarrowBurst > kNarrowQueue) {
        // room for any burst once enough beats have left the queue: the cycle after the pop that makes it
        const uint64_t need = nl.beats + kNarrowBurst - kNarrowQueue;
        while (nl.pops.size() < need) nl.take_next(*this, m, elem_bytes, writes);
        c = std::max(c, nl.pops[need - 1] + 1);
      }
      const BurstTiming bt = transact(port, false, address, n, c);
      c = bt.accept + 1;  // the walker chooses its next burst in the cycle after the handshake
      nl.bursts.push_back(NarrowBurst{bt.burst, y, done});
      nl.beats += n;
      address += uint64_t{n} * kBusBytes;
      done += n;
    }
    return c;
  }

  // The first cycle a write beat registered from cycle `t` on can take. A STORE registers its beats from
  // three cycles after its START: a store module still executing one starts the next at the earliest
  // after it; one waiting for a compute->store token (or for its next instruction, which pops one) with
  // none in the queue starts after the compute module pushes one, which is no sooner than the
  // instructions before that push can run (RunState::c2s_min); a store module that is done writes no more.
  Cycle write_horizon(Cycle t) const {
    Cycle h = t + 3;
    if (run == nullptr) return h;
    const auto after_c2s_push = [&] {
      if (!run->tok[kC2S].avail.empty()) return h;
      return std::max(h, next_c2s_push(t) + 3);
    };
    switch (run->store_phase) {
      case RunState::StorePhase::kExecuting: return std::max(h, run->store_cycle + 4);
      case RunState::StorePhase::kStarting: return std::max(h, run->store_cycle + 3);
      case RunState::StorePhase::kWaitingForCompute: return after_c2s_push();
      case RunState::StorePhase::kIdle: return run->store_next_pops ? after_c2s_push() : h;
      case RunState::StorePhase::kDone: return kNever;
      case RunState::StorePhase::kOther: break;
    }
    return h;
  }

  // The first cycle the compute module can push a compute->store token, as far as is known at `t`: its
  // front end's next push (RunState::c2s_push) or the ALU engine's first pending one.
  Cycle next_c2s_push(Cycle t) const {
    Cycle c = run->c2s_push.at(t);
    for (const RunState::AluJob& j : run->alu_jobs) {
      if (j.push_next) {
        c = std::min(c, std::max(t, j.done + (j.push_prev ? 2 : 1)));
        break;
      }
    }
    return c;
  }

  // A lower bound on a compute instruction's RUN (START to exec_done): one micro-op issue a cycle, a
  // word's rows where they can group (reset GEMMs, ALU), the GEMM engine's two more stages, one cycle
  // for the rest.
  static Cycle min_run_cycles(const isa::Instruction& insn, Cycle rows_per_word) {
    const isa::LoopNest* loop = nullptr;
    bool can_group = false;
    if (const auto* g = std::get_if<GemmInsn>(&insn)) loop = &g->loop, can_group = g->loop.reset;
    if (const auto* a = std::get_if<AluInsn>(&insn)) loop = &a->loop, can_group = true;
    if (loop == nullptr || loop->uop_end <= loop->uop_bgn) return 1;
    const Cycle n = Cycle{loop->iter_out} * loop->iter_in * (loop->uop_end - loop->uop_bgn);
    const Cycle stages = std::holds_alternative<GemmInsn>(insn) ? kGemmTail - kGemmWindow : 0;
    return std::max<Cycle>(1, (can_group ? n / rows_per_word : n) + stages);
  }

  // RunState::c2s_min, cread_min and store_pops from the program (compute_body). From its POP cycle a
  // compute instruction is DISPATCHed 4 cycles later at the earliest. The front end is ready for the next
  // instruction the cycle after dispatching a GEMM (or an instruction with nothing to do), 4 cycles after
  // dispatching an ALU instruction (its bank set), and 3 cycles after exec_done when it pushes or loads
  // (PUSH_PREV, PUSH_NEXT). A push to the store follows all older GEMMs (one engine, in order) and comes
  // 2 cycles after exec_done at the earliest.
  static void plan_bounds(RunState& rs) {
    std::vector<uint32_t> order;
    for (uint32_t i = 0; i < rs.program.size(); ++i) {
      if (rs.modules[i] == Module::kCompute) order.push_back(i);
      if (rs.modules[i] == Module::kStore) rs.store_pops.push_back(isa::dep_flags(rs.program[i]).pop_prev);
    }
    rs.c2s_min.assign(order.size() + 1, kNever);
    rs.cread_min.assign(order.size() + 1, kNever);
    Cycle gemm_runs = 0;  // GEMM runs from k to the next push to the store
    for (size_t k = order.size(); k-- > 0;) {
      const isa::Instruction& insn = rs.program[order[k]];
      const Cycle run = min_run_cycles(insn, hw::acc_rows_per_word(*rs.config));
      const isa::DepFlags dep = isa::dep_flags(insn);
      const bool gemm = std::holds_alternative<GemmInsn>(insn) && runs_loop(insn);
      const bool alu = std::holds_alternative<AluInsn>(insn) && runs_loop(insn);
      const auto* m = std::get_if<MemInsn>(&insn);
      const bool loads = m != nullptr && m->x_size != 0 && m->y_size != 0;
      const bool front_push = !alu && (dep.push_prev || dep.push_next || std::holds_alternative<isa::FinishInsn>(insn));
      // cycles from this POP to the next one's, at the least
      const Cycle next = alu ? 8 : (front_push || loads) ? 4 + run + 3 : 5;
      if (dep.push_next) gemm_runs = 0;
      if (gemm) gemm_runs += run;
      Cycle c2s;
      if (alu && dep.push_next) c2s = 8 + run + 2;
      else if (dep.push_next) c2s = 4 + run + 2;
      else c2s = std::min(kNever, next + rs.c2s_min[k + 1]);
      rs.c2s_min[k] = std::max(c2s, std::min(kNever, 4 + gemm_runs + 2));
      // a LOAD (UOP, ACC) presents its first request two cycles after START
      rs.cread_min[k] = loads ? 4 + 2 : std::min(kNever, next + rs.cread_min[k + 1]);
    }
  }
  // A GEMM or ALU instruction whose loop has at least one iteration (it runs on an engine).
  static bool runs_loop(const isa::Instruction& insn) {
    const isa::LoopNest* loop = nullptr;
    if (const auto* g = std::get_if<GemmInsn>(&insn)) loop = &g->loop;
    if (const auto* a = std::get_if<AluInsn>(&insn)) loop = &a->loop;
    return loop != nullptr && loop->iter_out != 0 && loop->iter_in != 0 && loop->uop_end > loop->uop_bgn;
  }

  // The first cycle the store module can pop its next instruction, as far as is known at `t`: after the
  // STORE it executes or STARTs (store_body: ready 2 cycles after exec_done, which is after START), or
  // after the compute->store token it waits for (pop, START, a cycle of RUN, PUSH: 4 cycles after it).
  Cycle store_pops_not_before(Cycle t) const {
    const RunState& r = *run;
    switch (r.store_phase) {
      case RunState::StorePhase::kExecuting: return r.store_cycle + 2;
      case RunState::StorePhase::kStarting: return r.store_cycle + 3;
      case RunState::StorePhase::kWaitingForCompute:
        return r.tok[kC2S].avail.empty() ? std::min(kNever, next_c2s_push(t) + 4) : t;
      case RunState::StorePhase::kDone: return kNever;
      case RunState::StorePhase::kIdle:
      case RunState::StorePhase::kOther: break;
    }
    return t;
  }

  // The first cycle a client other than the load module can present a read request, as far as is known
  // now (see RunState). A load module's request before it cannot be overtaken, so it needs no wait for its
  // cycle: the arbiter sees the requests in the same order as when every client waits for its own.
  Cycle other_reads_not_before(Cycle t) const {
    const RunState& r = *run;
    const Cycle compute = r.compute_read.at(t);
    Cycle fetch = t;
    switch (r.fetch_phase) {
      case RunState::FetchPhase::kDone: fetch = kNever; break;
      case RunState::FetchPhase::kRequesting: fetch = r.fetch_next_request; break;
      case RunState::FetchPhase::kWaitingForRoom:
        // room needs a dispatch, which needs the blocking module to pop its next instruction
        switch (r.dispatch_blocked_on) {
          case static_cast<int>(Module::kLoad): fetch = kNever; break;  // not during this load
          case static_cast<int>(Module::kCompute): fetch = std::max(t, r.compute_pops_not_before) + 1; break;
          case static_cast<int>(Module::kStore): fetch = std::max(t, store_pops_not_before(t)) + 1; break;
          default: fetch = t + 1; break;
        }
        break;
    }
    return std::min(compute, fetch);
  }

  // ---- the load unit (vta_load_unit): one 2D LOAD into one buffer ----
  // `s` is the START cycle; returns the first cycle the unit is no longer busy (exec_done).
  Cycle load_unit(Port& port, const MemInsn& m, uint32_t elem_bytes,
                  Cycle s) {
    const bool wide = elem_bytes >= kBusBytes;
    const uint32_t bpe = wide ? elem_bytes / kBusBytes : 1;
    std::vector<Cycle> writes;  // cycles the data walker writes an element
    writes.reserve(uint64_t{m.x_size} * m.y_size);
    std::vector<std::pair<BurstRef, uint32_t>> bursts;  // (burst, elements it completes)
    NarrowLoad narrow;
    Cycle c = s + 2;  // the request walker chooses its first burst the cycle after START, presents it next
    Cycle busy_end = s + 1;
    for (uint32_t y = 0; y < m.y_size; ++y) {
      const uint64_t row = (uint64_t{m.dram_base} + uint64_t{y} * m.x_stride) * elem_bytes;
      if (wide) {
        uint64_t address = row;
        uint64_t left = uint64_t{m.x_size} * bpe;
        while (left > 0) {
          const uint64_t to_page = (kPage - address % kPage) / kBusBytes;
          const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>({left, kMaxBurst, to_page}));
          const BurstTiming bt = transact(port, false, address, n, c);
          c = bt.accept + 1;  // the next burst is chosen in the cycle after the handshake
          bursts.emplace_back(bt.burst, n / bpe);
          address += uint64_t{n} * kBusBytes;
          left -= n;
        }
      } else {
        c = narrow_row(port, m, y, elem_bytes, c, narrow, writes);
      }
    }
    if (wide) {
      // the data walker writes an element with its last beat (bursts are served in order)
      if (!bursts.empty()) wait_scheduled(bursts.back().first);
      for (const auto& [b, elements] : bursts) {
        for (uint32_t e = 1; e <= elements; ++e) writes.push_back(beat_cycle(*b, e * bpe - 1));
      }
    } else {
      while (narrow.taken < narrow.bursts.size()) narrow.take_next(*this, m, elem_bytes, writes);
    }
    if (!writes.empty()) busy_end = std::max(busy_end, writes.back() + 1);
    busy_end = std::max(busy_end, c);
    return std::max(busy_end, pad_walker_end(m, s + 1, writes));
  }

  // The pad walker: one step per pad element and per data row, in the cycles from `from` on that the data
  // walker leaves free (`writes`: its write cycles, in order). Returns the first cycle it is done (`from`
  // when the tile is empty).
  static Cycle pad_walker_end(const MemInsn& m, Cycle from, const std::vector<Cycle>& writes) {
    const uint64_t rows = uint64_t{m.y_pad_0} + m.y_size + m.y_pad_1;
    const uint64_t cols = uint64_t{m.x_pad_0} + m.x_size + m.x_pad_1;
    uint64_t need = rows * cols - uint64_t{m.x_size} * m.y_size + m.y_size;
    if (rows == 0 || need == 0) return from;
    Cycle t = from;
    for (const Cycle w : writes) {
      if (w >= t) {
        if (need <= w - t) break;
        need -= w - t;
        t = w + 1;
      }
    }
    return t + need;
  }

  // ---- the store walkers (vta_store) ----
  Cycle store_unit(const MemInsn& m, Cycle s, Cycle& response) {
    const uint32_t elem_bytes = run->config->out().element_bytes;
    const bool wide = elem_bytes >= kBusBytes;
    const uint32_t bpe = wide ? elem_bytes / kBusBytes : 1;
    Cycle w = s + 3;  // first W beat: AW at s+1, element read at s+1 lands in the FIFO at s+2
    for (uint32_t y = 0; y < m.y_size; ++y) {
      const uint64_t row = (uint64_t{m.dram_base} + uint64_t{y} * m.x_stride) * elem_bytes;
      if (wide) {
        uint64_t address = row;
        uint64_t left = uint64_t{m.x_size} * bpe;
        while (left > 0) {
          const uint64_t to_page = (kPage - address % kPage) / kBusBytes;
          const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>({left, kMaxBurst, to_page}));
          const BurstTiming bt = transact(store_port, true, address, n, w, false);
          response = std::max(response, bt.response);
          w = bt.last_beat + 1;
          address += uint64_t{n} * kBusBytes;
          left -= n;
        }
      } else {
        for (uint32_t x = 0; x < m.x_size; ++x) {
          const BurstTiming bt = transact(store_port, true, row + uint64_t{x} * elem_bytes, 1, w, false);
          response = std::max(response, bt.response);
          w = bt.last_beat + 1;
        }
      }
    }
    return w;  // exec_done: the cycle after the last beat
  }

  // ---- the micro-op pipeline (vta_compute_pipe S0, SA, S1..S3) ----
  // START at `s`; returns the cycle its last micro-op left S1 and exec_done. Micro-op k of the loop reaches S1 when it frees, S1 hands it on when
  // no micro-op ahead still has to write an ACC entry it reads (a vector ALU reads ACC[src], then
  // ACC[dst], one per cycle): the ALU reads in S1 and writes four stages later (MUL: five), so its window
  // is four micro-ops (five); GEMM reads three stages after S1 and writes two later: two micro-ops.
  struct PipelineTimes {
    Cycle last_move;  // the last micro-op left S1
    Cycle done;       // exec_done
  };
  PipelineTimes pipeline(const isa::LoopNest& loop, bool is_alu, bool use_imm, bool multiplies, uint32_t wgt_fo, uint32_t wgt_fi,
                 Cycle s) {
    (void)wgt_fo;
    (void)wgt_fi;
    if (loop.iter_out == 0 || loop.iter_in == 0 || loop.uop_end <= loop.uop_bgn) {
      return {s, s + 1};
    }
    const bool no_reads = loop.reset;
    const bool two_reads = is_alu && !use_imm && !loop.reset;
    // the inner iterations in one word issue together as a group of rows (vta_compute s0_group): one
    // micro-op, the destination one row further per inner iteration, one vector operand for all, not MUL;
    // from the second issue on, from the destination row to the end of its word or of the inner loop
    const uint32_t word_rows = hw::acc_rows_per_word(*run->config);
    const bool groupable = loop.uop_end == loop.uop_bgn + 1 && loop.dst_factor_in == 1 &&
                           ((is_alu && !multiplies && (use_imm || loop.src_factor_in == 0)) || (!is_alu && loop.reset));
    const std::vector<isa::MicroOp>& uops = *run->uops;
    const uint32_t depth = run->config->acc().depth;
    const bool mul_path = is_alu && multiplies && !loop.reset;
    const Cycle tail = is_alu && !mul_path ? kAluTail : kGemmTail;
    // an older micro-op that left S1 at m has written its row by cycle m + window: its tail for the ALU,
    // which reads in S1; the GEMM reads three stages later and writes two after that
    const Cycle window = is_alu ? tail : kGemmWindow;
    Cycle entry = s + 3;  // micro-op 0 issues in the first RUN cycle, adds its offsets in SA, reaches S1
    Cycle m_last = 0;
    bool issued = false;
    if (no_reads) {
      uint64_t issues = 0;
      if (!groupable) {
        issues = uint64_t{loop.iter_out} * loop.iter_in * (loop.uop_end - loop.uop_bgn);
      } else {
        const uint64_t u_dst = uops[loop.uop_bgn].dst_idx;
        for (uint32_t i = 0; i < loop.iter_out; ++i) {
          const uint64_t d0 = u_dst + uint64_t{i} * loop.dst_factor_out;
          for (uint64_t j = 0; j < loop.iter_in;) {
            if (issued) {  // one issue per word the rest of the run touches
              issues += (d0 + loop.iter_in - 1) / word_rows - (d0 + j) / word_rows + 1;
              break;
            }
            ++issues;
            ++j;
            issued = true;
          }
        }
      }
      m_last = entry + issues - 1;
      return {m_last, m_last + tail};
    }
    // A kernel of three or more micro-ops, one read each and no groups, in which no micro-op reads a row
    // one of the two before it writes (within a pass and across the step to the next pass): one issue
    // per cycle, no hazard, so the issue times need not be walked micro-op by micro-op.
    if (!two_reads && !groupable && !mul_path && loop.uop_end - loop.uop_bgn >= 3) {
      const uint32_t k0 = loop.uop_bgn, k1 = loop.uop_end - 1;
      bool clean = true;
      for (uint32_t k = k0; k + 1 <= k1 && clean; ++k) {
        clean = uops[k].dst_idx % depth != uops[k + 1].dst_idx % depth &&
                (k + 2 > k1 || uops[k].dst_idx % depth != uops[k + 2].dst_idx % depth);
      }
      // the offset from one pass to the next: one inner step, or the step to the next outer iteration
      auto boundary_clean = [&](uint64_t delta) {
        const auto at = [&](uint32_t k, uint64_t d) { return (uint64_t{uops[k].dst_idx} + d) % depth; };
        return at(k0, delta) != at(k1, 0) && at(k0, delta) != at(k1 - 1, 0) && at(k0 + 1, delta) != at(k1, 0);
      };
      const uint64_t d_in = uint64_t{loop.dst_factor_in} % depth;
      const uint64_t d_out = (uint64_t{loop.dst_factor_out} + uint64_t{depth} * loop.iter_in -
                              uint64_t{loop.dst_factor_in} % depth * (loop.iter_in - 1) % depth) % depth;
      if (clean && loop.iter_in > 1) clean = boundary_clean(d_in);
      if (clean && loop.iter_out > 1) clean = boundary_clean(d_out);
      if (clean) {
        const uint64_t n = uint64_t{loop.iter_out} * loop.iter_in * (loop.uop_end - loop.uop_bgn);
        m_last = entry + n - 1;
        return {m_last, m_last + tail};
      }
    }
    // ACC indices wrap at the depth (a power of two in every config: a mask, not a division)
    const uint32_t mask = depth - 1;
    const bool pow2 = (depth & mask) == 0;
    const auto wrap = [&](uint32_t x) { return pow2 ? x & mask : x % depth; };
    // the most recent issues that left S1, newest first: (cycle, first row, rows); the window holds at
    // most window - 1 of them (one leaves S1 per cycle at most)
    struct Left {
      Cycle m = 0;
      uint32_t d = ~0u, n = 0;
    };
    std::array<Left, 8> left{};
    const size_t nleft = static_cast<size_t>(window - 1);
    uint64_t hazard = 0;
    // the vector operand kept from the last micro-op that read ACC[src] (vta_compute src_kept_q)
    bool kept = false;
    uint32_t kept_src = 0;
    auto overlaps = [](uint32_t d, uint32_t n, uint32_t addr, uint32_t rows) {
      return n > 0 && addr < d + n && d < addr + rows;
    };
    auto pending = [&](uint32_t addr, uint32_t rows, Cycle t) {
      for (size_t q = 0; q < nleft; ++q)
        if (overlaps(left[q].d, left[q].n, addr, rows) && t < left[q].m + window) return true;
      return false;
    };
    auto clear = [&](uint32_t addr, uint32_t rows, Cycle t) {
      for (size_t q = 0; q < nleft; ++q)
        if (overlaps(left[q].d, left[q].n, addr, rows)) t = std::max(t, left[q].m + window);
      return t;
    };
    for (uint32_t i = 0; i < loop.iter_out; ++i) {
      for (uint32_t j = 0; j < loop.iter_in;) {
        const uint32_t dst_off = i * loop.dst_factor_out + j * loop.dst_factor_in;
        const uint32_t src_off = i * loop.src_factor_out + j * loop.src_factor_in;
        uint32_t step = 1;
        for (uint32_t k = loop.uop_bgn; k < loop.uop_end; ++k) {
          const isa::MicroOp& u = uops[k];
          const uint32_t dst = wrap(u.dst_idx + dst_off);
          const uint32_t src = wrap(u.src_idx + src_off);
          // not when the vector operand is one of the group's rows but the last (a later iteration reads
          // it after an earlier one wrote it)
          uint32_t rows = 1;
          if (groupable && issued) {
            const uint32_t span = std::min(word_rows - (u.dst_idx + dst_off) % word_rows, loop.iter_in - j);
            if (span > 1 && !(two_reads && src >= dst && src < dst + span - 1)) rows = span;
          }
          Cycle mv;
          if (two_reads && kept && kept_src == src && !pending(src, 1, entry)) {
            mv = clear(dst, rows, entry);  // the kept operand: ACC[dst] only
            hazard += mv - entry;
          } else if (two_reads) {
            const Cycle t0 = clear(src, 1, entry);
            mv = clear(dst, rows, t0 + 1);
            hazard += (t0 - entry) + (mv - (t0 + 1));
            kept = true;
            kept_src = src;
          } else {
            mv = clear(dst, rows, entry);
            hazard += mv - entry;
          }
          if (kept && overlaps(dst, rows, kept_src, 1)) kept = false;  // its write makes the kept operand stale
          for (size_t q = nleft - 1; q > 0; --q) left[q] = left[q - 1];
          left[0] = {mv, dst, rows};
          m_last = mv;
          entry = mv + 1;
          issued = true;
          step = rows;
        }
        j += step;
      }
    }
    run->hazard += hazard;
    return {m_last, m_last + tail};
  }

  void count_load(const MemInsn& m) {
    const uint64_t nbytes = uint64_t{m.x_size} * m.y_size * run->config->buffer(m.memory_type).element_bytes;
    switch (m.memory_type) {
      case MemoryType::kInp: run->counters.inp_load_nbytes += nbytes; break;
      case MemoryType::kWgt: run->counters.wgt_load_nbytes += nbytes; break;
      case MemoryType::kAcc: run->counters.acc_load_nbytes += nbytes; break;
      case MemoryType::kUop: run->counters.uop_load_nbytes += nbytes; break;
      case MemoryType::kOut: break;
    }
  }

  // Refreshes the shadow micro-ops after a LOAD UOP (the kernel has checked the ranges).
  void shadow_uops(const MemInsn& m) {
    const uint32_t eb = run->config->uop().element_bytes;
    std::vector<isa::MicroOp>& uops = *run->uops;
    const uint64_t cols = uint64_t{m.x_pad_0} + m.x_size + m.x_pad_1;
    const uint64_t rows = uint64_t{m.y_pad_0} + m.y_size + m.y_pad_1;
    for (uint64_t r = 0; r < rows; ++r) {
      for (uint64_t c = 0; c < cols; ++c) {
        const uint64_t at = m.sram_base + r * cols + c;
        if (at >= uops.size()) continue;
        const bool data = r >= m.y_pad_0 && r < m.y_pad_0 + m.y_size && c >= m.x_pad_0 && c < m.x_pad_0 + m.x_size;
        if (!data) {
          uops[at] = isa::MicroOp{};
          continue;
        }
        const uint64_t elem = uint64_t{m.dram_base} + (r - m.y_pad_0) * m.x_stride + (c - m.x_pad_0);
        const uint8_t* p = run->memory->at(elem * eb, eb);
        uint32_t raw = 0;
        for (uint32_t b = 0; b < std::min<uint32_t>(eb, 4); ++b) raw |= uint32_t{p[b]} << (8 * b);
        uops[at] = run->codec->decode_uop(raw);
      }
    }
  }

  template <typename Body>
  void module_thread(Body body) {
    for (;;) {
      wait(start_ev);
      try {
        body();
      } catch (const Aborted&) {
      } catch (...) {
        fail(std::current_exception());
      }
    }
  }

  void load_thread() { module_thread([this] { load_body(); }); }
  void compute_thread() { module_thread([this] { compute_body(); }); }
  void store_thread() { module_thread([this] { store_body(); }); }

  void finish_insn(int mi, Cycle a, Cycle u) {
    run->mod[mi].busy += u - a;
    --run->remaining[mi];
    run->end_cycle[mi] = u + 1;
  }

  // ---- vta_load: the front end (IDLE -> POP -> START -> REQ) and the back end (IDLE -> RUN -> PUSH) ----

  // Extends e.takes over the bursts scheduled so far, once e runs (is the head with a known run_start).
  void extend_takes(RunState::LoadEntry& e) {
    if (e.run_start == kNever) return;
    while (e.take_burst < e.bursts.size() && e.bursts[e.take_burst].first->scheduled) {
      const auto& [b, n] = e.bursts[e.take_burst++];
      for (uint32_t j = 0; j < n; ++j) {
        Cycle t = std::max(beat_cycle(*b, j) + 1, e.run_start);
        if (!e.takes.empty()) t = std::max(t, e.takes.back() + 1);
        e.takes.push_back(t);
      }
    }
  }

  // The cycle (>= c) the front end's next burst goes out, and its beats (at most `most`). The
  // instruction is live from its run_start if it is alone in load_q: its bursts then go out at once, at
  // full length. Before, a burst of at most kLoadAheadBurst beats waits until every beat requested and not
  // yet taken fits the beat queue with a whole such burst: two cycles after the take that makes it. Takes
  // not known yet come no sooner than the cycle after now (a burst not yet scheduled arrives from now
  // on; an entry not yet running starts two cycles after the back end's next push, which is from now on).
  std::pair<Cycle, uint32_t> load_next_burst(RunState::LoadEntry& e, Cycle c, uint32_t most) {
    std::deque<RunState::LoadEntry>& q = run->load_q;
    const uint32_t ahead = std::min(most, kLoadAheadBurst);
    for (;;) {
      // the walker chooses a burst a cycle before presenting it, from the module's state of that cycle
      const Cycle live = (q.size() == 1 && &q.front() == &e) ? e.run_start + 1 : kNever;
      if (live <= c) return {c, most};
      uint64_t owed = 0;
      for (RunState::LoadEntry& x : q) {
        extend_takes(x);
        owed += x.fired;
      }
      Cycle gate = c;
      bool known = true;
      if (owed + kLoadAheadBurst > kLoadBeatQueue) {
        uint64_t k = owed + kLoadAheadBurst - kLoadBeatQueue;  // takes needed (room for a whole ahead burst)
        known = false;
        for (const RunState::LoadEntry& x : q) {
          if (k <= x.takes.size()) {
            gate = std::max(c, x.takes[k - 1] + 2);  // the owed count, then the registered room
            known = true;
            break;
          }
          if (x.takes.size() < x.fired || !x.requests_done) break;
          k -= x.takes.size();
        }
      }
      if (known && live != kNever) return live <= gate ? std::pair{live, most} : std::pair{gate, ahead};
      if (known && gate <= now() + 1) return {gate, ahead};  // an unknown run_start is later
      // wait for what decides it: the back end (a run_start, a push), a burst's schedule, or time
      RunState::LoadEntry* unknown = nullptr;
      for (RunState::LoadEntry& x : q) {
        if (x.run_start != kNever && x.take_burst < x.bursts.size()) {
          unknown = &x;
          break;
        }
        if (x.run_start == kNever || x.takes.size() < x.fired) break;
      }
      if (!known && unknown != nullptr) {
        wait_scheduled(unknown->bursts[unknown->take_burst].first);
      } else if (known) {
        check_abort();
        wait(sc_core::sc_time::from_value((gate - 1 - now()) * kTimeUnitsPerCycle), run->load_q_changed);
        check_abort();
      } else {
        wait_event(run->load_q_changed);
      }
    }
  }

  void load_busy(Cycle from, Cycle to) {  // the load module's busy cycles [from, to], in order of from
    const Cycle x = std::max(from, run->load_busy_covered);
    if (to + 1 > x) run->mod[static_cast<int>(Module::kLoad)].busy += to + 1 - x;
    run->load_busy_covered = std::max(run->load_busy_covered, to + 1);
  }

  void load_body() {
    const int mi = static_cast<int>(Module::kLoad);
    std::deque<RunState::LoadEntry>& q = run->load_q;
    TokenQueue& l2c = run->tok[kL2C];
    Cycle ready = 0;
    while (run->load_front_left > 0) {
      const auto [index, a] = pop_cmd(mi, ready);
      --run->load_front_left;
      const MemInsn& m = std::get<MemInsn>(run->program[index]);
      Cycle p = a + 1;
      if (m.dep.pop_next) {
        // a pop waits while the head's push could still block (vta_load pop_ok)
        Cycle ok = a + 1;
        while (!(q.empty() || (q.size() == 1 && (!q.front().m->dep.push_next || l2c.avail.size() < run->token_depth)))) {
          check_abort();
          wait(run->load_q_changed | l2c.popped);
          check_abort();
          ok = std::max(ok, now());
        }
        p = pop_token(kC2L, mi, index, ok);
        run->mod[mi].stall += p - ok;
      }
      Cycle s = p + 2;  // START enqueues from its second cycle (the tile check is registered, OOB_REG)
      while (q.size() >= kLoadEntries || (!run->load_overlap && !q.empty())) {
        wait_event(run->load_q_changed);
        s = std::max(s, run->load_popped_at + 1);
      }
      wait_until(s);
      RunState::LoadEntry& e = q.emplace_back();
      e.index = index;
      e.m = &m;
      e.runs = m.x_size != 0;
      e.accepted = a;
      e.start = s;
      if (q.size() == 1) e.run_start = std::max(run->load_back_free, s + 1) + 1;
      run->load_q_changed.notify(sc_core::SC_ZERO_TIME);
      Cycle c = s + 2;      // the request walker chooses its first burst the cycle after START
      Cycle free = s + 1;   // the front end is free again (F_IDLE, or F_REQ with no request left)
      if (e.runs) {
        run->kernel->load(m, index);
        count_load(m);
        const uint32_t eb = run->config->buffer(m.memory_type).element_bytes;
        if (!run->load_overlap) {
          // narrow elements (no overlap): the unit's own walkers, its data a cycle later (the beat queue)
          e.data_end = load_unit(load_port, m, eb, s) + 1;
        } else {
          const uint32_t bpe = eb / kBusBytes;
          for (uint32_t y = 0; y < m.y_size; ++y) {
            uint64_t address = (uint64_t{m.dram_base} + uint64_t{y} * m.x_stride) * eb;
            uint64_t left = uint64_t{m.x_size} * bpe;
            while (left > 0) {
              const uint64_t to_page = (kPage - address % kPage) / kBusBytes;
              const auto most = static_cast<uint32_t>(std::min<uint64_t>({left, kMaxBurst, to_page}));
              const auto [at, n] = load_next_burst(e, c, most);
              const BurstTiming bt = transact(load_port, false, address, n, at);
              free = bt.accept;
              c = bt.accept + 1;  // the next burst is chosen in the cycle after the handshake
              e.bursts.emplace_back(bt.burst, n);
              e.fired += n;
              address += uint64_t{n} * kBusBytes;
              left -= n;
            }
          }
        }
      }
      e.requests_done = true;
      run->load_q_changed.notify(sc_core::SC_ZERO_TIME);
      ready = free;
    }
  }

  void load_back_thread() { module_thread([this] { load_back_body(); }); }
  void load_back_body() {
    const int mi = static_cast<int>(Module::kLoad);
    std::deque<RunState::LoadEntry>& q = run->load_q;
    while (run->remaining[mi] > 0) {
      while (q.empty()) wait_event(run->load_q_changed);
      RunState::LoadEntry& e = q.front();
      const MemInsn& m = *e.m;
      Cycle from = e.run_start;  // B_PUSH (a head with no data: the cycle after B_IDLE)
      if (e.runs) {
        while (!e.requests_done) wait_event(run->load_q_changed);
        Cycle d = e.data_end;  // the first cycle the data side is not busy
        if (run->load_overlap) {
          for (const auto& [b, n] : e.bursts) wait_scheduled(b);
          extend_takes(e);
          const uint32_t bpe = run->config->buffer(m.memory_type).element_bytes / kBusBytes;
          std::vector<Cycle> writes;  // an element is written with the take of its last beat
          writes.reserve(e.takes.size() / bpe);
          for (size_t k = bpe - 1; k < e.takes.size(); k += bpe) writes.push_back(e.takes[k]);
          d = std::max(writes.empty() ? e.run_start : writes.back() + 1, pad_walker_end(m, e.run_start, writes));
        }
        from = std::max(d, e.run_start) + 1;
      }
      Cycle u = from;
      if (m.dep.push_next) u = push_token(kL2C, kLoadBack, e.index, from);
      run->mod[mi].stall += u - from;
      wait_until(u);
      ++run->counters.load_insn_count;
      run->note("load", e.index, e.accepted, u);
      load_busy(e.accepted + 1, u);
      --run->remaining[mi];
      run->end_cycle[mi] = u + 1;
      run->load_back_free = u + 1;
      run->load_popped_at = u;
      q.pop_front();
      if (!q.empty()) q.front().run_start = std::max(u + 1, q.front().start + 1) + 1;
      run->load_q_changed.notify(sc_core::SC_ZERO_TIME);
    }
  }

  // The compute module's busy cycles: the union of the intervals its front end holds an instruction and
  // its engines run (tsim counts the cycles the module is not idle). Intervals come in order of start.
  void compute_busy(Cycle from, Cycle to) {
    const Cycle x = std::max(from, run->busy_covered);
    if (to > x) run->mod[static_cast<int>(Module::kCompute)].busy += to - x;
    run->busy_covered = std::max(run->busy_covered, to);
  }

  // ACC banks the row indices [lo, hi] are in; every bank when hi is past the buffer. (With two banks a
  // range that crosses one has both, which is vta_compute's rule for an ALU instruction.)
  uint32_t range_banks(uint64_t lo, uint64_t hi) const {
    if (hi >= run->config->acc().depth) return (1u << hw::kAccBanks) - 1;
    uint32_t b = 0;
    const auto last = hw::acc_bank_of(*run->config, static_cast<uint32_t>(hi));
    for (unsigned x = hw::acc_bank_of(*run->config, static_cast<uint32_t>(lo)); x <= last; ++x) b |= 1u << x;
    return b;
  }
  // The last index a micro-op field reaches over the loop (every factor is non-negative).
  static uint64_t loop_last(const isa::LoopNest& l, uint64_t field, uint64_t fo, uint64_t fi) {
    return field + uint64_t{l.iter_out - 1} * fo + uint64_t{l.iter_in - 1} * fi;
  }

  // ACC banks an ALU instruction may touch (vta_compute foot_tag): its one micro-op's destination and
  // vector source ranges over the loop; every bank for more micro-ops.
  uint32_t alu_banks(const AluInsn& al) const {
    const isa::LoopNest& l = al.loop;
    if (l.uop_end != l.uop_bgn + 1) return (1u << hw::kAccBanks) - 1;
    const isa::MicroOp& u = (*run->uops)[l.uop_bgn];
    uint32_t b = range_banks(u.dst_idx, loop_last(l, u.dst_idx, l.dst_factor_out, l.dst_factor_in));
    if (!al.use_imm && !l.reset)
      b |= range_banks(u.src_idx, loop_last(l, u.src_idx, l.src_factor_out, l.src_factor_in));
    return b;
  }

  // ACC banks a GEMM's micro-ops write (every micro-op of its range, over the loop).
  uint32_t gemm_banks(const GemmInsn& g) const {
    const isa::LoopNest& l = g.loop;
    const uint32_t all = (1u << hw::kAccBanks) - 1;
    uint32_t b = 0;
    for (uint32_t k = l.uop_bgn; k < l.uop_end && b != all; ++k) {
      const uint64_t lo = (*run->uops)[k].dst_idx;
      b |= range_banks(lo, loop_last(l, lo, l.dst_factor_out, l.dst_factor_in));
    }
    return b;
  }

  // The first cycle the ALU engine is empty (no job queued, running or pushing): waits for its pushes.
  Cycle alu_empty_from() {
    while (!run->alu_jobs.empty()) wait_event(alu_done_ev);
    while (run->gemm_push_pending) wait_event(gemm_done_ev);
    return std::max(run->alu_idle, run->gemm_pushed);
  }
  // The first cycle the GEMM engine is idle with no push of its own left to give (vta_compute g_active).
  Cycle gemm_idle_from() {
    while (run->gemm_push_pending) wait_event(gemm_done_ev);
    return std::max(run->gemm_free, run->gemm_pushed);
  }

  // The first cycle the GEMM engine may take the next GEMM (vta_compute g_may_start): idle, or its last
  // GEMM's micro-ops all past S1, that GEMM's push given and no ALU instruction behind it.
  Cycle gemm_start_from() {
    while (run->gemm_push_pending) wait_event(gemm_done_ev);
    if (run->alu_behind_gemm) return gemm_idle_from();
    return std::max(run->gemm_next, run->gemm_pushed);
  }

  // vta_compute's front end: IDLE -> DECODE -> POP_PREV -> POP_NEXT -> DISPATCH, then a GEMM goes to the
  // GEMM engine (IDLE next), an ALU instruction to the ALU engine's queue after FOOT_READ/MUL/TAG, a LOAD
  // runs once both engines are idle, and an instruction that pushes drains the engines first (DRAIN),
  // then PUSH_PREV -> PUSH_NEXT.
  void compute_body() {
    const int mi = static_cast<int>(Module::kCompute);
    Cycle ready = 0;
    while (run->remaining[mi] > 0) {
      const size_t pos = run->compute_pos++;
      run->c2s_push.after_now(run->c2s_min[pos]);
      run->compute_read.after_now(run->cread_min[pos]);
      run->compute_pops_not_before = 0;
      const auto [index, a] = pop_cmd(mi, ready);
      run->c2s_push.at_cycle(a + run->c2s_min[pos]);
      run->compute_read.at_cycle(a + run->cread_min[pos]);
      const isa::Instruction& insn = run->program[index];
      const isa::DepFlags dep = isa::dep_flags(insn);
      // DECODE: one cycle, three for a LOAD that runs (its tile check's product is in the DSP48's P
      // register from the second, the check's result registered from the third, vta_tile_check)
      const auto* m = std::get_if<MemInsn>(&insn);
      const bool loads = m != nullptr && m->x_size != 0;
      const Cycle pop_at = a + (loads ? 4 : 2);
      Cycle p1 = pop_at;
      if (dep.pop_prev) p1 = pop_token(kL2C, mi, index, pop_at);
      Cycle p2 = p1 + 1;
      if (dep.pop_next) p2 = pop_token(kS2C, mi, index, p1 + 1);
      // a pop wait counts as a stall only while neither engine runs (tsim's blocked_o)
      const Cycle engines = std::max({run->gemm_free, run->alu_idle, run->alu_ready > 3 ? run->alu_ready - 3 : 0});
      run->mod[mi].stall +=
          (p1 - std::max(pop_at, std::min(p1, engines))) + (p2 - std::max(p1 + 1, std::min(p2, engines)));
      const Cycle s = p2 + 1;  // DISPATCH
      wait_until(s);
      const bool engine = runs_loop(insn);
      // a GEMM whose one push is compute->load hands it to the GEMM engine
      const bool gemm_hands_push = engine && std::holds_alternative<GemmInsn>(insn) && dep.push_prev && !dep.push_next;
      const bool front_push = !(engine && std::holds_alternative<AluInsn>(insn)) && !gemm_hands_push &&
                              (dep.push_prev || dep.push_next || std::holds_alternative<FinishInsn>(insn));
      Cycle d = s;          // the cycle the front end's part is over (PUSH_PREV follows when it pushes)
      Cycle next = s + 1;   // the front end is IDLE again (when it does not push)
      if (loads) {
        if (m->memory_type == MemoryType::kOut)
          throw ProgramError("LOAD of memory type OUT (OUT is written only by STORE from the ACC buffer)", index);
        const Cycle t = std::max({s, run->gemm_free, alu_empty_from()});  // both engines idle
        wait_until(t);
        run->kernel->load(*m, index);
        count_load(*m);
        if (m->memory_type == MemoryType::kUop) shadow_uops(*m);
        run->compute_read = {};  // reading now
        d = load_unit(compute_port, *m, run->config->buffer(m->memory_type).element_bytes, t) - 1;
      } else if (const auto* g = std::get_if<GemmInsn>(&insn); g != nullptr && engine) {
        run->kernel->gemm(*g, index);
        if (!g->loop.reset)
          run->counters.gemm_counter +=
              uint64_t{g->loop.iter_out} * g->loop.iter_in * (g->loop.uop_end - g->loop.uop_bgn);
        const Cycle t = std::max(s, gemm_start_from());
        run->alu_behind_gemm = false;
        // its micro-ops wait in S1 while their bank is locked by an older ALU instruction: the cycle the
        // lock drops (the ALU's exec_done + 1) is when the first one moves on (2 cycles after START)
        Cycle go = t;
        const uint32_t banks = gemm_banks(*g);
        for (uint32_t b = 0; b < hw::kAccBanks; ++b)
          if ((banks >> b & 1u) && run->bank_release[b] >= go + 2) go = run->bank_release[b] - 2;
        run->hazard += go - t;
        const PipelineTimes gt = pipeline(g->loop, false, false, false, g->wgt_factor_out, g->wgt_factor_in, go);
        run->gemm_free = gt.done;
        run->gemm_next = gt.last_move + 1;
        run->note("gemm", index, go, run->gemm_free);
        compute_busy(a + 1, run->gemm_free);
        if (gemm_hands_push) {
          run->gemm_push_pending = true;
          run->gemm_jobs.push_back({index, gt.last_move, true, false});  // once its micro-ops are past S1
          gemm_job_ev.notify(sc_core::SC_ZERO_TIME);
        }
        d = t;
        next = t + 1;
      } else if (const auto* al = std::get_if<AluInsn>(&insn); al != nullptr && engine) {
        run->kernel->alu(*al, index);
        run->counters.alu_counter +=
            uint64_t{al->loop.iter_out} * al->loop.iter_in * (al->loop.uop_end - al->loop.uop_bgn);
        // DISPATCH waits for room in the queue (not for the GEMM engine)
        Cycle t = s;
        while (!run->alu_starts.empty() && run->alu_starts.front() < t) run->alu_starts.pop_front();
        if (run->alu_starts.size() >= kAluQueue) t = run->alu_starts[run->alu_starts.size() - kAluQueue] + 1;
        while (!run->alu_starts.empty() && run->alu_starts.front() < t) run->alu_starts.pop_front();
        // FOOT_READ borrows the GEMM engine's UOP port: a GEMM still issuing loses that cycle
        if (t + 1 + kGemmDrain < run->gemm_free) ++run->gemm_free;
        // FOOT_ADD, FOOT_TAG; the entry is in the queue from t + 4, and one that came in while a GEMM ran
        // (older than it) starts the cycle after the engine is idle
        Cycle start = std::max(t + 4, run->alu_ready);
        if (t + 3 < run->gemm_free) {
          start = std::max(start, run->gemm_free + 1);
          run->alu_behind_gemm = true;
        }
        run->alu_starts.push_back(start);
        const Cycle done = pipeline(al->loop, true, al->use_imm, al->alu_opcode == isa::AluOpcode::kMul, 0, 0, start).done;
        run->note("alu", index, start, done);
        const uint32_t banks = alu_banks(*al);
        for (uint32_t b = 0; b < hw::kAccBanks; ++b)
          if (banks >> b & 1u) run->bank_release[b] = std::max(run->bank_release[b], done + 1);
        // A_RUN until exec_done, then A_PUSH_PREV, A_PUSH_NEXT, A_IDLE (pushes done by alu_push_thread)
        run->alu_ready = done + 3;
        run->alu_jobs.push_back({index, done, dep.push_prev, dep.push_next});
        alu_job_ev.notify(sc_core::SC_ZERO_TIME);
        compute_busy(a + 1, done + 3);
        d = t + 3;
        next = t + 4;
      }
      Cycle u2 = next;  // the front end's last cycle with this instruction
      if (front_push || loads) {
        // DRAIN until what the push vouches for is done (a LOAD found both engines idle and goes straight
        // to PUSH_PREV), then PUSH_PREV and PUSH_NEXT: a push to the store or FINISH waits for both
        // engines, a push to the load module only for the GEMM engine (the ALU engine reads neither INP
        // nor WGT), and gives way to an ALU push in the same cycle
        const bool all_older = dep.push_next || std::holds_alternative<FinishInsn>(insn);
        Cycle x = std::max(d + 1, gemm_idle_from());
        if (all_older) x = std::max(x, alu_empty_from());
        run->c2s_push.at_cycle(dep.push_next ? x + 2 : x + 3 + run->c2s_min[pos + 1]);
        run->compute_read.at_cycle(x + 3 + run->cread_min[pos + 1]);
        run->compute_pops_not_before = x + 3;
        Cycle u1 = x + 1;
        if (dep.push_prev) {
          Cycle from = x + 1;
          if (!all_older)
            for (const RunState::AluJob& j : run->alu_jobs)
              if (j.push_prev && j.done + 1 == from) ++from;
          u1 = push_token(kC2L, mi, index, from);
        }
        u2 = u1 + 1;
        if (dep.push_next) u2 = push_token(kC2S, mi, index, u1 + 1);
        run->mod[mi].stall += (u1 - (x + 1)) + (u2 - (u1 + 1));
        u2 += 1;
      } else {
        run->c2s_push.at_cycle(next + run->c2s_min[pos + 1]);
        run->compute_read.at_cycle(next + run->cread_min[pos + 1]);
        run->compute_pops_not_before = next;
      }
      wait_until(u2 - 1);
      ++run->counters.compute_insn_count;
      run->note("compute", index, a, u2);
      if (--run->remaining[mi] == 0) {
        alu_job_ev.notify(sc_core::SC_ZERO_TIME);
        gemm_job_ev.notify(sc_core::SC_ZERO_TIME);
      }
      compute_busy(a + 1, u2);
      run->end_cycle[mi] = std::max(run->end_cycle[mi], u2);
      ready = u2;
    }
  }

  // The ALU engine's token pushes, in order: A_PUSH_PREV the cycle after exec_done, then A_PUSH_NEXT. Done
  // when the front end has taken its last instruction (FINISH drains the engine) and no job is left.
  void alu_push_thread() { module_thread([this] { alu_push_body(); }); }
  void alu_push_body() {
    const int mi = static_cast<int>(Module::kCompute);
    for (;;) {
      while (run->alu_jobs.empty()) {
        if (run->remaining[mi] == 0) return;
        wait_event(alu_job_ev);
      }
      const RunState::AluJob j = run->alu_jobs.front();
      Cycle u1 = j.done + 1;
      if (j.push_prev) u1 = push_token(kC2L, mi, j.index, j.done + 1);
      Cycle u2 = u1 + 1;
      if (j.push_next) u2 = push_token(kC2S, mi, j.index, u1 + 1);
      run->mod[mi].stall += (u1 - (j.done + 1)) + (u2 - (u1 + 1));
      wait_until(u2);
      run->alu_idle = u2 + 1;
      run->end_cycle[mi] = std::max(run->end_cycle[mi], u2 + 1);
      run->alu_jobs.pop_front();
      alu_done_ev.notify(sc_core::SC_ZERO_TIME);
    }
  }

  // The GEMM engine's handed-over compute->load push, once the GEMM's micro-ops are past S1 (they have read
  // INP and WGT).
  void gemm_push_thread() { module_thread([this] { gemm_push_body(); }); }
  void gemm_push_body() {
    const int mi = static_cast<int>(Module::kCompute);
    for (;;) {
      while (run->gemm_jobs.empty()) {
        if (run->remaining[mi] == 0) return;
        wait_event(gemm_job_ev);
      }
      const RunState::AluJob j = run->gemm_jobs.front();
      const Cycle u1 = push_token(kC2L, mi, j.index, j.done + 1);
      run->mod[mi].stall += u1 - (j.done + 1);
      wait_until(u1);
      run->gemm_pushed = u1 + 1;
      run->gemm_push_pending = false;
      run->end_cycle[mi] = std::max(run->end_cycle[mi], u1 + 1);
      run->gemm_jobs.pop_front();
      gemm_done_ev.notify(sc_core::SC_ZERO_TIME);
    }
  }

  // vta_store: IDLE -> POP -> START -> RUN -> PUSH; the run ends once every write response is in
  Cycle last_response = 0;
  void store_body() {
    const int mi = static_cast<int>(Module::kStore);
    Cycle ready = 0;
    while (run->remaining[mi] > 0) {
      run->store_next_pops = run->store_pops[run->store_pos++];
      run->store_phase = RunState::StorePhase::kIdle;
      const auto [index, a] = pop_cmd(mi, ready);
      run->store_phase = RunState::StorePhase::kOther;
      const MemInsn& m = std::get<MemInsn>(run->program[index]);
      Cycle p = a + 1;
      if (m.dep.pop_prev) {
        run->store_phase = RunState::StorePhase::kWaitingForCompute;
        p = pop_token(kC2S, mi, index, a + 1);
      }
      run->mod[mi].stall += p - (a + 1);
      // START: one cycle for a token-only STORE, two for one that moves data (its tile check's result is
      // registered, vta_tile_check); s is the one it starts in
      const Cycle s = p + 1 + (m.x_size != 0 ? 1 : 0);
      run->store_cycle = s;  // its first write beat is 3 cycles after START
      run->store_phase = RunState::StorePhase::kStarting;
      wait_until(s);
      Cycle d = s + 1;
      if (m.x_size != 0) {
        if (m.memory_type != MemoryType::kOut)
          throw ProgramError(std::string("STORE of memory type ") + std::string(isa::to_string(m.memory_type)) +
                                 " (only OUT can be stored)",
                             index);
        run->kernel->store(m, index);
        run->counters.out_store_nbytes += uint64_t{m.x_size} * m.y_size * run->config->out().element_bytes;
        if (m.y_size != 0) d = store_unit(m, s, last_response);
      }
      run->store_cycle = d;
      run->store_phase = RunState::StorePhase::kExecuting;
      Cycle u = d + 1;
      if (m.dep.push_prev) u = push_token(kS2C, mi, index, d + 1);
      run->mod[mi].stall += u - (d + 1);
      wait_until(u);
      run->store_phase = RunState::StorePhase::kOther;
      ++run->counters.store_insn_count;
      run->note("store", index, a, u);
      finish_insn(mi, a, u);
      ready = u + 1;
    }
    run->store_phase = RunState::StorePhase::kDone;
  }

  uint64_t insn_address = 0;
};

// SystemC has one simulation context per process: one core serves every TlmSimulator, one run at a time.
std::mutex& engine_mutex() {
  static std::mutex m;
  return m;
}

Core& engine() {
  static Core* core = [] {
    // keep SystemC's banner out of the CLI's output (JSON on stdout)
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_DO_NOTHING);
    Core* c = new Core("vta_tlm_core");  // never destroyed: SystemC objects live as long as the process
    // elaborate and run the initialization phase, so every thread waits on start_ev before the first run
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    return c;
  }();
  return *core;
}

const char* module_name(int m) {
  static const char* names[] = {"load", "compute", "store"};
  return names[m];
}

}  // namespace

Options Options::from_config(const isa::HwConfig& config) {
  Options o;
  o.dram_latency_cycles = config.timing().dram_latency_cycles;
  o.dram_bytes_per_cycle = config.timing().dram_bytes_per_cycle;
  return o;
}

struct TlmSimulator::Impl {
  isa::HwConfig config;
  sim::DeviceMemory& memory;
  Options options;
  isa::InstructionCodec codec;
  std::unique_ptr<fsim::detail::ExecKernel> kernel;
  std::vector<isa::MicroOp> uops;
  isa::ExecutionCounters counters;
  std::vector<std::pair<std::string, uint64_t>> extra;
  std::vector<std::string> warnings;

  Impl(const isa::HwConfig& cfg, sim::DeviceMemory& mem, Options opt)
      : config(cfg),
        memory(mem),
        options(opt),
        codec(config),
        kernel(fsim::detail::make_fast_kernel(config, memory, fsim::Simd::kAuto)),
        uops(config.uop().depth) {
    if (options.dram_bytes_per_cycle == 0) throw ConfigError("timing.dram_bytes_per_cycle", "the tlm model needs at least 1");
    if (options.max_outstanding == 0) throw ConfigError("max_outstanding", "the tlm model needs at least 1 outstanding burst");
  }

  void decode(RunState& rs, uint64_t insn_address, uint32_t insn_count);
  void run(uint64_t insn_address, uint32_t insn_count);
};

// Reads and checks the stream as fsim's front end does, before anything runs.
void TlmSimulator::Impl::decode(RunState& rs, uint64_t insn_address, uint32_t insn_count) {
  const uint8_t* data = nullptr;
  try {
    data = memory.at(insn_address, uint64_t{insn_count} * kInsnBytes);
  } catch (const MemoryError& e) {
    throw MemoryError("instruction stream of " + std::to_string(insn_count) + " instructions: " + e.what());
  }
  rs.program.reserve(insn_count);
  for (uint32_t i = 0; i < insn_count; ++i) {
    const uint8_t* p = data + uint64_t{i} * kInsnBytes;
    isa::RawInstruction raw;
    for (int b = 7; b >= 0; --b) raw.lo = (raw.lo << 8) | p[b];
    for (int b = 15; b >= 8; --b) raw.hi = (raw.hi << 8) | p[b];
    try {
      rs.program.push_back(codec.decode(raw));
    } catch (const ProgramError& e) {
      throw ProgramError(fmt::format("cannot decode 0x{:016x}{:016x}: {}", raw.hi, raw.lo, e.what()), i);
    }
    rs.modules.push_back(isa::module_of(rs.program.back()));
  }
  if (rs.program.empty()) throw ProgramError("empty instruction stream: a program must end with FINISH");
  for (size_t i = 0; i + 1 < rs.program.size(); ++i) {
    if (std::holds_alternative<FinishInsn>(rs.program[i]))
      throw ProgramError("FINISH before the end of the stream; FINISH must be the last instruction", i);
  }
  if (!std::holds_alternative<FinishInsn>(rs.program.back()))
    throw ProgramError("the stream does not end with FINISH (last instruction: " +
                           isa::disassemble(rs.program.back()) + ")",
                       rs.program.size() - 1);
  // flags a module has no queue for
  for (size_t i = 0; i < rs.program.size(); ++i) {
    const isa::DepFlags& d = isa::dep_flags(rs.program[i]);
    const Module m = rs.modules[i];
    if (m == Module::kLoad && (d.pop_prev || d.push_prev))
      throw ProgramError("the load module has no previous module: pop_prev/push_prev are not allowed", i);
    if (m == Module::kStore && (d.pop_next || d.push_next))
      throw ProgramError("the store module has no next module: pop_next/push_next are not allowed", i);
  }
}

void TlmSimulator::Impl::run(uint64_t insn_address, uint32_t insn_count) {
  std::lock_guard<std::mutex> lock(engine_mutex());
  counters = {};
  extra.clear();
  warnings.clear();
  RunState rs;
  rs.config = &config;
  rs.memory = &memory;
  rs.kernel = kernel.get();
  rs.uops = &uops;
  rs.codec = &codec;
  rs.opt = options;
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, FileCloser> timeline;
  if (const char* path = std::getenv("VTA_TLM_TIMELINE"); path != nullptr && *path != '\0') {
    timeline.reset(std::fopen(path, "a"));
    if (!timeline) throw Error(std::string("tlm: cannot open the timeline file ") + path);
    std::fprintf(timeline.get(), "# run: %u instructions at 0x%llx (unit,index,first cycle,last cycle)\n", insn_count,
                 static_cast<unsigned long long>(insn_address));
    rs.timeline = timeline.get();
  }
  rs.tok[kL2C].name = "load->compute";
  rs.tok[kC2L].name = "compute->load";
  rs.tok[kC2S].name = "compute->store";
  rs.tok[kS2C].name = "store->compute";
  decode(rs, insn_address, insn_count);
  for (const Module m : rs.modules) ++rs.remaining[static_cast<int>(m)];
  rs.load_front_left = rs.remaining[static_cast<int>(Module::kLoad)];
  rs.load_overlap = config.inp().element_bytes >= kBusBytes && config.wgt().element_bytes >= kBusBytes;
  Core::plan_bounds(rs);

  Core& core = engine();
  core.run = &rs;
  core.insn_address = insn_address;
  core.last_response = 0;
  core.base = sc_core::sc_time_stamp().value() / kTimeUnitsPerCycle;
  core.dram.reset(options, core.base);
  core.start_ev.notify(sc_core::SC_ZERO_TIME);
  sc_core::sc_start();
  const bool finished = rs.remaining[0] == 0 && rs.remaining[1] == 0 && rs.remaining[2] == 0;
  if (!finished || rs.aborted) {
    // unwind every thread still waiting (on a token that cannot arrive, or after an error)
    core.abort_all();
    sc_core::sc_start();
  }
  core.run = nullptr;
  counters = rs.counters;
  if (rs.error) std::rethrow_exception(rs.error);
  if (!finished) {
    std::optional<uint64_t> lowest;
    std::string detail;
    for (int m = 0; m < 3; ++m) {
      if (!detail.empty()) detail += "; ";
      if (rs.remaining[m] == 0) {
        detail += fmt::format("{} module finished", module_name(m));
      } else if (const RunState::Waiting& w = (m == 0 && rs.waiting[kLoadBack].index) ? rs.waiting[kLoadBack] : rs.waiting[m];
                 w.index) {
        const uint32_t i = *w.index;
        detail += fmt::format("{} module stalled at instruction {} ({}) {}", module_name(m), i,
                              isa::disassemble(rs.program[i]), w.text());
        if (!lowest || i < *lowest) lowest = i;
      } else {
        detail += fmt::format("{} module {}", module_name(m), rs.waiting[m].what ? rs.waiting[m].text() : std::string("blocked"));
      }
    }
    throw ProgramError("deadlock: " + detail, lowest);
  }
  std::string left;
  for (const TokenQueue& tq : rs.tok) {
    if (tq.avail.empty()) continue;
    left += fmt::format("{}{} token{} in the {} queue", left.empty() ? "" : ", ", tq.avail.size(),
                        tq.avail.size() == 1 ? "" : "s", tq.name);
  }
  if (!left.empty()) {
    if (!options.allow_leftover_tokens) throw ProgramError("tokens left after the last instruction: " + left);
    warnings.push_back("tokens left after the last instruction: " + left);
  }
  Cycle end = rs.fetch_done;
  for (int m = 0; m < 3; ++m) end = std::max(end, rs.end_cycle[m]);
  end = std::max(end, core.last_response + 1);
  counters.cycle_count = end;
  const std::string_view names[] = {"load_busy_cycles",  "load_stall_cycles",  "compute_busy_cycles",
                                    "compute_stall_cycles", "store_busy_cycles", "store_stall_cycles",
                                    "fetch_stall_cycles", "gemm_hazard_cycles"};
  const uint64_t values[] = {rs.mod[0].busy, rs.mod[0].stall, rs.mod[1].busy, rs.mod[1].stall,
                             rs.mod[2].busy, rs.mod[2].stall, rs.fetch_stall, rs.hazard};
  for (size_t i = 0; i < std::size(names); ++i) {
    // the same names as the core's counters (isa::reg::kCounters), so reports line up with tsim's
    if (isa::reg::kCounters[isa::reg::kCounterLoadBusy + i].name != names[i])
      throw Error("tlm: counter order differs from isa::reg::kCounters");
    extra.emplace_back(std::string(names[i]), values[i]);
  }
}

TlmSimulator::TlmSimulator(const isa::HwConfig& config, sim::DeviceMemory& memory, Options options)
    : impl_(std::make_unique<Impl>(config, memory, options)) {}
TlmSimulator::~TlmSimulator() = default;
void TlmSimulator::run(uint64_t insn_address, uint32_t insn_count) { impl_->run(insn_address, insn_count); }
const isa::ExecutionCounters& TlmSimulator::counters() const { return impl_->counters; }
const std::vector<std::pair<std::string, uint64_t>>& TlmSimulator::extra_counters() const { return impl_->extra; }
const std::vector<std::string>& TlmSimulator::warnings() const { return impl_->warnings; }
void TlmSimulator::clear_buffers() {
  impl_->kernel->clear();
  std::fill(impl_->uops.begin(), impl_->uops.end(), isa::MicroOp{});
}
const isa::HwConfig& TlmSimulator::config() const { return impl_->config; }
const Options& TlmSimulator::options() const { return impl_->options; }

}  // namespace vta::tlm
