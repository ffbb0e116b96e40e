#include "operators/file_sensor.h"

#include <fmt/format.h>
#include <glob.h>

#include <nlohmann/json.hpp>

namespace dagctl {

const std::vector<ParamSpec>& FileSensor::params() const {
  static const std::vector<ParamSpec> kParams = {
      {"filepath", ParamType::kStringList, true, true, "Glob(s) to wait for."},
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
    channel.PushXCom("return_value", found.dump());
    return 0;
  };
  return launch;
}

}  // namespace dagctl
