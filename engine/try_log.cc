#include "engine/try_log.h"

#include <fmt/format.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engine/log_file.h"

namespace dagctl {

std::string TryLogPath(const std::string& logs_dir, const std::string& dag_id,
                       const std::string& run_id, const std::string& task_id, int try_number,
                       int map_index) {
  if (map_index >= 0)
    return fmt::format("{}/dag_id={}/run_id={}/task_id={}/map_index={}/attempt={}.log", logs_dir,
                       dag_id, run_id, task_id, map_index, try_number);
  return fmt::format("{}/dag_id={}/run_id={}/task_id={}/attempt={}.log", logs_dir, dag_id, run_id,
                     task_id, try_number);
}

namespace {

// What is past `max_bytes`: the tail from a line start, after a line that
// gives the log's size.
std::string TailNote(std::string tail, int64_t size) {
  size_t nl = tail.find('\n');
  tail.erase(0, nl == std::string::npos ? 0 : nl + 1);
  return fmt::format("[dagctl] this log is {} bytes; here are its last {} ('dagctl logs' "
                     "prints all of it)\n",
                     size, tail.size()) +
         tail;
}

// A chunk of the bytes `data` that start at `offset` of a log.
LogChunk Cut(std::string data, int64_t offset, size_t max_bytes, bool forward) {
  int64_t size = offset + static_cast<int64_t>(data.size());
  if (data.size() <= max_bytes) return {std::move(data), size};
  if (!forward) return {TailNote(data.substr(data.size() - max_bytes), size), size};
  std::string text = CutAtLastLine(data.substr(0, max_bytes), true);
  int64_t end = offset + static_cast<int64_t>(text.size());
  return {std::move(text), end, true};
}

// The same from the file at `path`, reading no more than `max_bytes` of it.
LogChunk ReadFileChunk(const std::string& path, int64_t offset, size_t max_bytes, bool forward) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {"", offset};
  int64_t size = std::max<int64_t>(0, in.tellg());
  int64_t from = std::clamp<int64_t>(offset, 0, size);
  uint64_t left = static_cast<uint64_t>(size - from);
  // One byte more than a chunk tells a forward reader whether more follows.
  int64_t start = forward || left <= max_bytes ? from : size - static_cast<int64_t>(max_bytes);
  size_t want = static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(size - start), forward ? max_bytes + 1 : max_bytes));
  in.seekg(start);
  std::string data(want, '\0');
  in.read(data.data(), static_cast<std::streamsize>(want));
  data.resize(static_cast<size_t>(in.gcount()));
  if (!forward && start != from) return {TailNote(std::move(data), size), size};
  LogChunk c = Cut(std::move(data), from, max_bytes, forward);
  if (!forward) c.end = size;
  return c;
}

}  // namespace

Result<LogChunk> ReadTryLogChunk(Store& store, const std::string& logs_dir, const TiKey& key,
                                 int try_number, int64_t offset, size_t max_bytes, bool forward) {
  auto shipped = store.ReadTryLog(key, try_number, offset);
  if (shipped) return Cut(std::move(*shipped), offset, max_bytes, forward);
  if (!shipped.error().IsNotFound()) return Fail(shipped.error());
  // The ids come from the store, and the path is checked to stay in the logs folder.
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path logs = fs::weakly_canonical(logs_dir, ec);
  fs::path path = fs::weakly_canonical(TryLogPath(logs_dir, key, try_number), ec);
  auto rel = path.lexically_relative(logs);
  if (rel.empty() || *rel.begin() == "..")
    return Fail(Error::InvalidArgument("that log is outside the logs folder"));
  return ReadFileChunk(path.string(), offset, max_bytes, forward);
}

Result<std::string> ReadTryLogText(Store& store, const std::string& logs_dir, const TiKey& key,
                                   int try_number, int64_t offset, size_t max_bytes) {
  auto chunk = ReadTryLogChunk(store, logs_dir, key, try_number, offset, max_bytes, false);
  if (!chunk) return Fail(chunk.error());
  return std::move(chunk->text);
}

namespace {

// An argument as a POSIX shell would need it written: as is when it is
// plain, else in single quotes.
std::string ShellQuote(const std::string& arg) {
  bool plain = !arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
                                                     "WXYZ0123456789_-./=:,+@%") == std::string::npos;
  if (plain) return arg;
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Seconds(Duration d) {
  return fmt::format("{:.3f}s", std::chrono::duration<double>(d).count());
}

}  // namespace

std::vector<std::string> TryHeaderLines(const TryHeader& h) {
  std::vector<std::string> lines;
  lines.push_back(fmt::format("try {} of {}: dag_id={} run_id={} task_id={} map_index={}",
                              h.try_number, h.max_tries, h.key.dag_id, h.key.run_id,
                              h.key.task_id, h.key.map_index));
  lines.push_back(fmt::format("host={} worker={} operator={} pid={}", h.host, h.worker,
                              h.operator_name, h.pid > 0 ? std::to_string(h.pid) : "none"));
  // A shell's script is shown as written (it may span lines).
  const auto& a = h.argv;
  if (a.size() == 3 && a[1] == "-c") {
    std::string script = a[2];
    while (!script.empty() && script.back() == '\n') script.pop_back();
    if (script.find('\n') == std::string::npos) {
      lines.push_back("command: " + script);
    } else {
      lines.push_back("command:");
      for (size_t at = 0; at <= script.size();) {
        size_t nl = std::min(script.find('\n', at), script.size());
        lines.emplace_back(2, ' ');
        lines.back().append(script, at, nl - at);
        at = nl + 1;
      }
    }
  } else if (!a.empty()) {
    std::string cmd = "command:";
    for (const std::string& arg : a) {
      cmd += ' ';
      cmd += ShellQuote(arg);
    }
    lines.push_back(std::move(cmd));
  }
  lines.push_back("start: " + FormatLogTime(h.start));
  return lines;
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

std::string TryFooterLine(const TryFooter& f) {
  std::string how = f.term_signal ? "signal " + SignalName(f.term_signal)
                    : f.exit_code ? fmt::format("exit code {}", *f.exit_code)
                                  : std::string("no exit code");
  if (!f.sensor_timeout.empty()) how = f.sensor_timeout;
  if (f.timed_out_after) how += fmt::format(" (timed out after {})", FormatDuration(*f.timed_out_after));
  std::string line = fmt::format("end: {}, duration {}, state {}", how, Seconds(f.duration),
                                 TaskStateName(f.state));
  if (f.state == TaskState::kUpForRetry && f.retry_at)
    return line + fmt::format(": will retry as try {} of {} at {}", f.try_number + 1, f.max_tries,
                              FormatLogTime(*f.retry_at));
  if (f.state == TaskState::kFailed)
    return line + (f.no_retry_by_rule || f.try_number < f.max_tries
                       ? std::string(": no retry (this failure is not retried)")
                       : fmt::format(": no retry left (try {} of {})", f.try_number, f.max_tries));
  return line;
}

std::string HostName() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

std::string ThisProcessOwner() { return fmt::format("{}:{}", HostName(), getpid()); }

}  // namespace dagctl
