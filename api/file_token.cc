#include "api/file_token.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace dagctl::api {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// base64url (RFC 4648 §5) without padding.
std::string Encode(std::string_view in) {
  std::string out;
  uint32_t bits = 0;
  int n = 0;
  for (unsigned char c : in) {
    bits = (bits << 8) | c;
    n += 8;
    while (n >= 6) out += kAlphabet[(bits >> (n -= 6)) & 63];
  }
  if (n > 0) out += kAlphabet[(bits << (6 - n)) & 63];
  return out;
}

std::optional<std::string> Decode(std::string_view in) {
  std::string out;
  uint32_t bits = 0;
  int n = 0;
  for (char c : in) {
    size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    n += 6;
    if (n >= 8) out += static_cast<char>((bits >> (n -= 8)) & 255);
  }
  // What is left must be the zero bits Encode padded with, and fewer than a byte.
  if (n >= 6 || (bits & ((1u << n) - 1)) != 0) return std::nullopt;
  return out;
}

bool AllOf(std::string_view s, bool (*ok)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), ok);
}
bool IdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}
bool HexChar(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

std::string FileToken(const std::string& dag_id, const std::string& hash) {
  return Encode(dag_id + ":" + hash);
}

std::optional<VersionRef> ParseFileToken(const std::string& token) {
  if (token.size() > 1024) return std::nullopt;
  auto text = Decode(token);
  if (!text) return std::nullopt;
  size_t colon = text->find(':');
  if (colon == std::string::npos) return std::nullopt;
  VersionRef ref{text->substr(0, colon), text->substr(colon + 1)};
  if (!AllOf(ref.dag_id, IdChar) || !AllOf(ref.hash, HexChar)) return std::nullopt;
  return ref;
}

std::string LogContinuationToken(const LogToken& t) {
  return Encode("log:" + std::to_string(t.log_pos) + ":" + (t.end_of_log ? "1" : "0") +
                (t.download_logs ? "1" : "0"));
}

std::optional<LogToken> ParseLogToken(const std::string& token) {
  if (token.size() > 64) return std::nullopt;
  auto text = Decode(token);
  if (!text || text->rfind("log:", 0) != 0) return std::nullopt;
  size_t colon = text->rfind(':');
  std::string pos = text->substr(4, colon - 4), flags = text->substr(colon + 1);
  bool digits = AllOf(pos, [](char c) { return c >= '0' && c <= '9'; }) && pos.size() < 19;
  if (!digits || flags.size() != 2 || flags.find_first_not_of("01") != std::string::npos)
    return std::nullopt;
  return LogToken{std::stoll(pos), flags[0] == '1', flags[1] == '1'};
}

}  // namespace dagctl::api
