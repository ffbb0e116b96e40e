// Error values: the one error type of dagctl. Calls that can fail return
// Result<T> (std::expected<T, Error>); exceptions never cross module boundaries.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace dagctl {

/// What went wrong, as a code callers can branch on, plus a message for people.
class Error {
 public:
  enum class Code {
    kNotFound,
    kInvalidArgument,
    kAlreadyExists,
    kIOError,
    kCorruption,
    kInternal,
    kUnavailable,  ///< A service (the metadata database) cannot be reached now; try again.
    kAborted,      ///< The transaction lost to another one (a deadlock): try again at once.
  };

  Error(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Error NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Error InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Error AlreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
  static Error IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Error Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Error Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }
  static Error Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Error Aborted(std::string msg) { return {Code::kAborted, std::move(msg)}; }

  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsUnavailable() const { return code_ == Code::kUnavailable; }

 private:
  Code code_;
  std::string message_;
};

/// An error of the metadata store that passes: busy or unreachable
/// (Unavailable, Aborted), or a full disk or an I/O error (IOError). The
/// engine waits and tries again; only the store gives these codes to the
/// engine's loop (a try's preparation gives its own failures other codes).
inline bool IsStoreFault(const Error& e) {
  return e.code() == Error::Code::kUnavailable || e.code() == Error::Code::kAborted ||
         e.code() == Error::Code::kIOError;
}

template <typename T>
using Result = std::expected<T, Error>;

/// Result of a call that returns nothing on success.
using Status = std::expected<void, Error>;

inline std::unexpected<Error> Fail(Error e) { return std::unexpected<Error>(std::move(e)); }

}  // namespace dagctl
