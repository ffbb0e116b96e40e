// Runs the real dagctl binary with a private home and captures what it says.
#pragma once

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace dagctl::testing {

struct Output {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A fresh DAGCTL_HOME for one test, removed afterwards.
class Sandbox {
 public:
  Sandbox() {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("dagctl_it_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "work");
  }
  ~Sandbox() { std::filesystem::remove_all(dir_); }

  std::filesystem::path work() const { return dir_ / "work"; }
  std::filesystem::path home() const { return dir_ / "home"; }

  /// Runs `dagctl ARGS` (a shell-quoted string) with the fixtures' DAGs folder.
  Output Dagctl(const std::string& args, const std::string& dags = FIXTURES_DIR "/dags") const {
    std::string out = (dir_ / "stdout").string(), err = (dir_ / "stderr").string();
    std::string cmd = "DAGCTL_HOME='" + home().string() + "' DAGCTL_DAGS='" + dags + "' " +
                      DAGCTL_BIN + " " + args + " >" + out + " 2>" + err + " </dev/null";
    int status = std::system(cmd.c_str());
    Output o;
    o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    o.out = ReadFile(out);
    o.err = ReadFile(err);
    return o;
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace dagctl::testing
