// ThreadPool: every thread runs each job once, ranges tile [0, n), exceptions propagate; the
// thread count is capped and a failed thread creation is an error, never a hang.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "compute/thread_pool.hpp"
#include "util/error.hpp"

TEST_CASE("thread pool runs every thread once per job, many times in a row", "[thread_pool]") {
  for (int n : {1, 2, 3, 4}) {
    lem::ThreadPool pool(n);
    REQUIRE(pool.size() == n);
    std::vector<std::atomic<int>> hits(n);
    for (int rep = 0; rep < 2000; ++rep) {
      pool.run([&](int t, int nt) {
        REQUIRE(nt == n);
        hits[t].fetch_add(1);
      });
    }
    for (int t = 0; t < n; ++t) CHECK(hits[t].load() == 2000);
  }
}

TEST_CASE("thread pool split covers 0..n in grain-aligned pieces", "[thread_pool]") {
  for (int64_t n : {0, 1, 7, 64, 1000, 262144}) {
    for (int64_t grain : {1, 4, 64}) {
      for (int threads : {1, 2, 3, 8}) {
        int64_t next = 0;
        for (int t = 0; t < threads; ++t) {
          int64_t b, e;
          lem::ThreadPool::split(n, grain, t, threads, b, e);
          CHECK(b == next);
          CHECK(e >= b);
          if (e < n) CHECK(e % grain == 0);
          next = e;
        }
        CHECK(next == n);
      }
    }
  }
}

TEST_CASE("thread pool rethrows the first exception of a job", "[thread_pool]") {
  lem::ThreadPool pool(2);
  CHECK_THROWS_AS(pool.run([](int t, int) {
    if (t == 1) throw std::runtime_error("boom");
  }), std::runtime_error);
  int count = 0;  // the pool is still usable afterwards
  pool.run([&](int t, int) {
    if (t == 0) ++count;
  });
  CHECK(count == 1);
}

namespace {

// Threads of this process (Linux: one entry per thread in /proc/self/task).
int process_threads() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

}  // namespace

TEST_CASE("thread pool refuses more than 4 x the hardware threads, naming the limit", "[thread_pool]") {
  const int limit = lem::ThreadPool::max_threads();
  CHECK(limit == lem::kThreadsPerCoreMax * static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const int before = process_threads();
  for (int n : {limit + 1, 100000, std::numeric_limits<int>::max()}) {
    INFO(n);
    try {
      lem::ThreadPool pool(n);
      FAIL("a pool of " << n << " threads was created");
    } catch (const lem::Error& e) {
      CHECK(e.status() == lem::Status::InvalidArg);
      CHECK_THAT(e.what(), Catch::Contains(std::to_string(n)) && Catch::Contains("limit of " + std::to_string(limit)));
    }
  }
  CHECK(process_threads() == before);  // refused before any thread started
  lem::ThreadPool at_limit(limit);
  CHECK(at_limit.size() == limit);
}

TEST_CASE("a failed thread creation is an error, and the started workers are joined", "[thread_pool]") {
  const int before = process_threads();
  for (int fail_at : {1, 2, 5}) {
    INFO("thread " << fail_at << " fails to start");
    int attempts = 0;
    const auto start = [&](int index) {
      ++attempts;
      if (index == fail_at) throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
    };
    try {
      lem::ThreadPool pool(8, start);
      FAIL("the pool was created");
    } catch (const lem::Error& e) {
      CHECK(e.status() == lem::Status::OutOfMemory);
      CHECK_THAT(e.what(), Catch::Contains("cannot start thread " + std::to_string(fail_at + 1) + " of 8"));
    }
    CHECK(attempts == fail_at);
    // Returning at all shows the workers were stopped (joining a waiting worker would hang);
    // none of them is left running.
    CHECK(process_threads() == before);
  }
  SECTION("other exceptions propagate after the same cleanup") {
    const auto start = [](int index) {
      if (index == 3) throw std::runtime_error("no");
    };
    CHECK_THROWS_AS(lem::ThreadPool(6, start), std::runtime_error);
    CHECK(process_threads() == before);
  }
}
