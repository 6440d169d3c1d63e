// A small fixed-size thread pool for data-parallel kernels. run(fn) calls fn(thread, n_threads)
// on every thread (the caller is thread 0) and returns when all are done: each call site splits
// its own work by thread index, so no task queue is needed.
//
// Workers spin briefly before sleeping: a decode step issues a few hundred short parallel
// sections per token, and waking a sleeping thread costs more than the spin.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lem {

// The most threads a pool may have per hardware thread (LEM_THREADS_PER_CORE_MAX of lem.h): more
// only thrash, and a hostile n_threads must not create millions of threads.
inline constexpr int kThreadsPerCoreMax = 4;

class ThreadPool {
 public:
  // Called before worker `index` (1 .. n_threads - 1) is started. A test seam: throwing
  // std::system_error from it behaves exactly like a failed std::thread creation.
  using BeforeStart = std::function<void(int index)>;

  // n_threads <= 0 means "all hardware threads". Throws lem::Error: InvalidArg above
  // max_threads(), OutOfMemory when a thread cannot be created (the workers already started are
  // stopped and joined first, so a failed construction never leaves a thread behind).
  explicit ThreadPool(int n_threads, const BeforeStart& before_start = {});
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }
  // The hardware threads, at least 1.
  static int hardware_threads();
  // kThreadsPerCoreMax x hardware_threads().
  static int max_threads();

  // Runs fn(thread_index, n_threads) on all threads; rethrows the first exception any threw.
  // Not re-entrant: fn must not call run() on the same pool.
  template <class F>
  void run(F&& fn) {
    if (n_threads_ == 1) {
      fn(0, 1);
      return;
    }
    Job job{[](void* ctx, int t, int n) { (*static_cast<F*>(ctx))(t, n); }, &fn};
    dispatch(job);
  }

  // As run(), but on the calling thread alone when `work` (any unit, e.g. multiply-adds) is
  // below `min_parallel_work`: waking other threads costs more than tiny jobs take.
  template <class F>
  void run_sized(double work, double min_parallel_work, F&& fn) {
    if (work < min_parallel_work) fn(0, 1);
    else run(std::forward<F>(fn));
  }

  // Splits [0, n) into n_threads contiguous ranges, rounded to multiples of `grain`.
  static void split(int64_t n, int64_t grain, int thread, int n_threads, int64_t& begin, int64_t& end);

 private:
  struct Job {
    void (*call)(void* ctx, int thread, int n_threads);
    void* ctx;
  };
  void dispatch(const Job& job);
  void worker(int index);
  void run_job(int thread);
  void stop_and_join();

  int n_threads_;
  std::vector<std::thread> workers_;
  Job job_{};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

}  // namespace lem
