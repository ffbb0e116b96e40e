#include "engine/duration.h"

#include <cctype>
#include <cmath>

#include "engine/limits.h"
#include "engine/value.h"

namespace dagctl {
namespace {

// Milliseconds per unit, or 0 for an unknown unit.
int64_t UnitMillis(const std::string& unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60'000;
  if (unit == "h") return 3'600'000;
  if (unit == "d") return 86'400'000;
  return 0;
}

}  // namespace

std::optional<Duration> ParseDuration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (auto secs = ScalarAsDouble(text)) {
    // Checked before multiplying, so no overflow can reach llround.
    if (!(*secs >= 0) || *secs * 1000 > static_cast<double>(limits::kMaxDurationMillis))
      return std::nullopt;
    return Duration(static_cast<int64_t>(std::llround(*secs * 1000)));
  }
  // A sequence of <digits><unit> groups, units strictly decreasing.
  int64_t total = 0;
  int64_t last_unit = INT64_MAX;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i - start > 12) return std::nullopt;
    int64_t n = *ScalarAsInt(text.substr(start, i - start));  // at most 12 digits
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    int64_t unit = UnitMillis(text.substr(ustart, i - ustart));
    if (unit == 0 || unit >= last_unit) return std::nullopt;
    last_unit = unit;
    // n * unit < 10^12 * 86400000 could overflow: compare by division first.
    if (n > (limits::kMaxDurationMillis - total) / unit) return std::nullopt;
    total += n * unit;
  }
  return Duration(total);
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  static const std::pair<const char*, int64_t> kUnits[] = {
      {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}};
  std::string out;
  for (auto [name, size] : kUnits) {
    if (ms >= size) {
      out += std::to_string(ms / size) + name;
      ms %= size;
    }
  }
  return out;
}

}  // namespace dagctl
