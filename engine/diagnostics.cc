#include "engine/diagnostics.h"

#include <fmt/format.h>

namespace dagctl {

std::string Diagnostic::ToString() const {
  return fmt::format("{}:{}:{}: error: {}", file, mark.line, mark.column, message);
}

std::string Diagnostics::ToString() const {
  std::string out;
  for (const Diagnostic& d : list_) out += d.ToString() + "\n";
  return out;
}

}  // namespace dagctl
