// The operator interface: what a task does. Public API for built-in and plug-in
// operators alike.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/diagnostics.h"
#include "engine/error.h"
#include "engine/value.h"

namespace dagctl {

/// The type an operator key must have, checked when the DAG loads.
enum class ParamType {
  kString,      ///< A scalar, used as text.
  kInt,         ///< A whole number.
  kBool,        ///< true/false.
  kDuration,    ///< `45s`, `5m`, or seconds.
  kStringList,  ///< A list of scalars (a single scalar is read as a one-item list).
  kStringMap,   ///< A map of scalars.
  kAny,         ///< Anything; the operator's Validate checks it.
};

/// One key an operator accepts.
struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kString;
  bool required = false;
  bool templated = false;  ///< String values are rendered as templates before each try.
  std::string doc;
};

/// What the try's process reports back besides its exit code.
class TryChannel {
 public:
  virtual ~TryChannel() = default;
  /// Pushes an XCom value under `key` for downstream tasks.
  virtual void PushXCom(const std::string& key, const std::string& value) = 0;
};

/// How a try is carried out, as the operator prepared it in the engine's process.
/// At most one of `argv` (a program to exec in the try's process group) or
/// `body` (code run in a forked child, isolated from the engine) is set; with
/// neither, the try succeeds without a process (the `empty` operator).
/// The process's exit code decides the try: 0 success, 99 skipped, else failed.
struct Launch {
  std::vector<std::string> argv;
  std::function<int(TryChannel&)> body;
  std::string cwd;  ///< Working directory; empty = the DAG file's folder.
  std::vector<std::string> secrets;  ///< Values to mask as *** in the try's log.
};

/// What an operator sees when preparing a try.
struct TryContext {
  const Value& params;  ///< The task's operator keys, templated strings already rendered.
  std::string dag_id;
  std::string run_id;
  std::string task_id;
  int try_number = 1;
};

/// How a try that exited normally turns out, as its operator reads it.
struct TryOutcome {
  enum class Kind { kSuccess, kSkipped, kFailed, kNotYet /* a sensor's condition is not met */ };
  Kind kind = Kind::kSuccess;
  std::string error;                          ///< Why it failed, when kFailed.
  std::vector<std::string> skip_downstream;   ///< Direct downstream tasks to skip (branching).
  bool skip_all_downstream = false;           ///< Skip everything below (short-circuit).
};

/// The usual reading of an exit code: 0 success, 99 skipped, else failed.
TryOutcome StandardOutcome(int exit_code);

/// A sensor's poke exits with this when its condition is not met yet.
constexpr int kSensorNotYet = 100;

/// A sensor's reading: kSensorNotYet is "not yet", the rest as StandardOutcome.
TryOutcome SensorOutcome(int exit_code);

/// A kind of task. Implementations must be stateless (one instance serves every
/// task and DAG) and thread-safe.
class Operator {
 public:
  virtual ~Operator() = default;
  /// The name DAG files use in `operator:`.
  virtual std::string name() const = 0;
  /// The operator's own keys (beyond the common task keys).
  virtual const std::vector<ParamSpec>& params() const = 0;
  /// Checks beyond each key's type, at load time; reports into `diags`.
  virtual void Validate(const Value& params, Diagnostics& diags) const {
    (void)params;
    (void)diags;
  }
  /// Turns rendered parameters into a Launch. Runs in the engine's process and
  /// must not block; an error fails the try with its message.
  virtual Result<Launch> Prepare(const TryContext& ctx) const = 0;
  /// True when, for these (unrendered) keys, the operator has work to do
  /// once every direct downstream task has succeeded (file_sensor's move or
  /// delete of the files it found).
  virtual bool HasAfterDownstream(const Value& params) const {
    (void)params;
    return false;
  }
  /// That work, given the rendered keys and this task's XCom return_value.
  /// It runs like a callback: in its own process, changing no state.
  virtual Result<Launch> AfterDownstreamSuccess(const TryContext& ctx,
                                                const std::string& return_value) const {
    (void)ctx, (void)return_value;
    return Launch{};
  }
  /// True for sensors: each try is a poke, repeated every `poke_interval`
  /// while it exits kSensorNotYet, until `timeout` from the first poke.
  virtual bool IsSensor() const { return false; }
  /// Reads a try that exited with `exit_code` (not killed, not timed out);
  /// `return_value` is its last stdout line, `downstream` its direct
  /// downstream task ids, then the ids of the task groups one of them is a
  /// root of (skipping a group's id skips nothing by itself; not skipping it
  /// keeps its roots). Default: SensorOutcome for sensors, else
  /// StandardOutcome.
  virtual TryOutcome Interpret(int exit_code, const std::string& return_value,
                               const std::vector<std::string>& downstream) const {
    (void)return_value, (void)downstream;
    return IsSensor() ? SensorOutcome(exit_code) : StandardOutcome(exit_code);
  }
};

/// The operators a process knows, by name. Not thread-safe while registering;
/// read-only use afterwards is.
class OperatorRegistry {
 public:
  /// Adds `op`; AlreadyExists if its name is taken.
  Status Register(std::unique_ptr<Operator> op);
  /// The operator called `name`, or nullptr.
  const Operator* Find(const std::string& name) const;
  std::vector<std::string> Names() const;
  /// Removes and returns the operator called `name` (nullptr if none).
  std::unique_ptr<Operator> Take(const std::string& name);

 private:
  std::map<std::string, std::unique_ptr<Operator>> ops_;
};

/// Registers the operators that ship with dagctl.
void RegisterBuiltinOperators(OperatorRegistry& registry);

}  // namespace dagctl
