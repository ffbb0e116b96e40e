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

/// Collects the problems found while loading one file: the first
/// limits::kMaxDiagnostics of them, then only a count. Not thread-safe.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void Error(Mark mark, std::string message);
  bool empty() const { return list_.empty(); }
  /// True once the limit is reached: further errors are only counted, so
  /// callers may skip work spent on their messages ("did you mean").
  bool full() const;
  /// Orders the diagnostics by position in the file (stable).
  void Sort();
  /// The diagnostics kept, then, if some were dropped, one saying how many.
  std::vector<Diagnostic> list() const;
  const std::string& file() const { return file_; }

  /// Every diagnostic on its own line, in the order found.
  std::string ToString() const;

 private:
  std::string file_;
  std::vector<Diagnostic> list_;
  size_t dropped_ = 0;
  Mark first_dropped_;
};

}  // namespace dagctl
