// The plug-in ABI: a shared library that adds operators to dagctl.
//
//   #include "operators/plugin.h"
//   static void Register(dagctl::OperatorRegistry& r) {
//     (void)r.Register(std::make_unique<MyOperator>());
//   }
//   DAGCTL_PLUGIN(Register)
//
// dagctl loads every `*.so` in $DAGCTL_HOME/plugins and in --plugins DIR.
// A plug-in must be built against the same dagctl SDK version (the ABI
// version is checked at load) with the same compiler and C++ library.
#pragma once

#include "operators/operator.h"

/// Bumped whenever the Operator interface or what it uses changes shape.
#define DAGCTL_PLUGIN_ABI_VERSION 1

#define DAGCTL_PLUGIN(register_fn)                                                \
  extern "C" __attribute__((visibility("default"))) int dagctl_plugin_abi_version() { \
    return DAGCTL_PLUGIN_ABI_VERSION;                                             \
  }                                                                               \
  extern "C" __attribute__((visibility("default"))) void dagctl_register_operators( \
      dagctl::OperatorRegistry* registry) {                                       \
    register_fn(*registry);                                                       \
  }

namespace dagctl {

/// Loads every `*.so` in `dir` (a missing folder is fine) and lets each
/// register its operators. Returns one message per plug-in that could not be
/// loaded (unreadable, wrong ABI version, no registration function, a name
/// already taken); the others stay loaded. Never throws.
std::vector<std::string> LoadPlugins(const std::string& dir, OperatorRegistry& registry);

}  // namespace dagctl
