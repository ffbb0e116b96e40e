#include "cli/output.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/json_io.h"

namespace dagctl::cli {

void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(headers.size());
  for (size_t c = 0; c < headers.size(); ++c) width[c] = headers[c].size();
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    fmt::print("{}\n", line);
  };
  std::vector<std::string> upper;
  for (std::string h : headers) {
    for (char& ch : h) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    upper.push_back(h);
  }
  print_row(upper);
  for (const auto& row : rows) print_row(row);
}

std::string ElapsedText(std::optional<Timestamp> start, std::optional<Timestamp> end) {
  if (!start || !end) return "";
  double secs = std::chrono::duration<double>(*end - *start).count();
  if (secs < 60) return fmt::format("{:.2f}s", secs);
  auto s = static_cast<long>(secs);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

void PrintJson(const nlohmann::json& j) { fmt::print("{}\n", DumpJson(j, 2)); }

}  // namespace dagctl::cli
