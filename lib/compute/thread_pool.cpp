#include "compute/thread_pool.hpp"

#include <algorithm>
#include <chrono>
#include <system_error>

#include "util/error.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LEM_CPU_RELAX() _mm_pause()
#else
#define LEM_CPU_RELAX() ((void)0)
#endif

namespace lem {
namespace {
// How long an idle worker spins on the generation counter before it sleeps.
constexpr auto kSpinTime = std::chrono::microseconds(200);
}  // namespace

int ThreadPool::hardware_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

int ThreadPool::max_threads() { return kThreadsPerCoreMax * std::min(hardware_threads(), 1 << 20); }

ThreadPool::ThreadPool(int n_threads, const BeforeStart& before_start) {
  if (n_threads <= 0) n_threads = hardware_threads();
  if (n_threads > max_threads())
    fail(Status::InvalidArg, "n_threads {} is more than the limit of {} ({} x the {} hardware threads)", n_threads,
         max_threads(), kThreadsPerCoreMax, hardware_threads());
  n_threads_ = n_threads;
  workers_.reserve(static_cast<size_t>(n_threads - 1));
  for (int i = 1; i < n_threads; ++i) {
    try {
      if (before_start) before_start(i);
      workers_.emplace_back([this, i] { worker(i); });
    } catch (const std::system_error& e) {
      // The destructor will not run: stop the workers started so far, or they would wait on a
      // condition variable that is about to be destroyed.
      stop_and_join();
      fail(Status::OutOfMemory, "cannot start thread {} of {}: {}", i + 1, n_threads, e.what());
    } catch (...) {
      stop_and_join();
      throw;
    }
  }
}

ThreadPool::~ThreadPool() { stop_and_join(); }

void ThreadPool::stop_and_join() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::split(int64_t n, int64_t grain, int thread, int n_threads, int64_t& begin, int64_t& end) {
  const int64_t units = (n + grain - 1) / grain;
  const int64_t per = units / n_threads, extra = units % n_threads;
  const int64_t ub = thread * per + std::min<int64_t>(thread, extra);
  const int64_t ue = ub + per + (thread < extra ? 1 : 0);
  begin = std::min(n, ub * grain);
  end = std::min(n, ue * grain);
}

void ThreadPool::run_job(int thread) {
  try {
    job_.call(job_.ctx, thread, n_threads_);
  } catch (...) {
    std::lock_guard<std::mutex> lock(error_mutex_);
    if (!error_) error_ = std::current_exception();
  }
}

void ThreadPool::dispatch(const Job& job) {
  job_ = job;
  error_ = nullptr;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  {
    // Publishing under the mutex pairs with the sleeping workers' predicate check.
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  run_job(0);
  while (pending_.load(std::memory_order_acquire) != 0) LEM_CPU_RELAX();
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    // Spin for a short while, then sleep until the generation changes.
    const auto spin_until = std::chrono::steady_clock::now() + kSpinTime;
    uint64_t gen = generation_.load(std::memory_order_acquire);
    while (gen == seen && !stop_.load(std::memory_order_relaxed)) {
      if (std::chrono::steady_clock::now() > spin_until) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen || stop_.load(); });
      }
      for (int i = 0; i < 64; ++i) LEM_CPU_RELAX();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (stop_.load()) return;
    seen = gen;
    run_job(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace lem
