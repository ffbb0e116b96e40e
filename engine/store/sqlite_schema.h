#pragma once

#include <vector>

namespace dagctl {

/// The SQL of each schema migration; migration i takes user_version i to i+1.
const std::vector<const char*>& SqliteMigrations();

}  // namespace dagctl
