#include "engine/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/limits.h"

namespace dagctl {

void Diagnostics::Error(Mark mark, std::string message) {
  if (!full()) {
    list_.push_back({file_, mark, std::move(message)});
    return;
  }
  if (dropped_++ == 0) first_dropped_ = mark;
}

bool Diagnostics::full() const { return list_.size() >= limits::kMaxDiagnostics; }

std::vector<Diagnostic> Diagnostics::list() const {
  std::vector<Diagnostic> out = list_;
  if (dropped_ > 0)
    out.push_back(
        {file_, first_dropped_,
         fmt::format("too many errors: {} more not shown (fix the ones above first)", dropped_)});
  return out;
}

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
  for (const Diagnostic& d : list()) out += d.ToString() + "\n";
  return out;
}

}  // namespace dagctl
