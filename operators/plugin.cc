#include "operators/plugin.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace dagctl {

namespace fs = std::filesystem;

std::vector<std::string> LoadPlugins(const std::string& dir, OperatorRegistry& registry) {
  std::vector<std::string> problems;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return problems;
  std::vector<fs::path> libs;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".so") libs.push_back(e.path());
  std::sort(libs.begin(), libs.end());
  for (const fs::path& lib : libs) {
    void* handle = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      problems.push_back(fmt::format("plugin {}: cannot load: {}", lib.string(), dlerror()));
      continue;
    }
    auto version = reinterpret_cast<int (*)()>(dlsym(handle, "dagctl_plugin_abi_version"));
    auto reg = reinterpret_cast<void (*)(OperatorRegistry*)>(dlsym(handle, "dagctl_register_operators"));
    if (!version || !reg) {
      problems.push_back(fmt::format(
          "plugin {}: not a dagctl plug-in (no DAGCTL_PLUGIN registration)", lib.string()));
      dlclose(handle);
      continue;
    }
    if (version() != DAGCTL_PLUGIN_ABI_VERSION) {
      problems.push_back(fmt::format(
          "plugin {}: built for plug-in ABI {}, this dagctl has {}; rebuild it against this SDK",
          lib.string(), version(), DAGCTL_PLUGIN_ABI_VERSION));
      dlclose(handle);
      continue;
    }
    // Into a scratch registry first: a clash with a known name is reported,
    // and the plug-in's other operators still register.
    OperatorRegistry scratch;
    reg(&scratch);
    for (const std::string& name : scratch.Names()) {
      auto st = registry.Register(scratch.Take(name));
      if (!st) problems.push_back(fmt::format("plugin {}: {}", lib.string(), st.error().message()));
    }
    // The library stays loaded: its operators live in `registry` from now on.
  }
  return problems;
}

}  // namespace dagctl
