// "Did you mean" hints for misspelled keys, operators and task ids.
#pragma once

#include <string>
#include <vector>

namespace dagctl {

/// The candidate closest to `word` by edit distance, if close enough to be a
/// plausible typo (distance at most a third of the word, and at least 1); else "".
std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates);

/// " (did you mean 'x'?)" for the closest candidate, or "" when none is close.
std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace dagctl
