#include "cli/progress.h"

#include <fmt/format.h>

#include "cli/output.h"

namespace dagctl::cli {

ProgressPrinter::ProgressPrinter(const Dag& dag, bool live)
    : dag_(dag), live_(live), start_(std::chrono::steady_clock::now()) {
  if (!live_) return;
  ticker_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      Draw();
      cv_.wait_for(lock, std::chrono::milliseconds(250));
    }
  });
}

ProgressPrinter::~ProgressPrinter() { Stop(); }

void ProgressPrinter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  if (live_) fmt::print(stderr, "\r\033[K");
}

double ProgressPrinter::Elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressPrinter::Draw() {
  std::string names;
  size_t shown = 0;
  for (const std::string& r : running_) {
    if (shown++ == 3) break;
    names += (names.empty() ? "" : ", ") + r;
  }
  if (running_.size() > 3) names += fmt::format(" (+{})", running_.size() - 3);
  std::string line = fmt::format("[{}/{}] {:.1f}s  running: {}", done_,
                                 dag_.tasks.size() + mapped_.size() - mapped_tasks_.size(),
                                 Elapsed(), names.empty() ? "-" : names);
  if (retries_) line += fmt::format("  retries: {}", retries_);
  fmt::print(stderr, "\r\033[K{}", line);
  std::fflush(stderr);
}

void ProgressPrinter::Event(const std::string& line) {
  if (live_) {
    fmt::print(stderr, "\r\033[K{}\n", line);
    Draw();
  } else {
    fmt::print(stderr, "[{:8.2f}s] {}\n", Elapsed(), line);
  }
  std::fflush(stderr);
}

void ProgressPrinter::TryStarted(const TiKey& task, int try_number, const std::string&) {
  std::lock_guard<std::mutex> lock(mu_);
  Count(task);
  running_.insert(TaskLabel(task));
  if (!live_)
    Event(fmt::format("{} running (try {})", TaskLabel(task), try_number));
  else
    Draw();
}

void ProgressPrinter::TryEnded(const TiKey& task, int try_number, TaskState state,
                               const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  Count(task);
  running_.erase(TaskLabel(task));
  if (state == TaskState::kUpForRetry) {
    ++retries_;
    Event(fmt::format("{} try {} failed: {}; will retry", TaskLabel(task), try_number, error));
    return;
  }
  if (state == TaskState::kUpForReschedule) return;
  ++done_;
  if (state == TaskState::kFailed)
    Event(fmt::format("{} failed on try {}: {}", TaskLabel(task), try_number, error));
  else if (!live_)
    Event(fmt::format("{} {}", TaskLabel(task), TaskStateName(state)));
  else
    Draw();
}

void ProgressPrinter::TaskDecided(const TiKey& task, TaskState state) {
  std::lock_guard<std::mutex> lock(mu_);
  Count(task);
  ++done_;
  if (!live_) Event(fmt::format("{} {}", TaskLabel(task), TaskStateName(state)));
}

// A mapped task counts as many task instances as it has, once they are known.
void ProgressPrinter::Count(const TiKey& task) {
  if (task.map_index < 0) return;
  mapped_.insert({task.task_id, task.map_index});
  mapped_tasks_.insert(task.task_id);
}

void ProgressPrinter::RunEnded(const DagRunRecord& run, const std::string& why) {
  // A run its tasks did not end (a dagrun_timeout) says why.
  std::lock_guard<std::mutex> lock(mu_);
  if (!why.empty()) Event(fmt::format("run {}: {}", RunStateName(run.state), why));
}

}  // namespace dagctl::cli
