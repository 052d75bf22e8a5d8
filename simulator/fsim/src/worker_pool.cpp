// See worker_pool.h.
#include "worker_pool.h"

#include <chrono>
#include <cstdlib>
#include <string>
#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "vta/isa/error.h"

namespace vta::fsim::detail {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) && defined(__SSE2__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

constexpr auto kSpin = std::chrono::microseconds(50);

}  // namespace

WorkerPool::WorkerPool(uint32_t threads) {
  for (uint32_t t = 1; t < threads; ++t) workers_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void WorkerPool::take_tasks() {
  for (uint32_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < tasks_;) {
    (*task_)(i);
    done_.fetch_add(1, std::memory_order_release);
  }
}

void WorkerPool::run(uint32_t n, const std::function<void(uint32_t)>& task) {
  {
    // Under the lock, so a worker between its last check and its wait cannot miss the new generation;
    // the generation's release publishes the task to the spinning workers.
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = &task;
    tasks_ = n;
    next_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  take_tasks();
  while (done_.load(std::memory_order_acquire) != n) cpu_relax();
}

void WorkerPool::work() {
  uint64_t seen = 0;
  for (;;) {
    // Spin first: the next GEMM usually follows within microseconds.
    const auto until = std::chrono::steady_clock::now() + kSpin;
    uint32_t n = 0;
    while (generation_.load(std::memory_order_acquire) == seen) {
      cpu_relax();
      if (++n % 256 == 0 && std::chrono::steady_clock::now() > until) break;
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_relaxed) != seen; });
      if (stop_) return;
      seen = generation_.load(std::memory_order_relaxed);
    }
    take_tasks();
  }
}

uint32_t threads_from_environment() {
  const char* env = std::getenv("VTA_FSIM_THREADS");
  if (env == nullptr || *env == '\0') return 1;
  char* end = nullptr;
  const long v = std::strtol(env, &end, 10);
  if (*end != '\0' || v < 1 || v > 256)
    throw Error(std::string("VTA_FSIM_THREADS=") + env + ": expected a thread count from 1 to 256");
  return static_cast<uint32_t>(v);
}

}  // namespace vta::fsim::detail
