// A fixed set of worker threads for the fast kernel's GEMM (VTA_FSIM_THREADS, docs/fsim.md):
// run(n, task) calls task(i) once for every i < n, on the calling thread and the workers, each taking
// the next index as it becomes free, and returns when all calls have returned. Because the caller
// takes tasks too, a worker the OS does not schedule (a busy machine) delays a run by at most the task
// it already took. A GEMM instruction takes a few microseconds, so a hand-off must cost far less than
// a thread wake-up: idle workers spin for a while (~50 us) before they sleep on a condition variable,
// and the caller spins until the last task is done. Tasks must not throw.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vta::fsim::detail {

class WorkerPool {
 public:
  explicit WorkerPool(uint32_t threads);  // threads >= 2: threads - 1 workers
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  uint32_t size() const { return static_cast<uint32_t>(workers_.size()) + 1; }
  void run(uint32_t n, const std::function<void(uint32_t)>& task);

 private:
  void work();
  void take_tasks();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};  // bumped once per run()
  std::atomic<uint32_t> next_{0};        // next task index of the current run
  std::atomic<uint32_t> done_{0};        // tasks of the current run that returned
  uint32_t tasks_ = 0;
  const std::function<void(uint32_t)>* task_ = nullptr;
  bool stop_ = false;
};

// VTA_FSIM_THREADS: threads for the fast kernel's GEMM rows; unset, empty or 1 = none (the default).
// Throws vta::Error for anything but an integer in [1, 256].
uint32_t threads_from_environment();

}  // namespace vta::fsim::detail
