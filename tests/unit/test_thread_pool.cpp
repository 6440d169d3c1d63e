// ThreadPool: every thread runs each job once, ranges tile [0, n), exceptions propagate.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "compute/thread_pool.hpp"

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
