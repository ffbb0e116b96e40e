// A libFuzzer binary for one target of fuzz/entries.h, chosen at build time
// with DAGCTL_FUZZ_TARGET (tests/fuzz/CMakeLists.txt builds one per target).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz/entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const dagctl::fuzz::Target* target = dagctl::fuzz::FindTarget(DAGCTL_FUZZ_TARGET);
  if (!target) {
    std::fprintf(stderr, "no fuzz target '%s'\n", DAGCTL_FUZZ_TARGET);
    std::abort();
  }
  dagctl::fuzz::Outcome out = target->run({reinterpret_cast<const char*>(data), size});
  if (!out.violation.empty()) {
    // An answer that breaks an invariant is a finding, like a crash.
    std::fprintf(stderr, "%s: invariant broken: %s\n", target->name, out.violation.c_str());
    std::abort();
  }
  return 0;
}
