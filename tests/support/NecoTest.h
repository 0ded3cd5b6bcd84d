#pragma once
// A deliberately small test harness for core/, gpu/ and CLI tests.
//
// Why not Qt Test here: these suites must build on the GPU machine, which has LibTorch, CUDA and
// cmake but no Qt (and no package registry). The GUI suites under tests/ui use Qt Test.
//
//   NECO_TEST(SuiteName, caseName) { NECO_CHECK(x == 1); NECO_CHECK_NEAR(a, b, 1e-6); }
//   int main(int argc, char** argv) { return neco::test::runAll(argc, argv); }   // or link neco_test_main
//
// Output ends with "N passed, N failed" (and ", N skipped"); exit status 0 when nothing failed,
// 77 (CTest SKIP_RETURN_CODE) when every case skipped, 1 otherwise. A case may call
// NECO_SKIP("reason") to skip with a visible reason. Passing a substring as argv[1] filters cases.

#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace neco::test {

struct SkipCase {
  std::string reason;
};

struct CheckFailure {
  std::string message;
};

struct Case {
  std::string name;
  std::function<void()> body;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

struct Registrar {
  Registrar(std::string name, std::function<void()> body) {
    registry().push_back({std::move(name), std::move(body)});
  }
};

inline int& failuresInCase() {
  static int n = 0;
  return n;
}

inline void reportFailure(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "    FAIL %s:%d: %s\n", file, line, what.c_str());
  ++failuresInCase();
}

inline int runAll(int argc, char** argv) {
  const std::string filter = argc > 1 ? argv[1] : "";
  int passed = 0, failed = 0, skipped = 0;
  for (const Case& c : registry()) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    failuresInCase() = 0;
    std::printf("[ RUN  ] %s\n", c.name.c_str());
    std::fflush(stdout);
    try {
      c.body();
    } catch (const SkipCase& s) {
      std::printf("[ SKIP ] %s: %s\n", c.name.c_str(), s.reason.c_str());
      ++skipped;
      continue;
    } catch (const CheckFailure& f) {
      std::fprintf(stderr, "    FATAL %s\n", f.message.c_str());
      ++failuresInCase();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "    uncaught exception: %s\n", e.what());
      ++failuresInCase();
    } catch (...) {
      std::fprintf(stderr, "    uncaught non-standard exception\n");
      ++failuresInCase();
    }
    if (failuresInCase() == 0) {
      std::printf("[  OK  ] %s\n", c.name.c_str());
      ++passed;
    } else {
      std::printf("[FAILED] %s\n", c.name.c_str());
      ++failed;
    }
    std::fflush(stdout);
  }
  std::printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  if (failed > 0) return 1;
  if (passed == 0 && skipped > 0) return 77;
  return 0;
}

}  // namespace neco::test

#define NECO_TEST_CONCAT2(a, b) a##b
#define NECO_TEST_CONCAT(a, b) NECO_TEST_CONCAT2(a, b)

#define NECO_TEST(suite, name)                                                            \
  static void neco_test_##suite##_##name();                                               \
  static ::neco::test::Registrar NECO_TEST_CONCAT(neco_reg_, __LINE__)(#suite "." #name,  \
                                                                       neco_test_##suite##_##name); \
  static void neco_test_##suite##_##name()

#define NECO_CHECK(cond)                                                          \
  do {                                                                            \
    if (!(cond)) ::neco::test::reportFailure(__FILE__, __LINE__, "check failed: " #cond); \
  } while (0)

#define NECO_REQUIRE(cond)                                                                   \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      ::neco::test::reportFailure(__FILE__, __LINE__, "requirement failed: " #cond);         \
      throw ::neco::test::CheckFailure{"stopping case after failed requirement"};            \
    }                                                                                        \
  } while (0)

#define NECO_CHECK_EQ(a, b)                                                                  \
  do {                                                                                       \
    const auto& neco_a_ = (a);                                                               \
    const auto& neco_b_ = (b);                                                               \
    if (!(neco_a_ == neco_b_)) {                                                             \
      std::ostringstream neco_os_;                                                           \
      neco_os_ << #a " == " #b " failed: " << neco_a_ << " vs " << neco_b_;                  \
      ::neco::test::reportFailure(__FILE__, __LINE__, neco_os_.str());                       \
    }                                                                                        \
  } while (0)

#define NECO_CHECK_NEAR(a, b, tol)                                                           \
  do {                                                                                       \
    const double neco_a_ = static_cast<double>(a);                                           \
    const double neco_b_ = static_cast<double>(b);                                           \
    if (!(std::fabs(neco_a_ - neco_b_) <= (tol))) {                                          \
      std::ostringstream neco_os_;                                                           \
      neco_os_ << "|" #a " - " #b "| <= " #tol " failed: " << neco_a_ << " vs " << neco_b_;  \
      ::neco::test::reportFailure(__FILE__, __LINE__, neco_os_.str());                       \
    }                                                                                        \
  } while (0)

/// Checks that `expr` throws an exception of type `ExceptionType` (or derived).
#define NECO_CHECK_THROWS(ExceptionType, expr)                                               \
  do {                                                                                       \
    bool neco_thrown_ = false;                                                               \
    try {                                                                                    \
      (void)(expr);                                                                          \
    } catch (const ExceptionType&) {                                                         \
      neco_thrown_ = true;                                                                   \
    } catch (...) {                                                                          \
    }                                                                                        \
    if (!neco_thrown_)                                                                       \
      ::neco::test::reportFailure(__FILE__, __LINE__, #expr " did not throw " #ExceptionType); \
  } while (0)

#define NECO_SKIP(reason) throw ::neco::test::SkipCase{reason}
