// Load-time problems, collected rather than thrown, each tied to a place in a file.
#pragma once

#include <string>
#include <vector>

#include "engine/value.h"

namespace dagctl {

/// One problem in a DAG file, printed as `FILE:LINE:COL: error: MESSAGE`.
struct Diagnostic {
  std::string file;
  Mark mark;
  std::string message;

  std::string ToString() const;
};

/// Collects every problem found while loading one file. Not thread-safe.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void Error(Mark mark, std::string message) { list_.push_back({file_, mark, std::move(message)}); }
  bool empty() const { return list_.empty(); }
  /// Orders the diagnostics by position in the file (stable).
  void Sort();
  const std::vector<Diagnostic>& list() const { return list_; }
  const std::string& file() const { return file_; }

  /// Every diagnostic on its own line, in the order found.
  std::string ToString() const;

 private:
  std::string file_;
  std::vector<Diagnostic> list_;
};

}  // namespace dagctl
