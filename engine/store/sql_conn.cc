#include "engine/store/sql_conn.h"

#include <cstdlib>

namespace dagctl {

bool SqlRows::IsNull(size_t row, int col) const {
  return std::holds_alternative<std::monostate>(Cell(row, col));
}

int64_t SqlRows::Int(size_t row, int col) const {
  const SqlValue& v = Cell(row, col);
  if (const auto* n = std::get_if<int64_t>(&v)) return *n;
  if (const auto* t = std::get_if<std::string>(&v)) return std::strtoll(t->c_str(), nullptr, 10);
  return 0;
}

std::string SqlRows::Text(size_t row, int col) const {
  const SqlValue& v = Cell(row, col);
  if (const auto* t = std::get_if<std::string>(&v)) return *t;
  if (const auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  return "";
}

std::string SqlRows::TakeText(size_t row, int col) {
  SqlValue& v = Cell(row, col);
  if (auto* t = std::get_if<std::string>(&v)) return std::move(*t);
  return Text(row, col);
}

std::optional<int64_t> SqlRows::OptInt(size_t row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Int(row, col);
}

Timestamp SqlRows::Time(size_t row, int col) const { return SqlTime(Int(row, col)); }

std::optional<Timestamp> SqlRows::OptTime(size_t row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Time(row, col);
}

}  // namespace dagctl
