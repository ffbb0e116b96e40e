// Several processes opening one new SQLite database at once (`dagctl serve &`
// then `dagctl trigger` on a new home): each gets it. Turning a new file to
// WAL needs it to itself, and SQLite does not wait (no busy handler) for that.
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/clock.h"
#include "engine/store/sql_conn.h"

using namespace dagctl;
namespace fs = std::filesystem;

TEST_CASE("connections opening a new SQLite database at once all get it, in WAL mode") {
  SystemClock clock;
  constexpr int kOpeners = 16;
  std::vector<std::string> errors;
  for (int round = 0; round < 20; ++round) {
    fs::path path = fs::temp_directory_path() /
                    ("dagctl_open_" + std::to_string(::getpid()) + "_" + std::to_string(round) + ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
    std::atomic<int> ready{0};
    std::mutex mu;
    std::vector<std::unique_ptr<SqlConnection>> conns;
    std::vector<std::thread> openers;
    for (int i = 0; i < kOpeners; ++i)
      openers.emplace_back([&] {
        ++ready;
        while (ready < kOpeners) std::this_thread::yield();
        auto conn = OpenSqliteConnection(path.string(), clock);
        std::lock_guard lock(mu);
        if (conn)
          conns.push_back(std::move(*conn));
        else
          errors.push_back(conn.error().message());
      });
    for (auto& t : openers) t.join();
    conns.clear();
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "wal");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
  }
  INFO((errors.empty() ? std::string() : errors.front()));
  CHECK(errors.size() == 0);
}
