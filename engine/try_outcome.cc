#include "engine/try_outcome.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "engine/try_runner.h"

namespace dagctl {

std::string TryOutcomePath(const std::string& log_path) {
  std::string p = log_path;
  if (p.size() > 4 && p.compare(p.size() - 4, 4, ".log") == 0) p.resize(p.size() - 4);
  return p + ".outcome";
}

std::string TryOutcomeTag(const TaskInstanceRecord& ti) {
  int64_t start = ti.start_date ? ti.start_date->time_since_epoch().count() : 0;
  return fmt::format("{} {} {} {}", ti.try_number, ti.fence, start, ti.worker);
}

// The format (written by the keeper with system calls only):
//   dagctl-try-outcome 1\n tag <tag>\n exit <n>\n | signal <n>\n return_value <len>\n<bytes>
//   [channel <len>\n<bytes>] end\n
// (the channel: what an operator's body pushed, as it went to the engine).
Result<TryOutcomeFile> ReadTryOutcome(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::NotFound(fmt::format("{}: no outcome file", path)));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseTryOutcome(ss.str(), path);
}

Result<TryOutcomeFile> ParseTryOutcome(const std::string& data, const std::string& path) {
  auto bad = [&] {
    return Fail(Error::InvalidArgument(fmt::format("{}: not a whole try outcome file", path)));
  };
  size_t pos = 0;
  auto line = [&](std::string& out) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) return false;
    out = data.substr(pos, nl - pos);
    pos = nl + 1;
    return true;
  };
  std::string header, tag, status, rv;
  if (!line(header) || header != "dagctl-try-outcome 1") return bad();
  if (!line(tag) || tag.rfind("tag ", 0) != 0) return bad();
  if (!line(status) || !line(rv) || rv.rfind("return_value ", 0) != 0) return bad();
  TryOutcomeFile f;
  f.tag = tag.substr(4);
  if (status.rfind("exit ", 0) == 0)
    f.exit_code = std::atoi(status.c_str() + 5);
  else if (status.rfind("signal ", 0) == 0)
    f.term_signal = std::atoi(status.c_str() + 7);
  else
    return bad();
  // A length is checked against what is left before it is used.
  auto bytes = [&](const std::string& len_text, std::string& out) {
    char* end = nullptr;
    unsigned long long len = std::strtoull(len_text.c_str(), &end, 10);
    if (len_text.empty() || *end || len > data.size() - pos) return false;
    out = data.substr(pos, len);
    pos += len;
    return true;
  };
  if (!bytes(rv.substr(13), f.return_value)) return bad();
  if (data.compare(pos, 8, "channel ") == 0) {
    std::string channel, pushed;
    if (!line(channel) || !bytes(channel.substr(8), pushed)) return bad();
    f.xcom = ParseTryChannel(pushed);
  }
  if (pos + 4 != data.size() || data.compare(pos, 4, "end\n") != 0) return bad();
  return f;
}

}  // namespace dagctl
