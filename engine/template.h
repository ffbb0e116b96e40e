// Operator string templates: `{{ NAME }}`, dotted names, the macros ds_add and
// ds_format, and the `| quote` filter (SPEC §2 Templates). Pure: no I/O.
#pragma once

#include <string>
#include <vector>

#include "engine/error.h"

namespace dagctl {

/// Where template names get their values.
class TemplateScope {
 public:
  virtual ~TemplateScope() = default;
  /// The value of a dotted name split at dots: {"ds"}, {"params", "n"},
  /// {"xcom", "extract"}, {"conn", "db", "host"}. An unknown name is an
  /// InvalidArgument error whose message names it.
  virtual Result<std::string> Lookup(const std::vector<std::string>& path) const = 0;
};

/// Renders every `{{ expression }}` in `text`. An expression is a dotted name,
/// a quoted string, a number, or a macro call, followed by any filters
/// (`| quote`). Errors name the problem and the expression; nothing unknown is
/// ever rendered as an empty string.
Result<std::string> RenderTemplate(const std::string& text, const TemplateScope& scope);

/// `value` quoted for bash: 'it'\''s' style.
std::string ShellQuote(const std::string& value);

/// `ds` plus `days` days, both YYYY-MM-DD.
Result<std::string> DsAdd(const std::string& ds, long days);

/// Re-formats `ds` from strftime format `in` to `out` (`%Y-%m-%d` -> `%Y%m%d`).
Result<std::string> DsFormat(const std::string& ds, const std::string& in, const std::string& out);

}  // namespace dagctl
