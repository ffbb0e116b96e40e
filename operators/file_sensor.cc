#include "operators/file_sensor.h"

#include <fmt/format.h>
#include <glob.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/json_io.h"

namespace dagctl {

const std::vector<ParamSpec>& FileSensor::params() const {
  static const std::vector<ParamSpec> kParams = {
      {"filepath", ParamType::kStringList, true, true, "Glob(s) to wait for."},
      {"after_downstream_success", ParamType::kString, false, false, "delete or move."},
      {"move_to", ParamType::kString, false, true, "Where 'move' puts the files."},
  };
  return kParams;
}

Result<Launch> FileSensor::Prepare(const TryContext& ctx) const {
  std::vector<std::string> patterns;
  if (const Value* v = ctx.params.Find("filepath")) {
    if (v->IsScalar()) patterns.push_back(v->scalar);
    for (const Value& item : v->items) patterns.push_back(item.scalar);
  }
  Launch launch;
  launch.body = [patterns](TryChannel& channel) {
    nlohmann::json found = nlohmann::json::array();
    for (const std::string& pattern : patterns) {
      glob_t g{};
      if (glob(pattern.c_str(), 0, nullptr, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; ++i) found.push_back(g.gl_pathv[i]);
      globfree(&g);
    }
    std::string list;
    for (const auto& p : patterns) list += (list.empty() ? "" : ", ") + p;
    if (found.empty()) {
      fmt::print(stderr, "file_sensor: nothing matches {} yet\n", list);
      return kSensorNotYet;
    }
    fmt::print(stderr, "file_sensor: {} matches {}\n", found.size(), list);
    channel.PushXCom("return_value", DumpJson(found));
    return 0;
  };
  return launch;
}

void FileSensor::Validate(const Value& params, Diagnostics& diags) const {
  const Value* after = params.Find("after_downstream_success");
  if (!after || !after->IsScalar()) return;
  if (after->scalar != "delete" && after->scalar != "move")
    diags.Error(after->mark, "'after_downstream_success' must be delete or move, not '" + after->scalar + "'");
  else if (after->scalar == "move" && !params.Find("move_to"))
    diags.Error(after->mark, "'after_downstream_success: move' needs 'move_to' (a folder)");
}

Result<Launch> FileSensor::AfterDownstreamSuccess(const TryContext& ctx,
                                                  const std::string& return_value) const {
  bool move = ctx.params.Find("after_downstream_success")->scalar == "move";
  const Value* to = ctx.params.Find("move_to");
  std::string folder = to ? to->scalar : "";
  auto found = nlohmann::json::parse(return_value, nullptr, false);
  std::vector<std::string> paths;
  if (found.is_array())
    for (const auto& p : found)
      if (p.is_string()) paths.push_back(p.get<std::string>());
  Launch launch;
  launch.body = [paths, move, folder](TryChannel&) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (move) fs::create_directories(folder, ec);
    int failures = 0;
    for (const std::string& p : paths) {
      fs::path target = fs::path(folder) / fs::path(p).filename();
      if (move) {
        fs::rename(p, target, ec);
        if (ec) {  // another filesystem: copy, then remove
          ec.clear();
          fs::copy_file(p, target, fs::copy_options::overwrite_existing, ec);
          if (!ec) fs::remove(p, ec);
        }
      } else {
        fs::remove(p, ec);
      }
      if (ec) {
        ++failures;
        fmt::print(stderr, "file_sensor: cannot {} {}: {}\n", move ? "move" : "delete", p, ec.message());
      } else {
        fmt::print(stderr, "file_sensor: {} {}{}\n", move ? "moved" : "deleted", p,
                   move ? " to " + target.string() : "");
      }
    }
    return failures ? 1 : 0;
  };
  return launch;
}

}  // namespace dagctl
