#include "engine/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>

namespace dagctl {

std::string Diagnostic::ToString() const {
  return fmt::format("{}:{}:{}: error: {}", file, mark.line, mark.column, message);
}

void Diagnostics::Sort() {
  std::stable_sort(list_.begin(), list_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.mark.line != b.mark.line ? a.mark.line < b.mark.line : a.mark.column < b.mark.column;
  });
}

std::string Diagnostics::ToString() const {
  std::string out;
  for (const Diagnostic& d : list_) out += d.ToString() + "\n";
  return out;
}

}  // namespace dagctl
