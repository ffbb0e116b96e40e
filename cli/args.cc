#include "cli/args.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/suggest.h"

namespace dagctl::cli {

bool Args::Flag(const std::string& name) const {
  return std::find(flags.begin(), flags.end(), name) != flags.end();
}

std::optional<std::string> Args::Option(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> Args::All(const std::string& name) const {
  auto it = options.find(name);
  return it == options.end() ? std::vector<std::string>{} : it->second;
}

Result<Args> ParseArgs(const CommandSpec& spec, const std::vector<std::string>& argv) {
  Args args;
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  auto bad = [&](const std::string& why) {
    return Fail(Error::InvalidArgument(
        fmt::format("dagctl {}: {}\nusage: dagctl {} {}", spec.name, why, spec.name, spec.usage)));
  };
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string a = argv[i];
    if (a.size() < 2 || a[0] != '-' || a == "--") {
      args.positional.push_back(a);
      continue;
    }
    std::optional<std::string> value;
    if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    if (has(spec.flags, a)) {
      if (value) return bad(fmt::format("option '{}' takes no value", a));
      args.flags.push_back(a);
    } else if (has(spec.options, a)) {
      if (!value) {
        if (i + 1 >= argv.size()) return bad(fmt::format("option '{}' needs a value", a));
        value = argv[++i];
      }
      args.options[a].push_back(*value);
    } else {
      std::vector<std::string> known = spec.options;
      known.insert(known.end(), spec.flags.begin(), spec.flags.end());
      return bad(fmt::format("unknown option '{}'{}", a, DidYouMean(a, known)));
    }
  }
  if (args.positional.size() < spec.min_positional) return bad("missing argument");
  if (args.positional.size() > spec.max_positional)
    return bad(fmt::format("unexpected argument '{}'", args.positional[spec.max_positional]));
  return args;
}

std::optional<Args> ParseOrReport(const CommandSpec& spec, const std::vector<std::string>& argv) {
  auto args = ParseArgs(spec, argv);
  if (!args) {
    fmt::print(stderr, "{}\n", args.error().message());
    return std::nullopt;
  }
  return *args;
}

}  // namespace dagctl::cli
