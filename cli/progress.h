// What `dagctl run` shows while a run goes: a live status line on a terminal,
// plain lines otherwise. A user-facing channel, not the log.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "engine/dag.h"
#include "engine/run_observer.h"

namespace dagctl::cli {

class ProgressPrinter : public RunObserver {
 public:
  /// `live`: redraw one status line (a terminal); else print a line per event.
  ProgressPrinter(const Dag& dag, bool live);
  ~ProgressPrinter() override;

  void TryStarted(const TiKey& ti, int try_number, const std::string& worker) override;
  void TryEnded(const TiKey& ti, int try_number, TaskState state,
                const std::string& error) override;
  void TaskDecided(const TiKey& ti, TaskState state) override;
  void RunEnded(const DagRunRecord& run, const std::string& why) override;

  /// Stops the live line; call before printing anything else.
  void Stop();

 private:
  void Event(const std::string& line);  // a permanent line, above the status line
  void Draw();                          // the status line; mutex held
  double Elapsed() const;
  void Count(const TiKey& task);       // mutex held

  const Dag& dag_;
  bool live_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  size_t done_ = 0;
  int retries_ = 0;
  std::set<std::string> running_;
  std::set<std::pair<std::string, int>> mapped_;  // mapped instances seen
  std::set<std::string> mapped_tasks_;            // their tasks
  std::thread ticker_;
};

}  // namespace dagctl::cli
