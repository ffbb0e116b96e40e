// Phase one of loading: YAML text -> a Value tree that mirrors the file.
#pragma once

#include <optional>
#include <string>

#include "engine/diagnostics.h"
#include "engine/value.h"

namespace dagctl {

/// Parses YAML `text` into a Value tree with a line and column on every node.
/// Syntax errors and duplicate map keys are reported into `diags`; returns
/// nullopt when the text could not be read as one YAML document within the
/// limits (engine/limits.h): UTF-8 text without control characters, at most
/// kMaxDagFileBytes, kMaxYamlDepth levels of nesting and kMaxYamlNodes nodes
/// with every alias expanded. Never throws.
std::optional<Value> ReadYaml(const std::string& text, Diagnostics& diags);

}  // namespace dagctl
