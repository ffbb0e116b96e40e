#include "engine/template.h"

#include <date/date.h>
#include <fmt/format.h>

#include <cctype>
#include <ctime>
#include <sstream>

#include "engine/limits.h"
#include "engine/text.h"
#include "engine/value.h"

namespace dagctl {
namespace {

// A recursive-descent reader of one `{{ ... }}` expression:
//   expr   := term ('|' name)*
//   term   := string | number | name '(' [expr (',' expr)*] ')' | name ('.' name)*
class ExprParser {
 public:
  ExprParser(const std::string& src, const TemplateScope& scope) : src_(src), scope_(scope) {}

  Result<std::string> Parse() {
    auto v = Expr();
    if (!v) return v;
    SkipSpace();
    if (pos_ != src_.size()) return Bad(fmt::format("unexpected '{}'", Shorten(src_.substr(pos_))));
    return v;
  }

 private:
  std::unexpected<Error> Bad(const std::string& why) {
    return Fail(Error::InvalidArgument(
        fmt::format("template '{{{{ {} }}}}': {}", Shorten(Trim(src_)), why)));
  }

  static std::string Trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\n"), e = s.find_last_not_of(" \t\n");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
  }

  void SkipSpace() {
    while (pos_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[pos_]))) ++pos_;
  }

  bool Eat(char c) {
    SkipSpace();
    if (pos_ < src_.size() && src_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::string Name() {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) ||
                                  src_[pos_] == '_' || src_[pos_] == '-'))
      ++pos_;
    return src_.substr(start, pos_ - start);
  }

  // Macro calls nest Expr -> Term -> Call -> Expr: bounded, so no input can
  // run the stack out.
  Result<std::string> Expr() {
    if (++depth_ > limits::kMaxTemplateDepth)
      return Bad(
          fmt::format("expressions nest more than {} levels deep", limits::kMaxTemplateDepth));
    auto v = Term();
    --depth_;
    if (!v) return v;
    while (Eat('|')) {
      std::string filter = Name();
      if (filter == "quote")
        v = ShellQuote(*v);
      else if (filter == "upper")
        for (char& c : *v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      else if (filter == "lower")
        for (char& c : *v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      else
        return Bad(
            fmt::format("unknown filter '{}' (known: quote, upper, lower)", Shorten(filter)));
    }
    return v;
  }

  Result<std::string> Term() {
    SkipSpace();
    if (pos_ >= src_.size()) return Bad("empty expression");
    char c = src_[pos_];
    if (c == '\'' || c == '"') return StringLiteral(c);
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-') return Number();
    std::string name = Name();
    if (name.empty()) return Bad(fmt::format("unexpected '{}'", c));
    if (Eat('(')) return Call(name);
    std::vector<std::string> path{name};
    while (Eat('.')) {
      std::string part = Name();
      if (part.empty()) return Bad("a name must follow '.'");
      path.push_back(part);
    }
    auto v = scope_.Lookup(path);
    if (!v && IsStoreFault(v.error()))  // the store (XCom) failed, not the template
      return Fail(Error(v.error().code(), fmt::format("template '{{{{ {} }}}}': {}",
                                                      Shorten(Trim(src_)), v.error().message())));
    if (!v) return Bad(v.error().message());
    return v;
  }

  Result<std::string> StringLiteral(char quote) {
    std::string out;
    for (++pos_; pos_ < src_.size(); ++pos_) {
      if (src_[pos_] == quote) {
        ++pos_;
        return out;
      }
      if (src_[pos_] == '\\' && pos_ + 1 < src_.size()) ++pos_;
      out += src_[pos_];
    }
    return Bad("unterminated string");
  }

  Result<std::string> Number() {
    size_t start = pos_++;
    while (pos_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_]))) ++pos_;
    return src_.substr(start, pos_ - start);
  }

  Result<std::string> Call(const std::string& fn) {
    std::vector<std::string> args;
    if (!Eat(')')) {
      do {
        auto a = Expr();
        if (!a) return a;
        args.push_back(*a);
      } while (Eat(','));
      if (!Eat(')')) return Bad("expected ')'");
    }
    Result<std::string> r = Bad("");
    if (fn == "ds_add") {
      if (args.size() != 2) return Bad("ds_add takes (ds, days)");
      auto n = ScalarAsInt(args[1]);
      if (!n)
        return Bad(fmt::format("ds_add: '{}' is not a whole number of days", Shorten(args[1])));
      r = DsAdd(args[0], static_cast<long>(*n));
    } else if (fn == "ds_format") {
      if (args.size() != 3) return Bad("ds_format takes (ds, input_format, output_format)");
      r = DsFormat(args[0], args[1], args[2]);
    } else {
      return Bad(fmt::format("unknown macro '{}' (known: ds_add, ds_format)", Shorten(fn)));
    }
    if (!r) return Bad(r.error().message());
    return r;
  }

  const std::string& src_;
  const TemplateScope& scope_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<std::string> RenderTemplate(const std::string& text, const TemplateScope& scope) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    if (open == std::string::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos)
      return Fail(Error::InvalidArgument(
          fmt::format("template: '{{{{' at offset {} is never closed with '}}}}'", open)));
    out.append(text, pos, open - pos);
    std::string expr = text.substr(open + 2, close - open - 2);
    auto v = ExprParser(expr, scope).Parse();
    if (!v) return v;
    out += *v;
    pos = close + 2;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

std::string ShellQuote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

Result<std::string> DsAdd(const std::string& ds, long days) {
  std::istringstream in(ds);
  date::sys_days d;
  in >> date::parse("%Y-%m-%d", d);
  if (in.fail() || ds.size() != 10)
    return Fail(Error::InvalidArgument(fmt::format("'{}' is not a YYYY-MM-DD date", Shorten(ds))));
  if (days < -limits::kMaxDsAddDays || days > limits::kMaxDsAddDays)
    return Fail(Error::InvalidArgument(fmt::format(
        "ds_add: {} days is too far (at most {} either way)", days, limits::kMaxDsAddDays)));
  return date::format("%Y-%m-%d", d + date::days(days));
}

Result<std::string> DsFormat(const std::string& ds, const std::string& in_fmt,
                             const std::string& out_fmt) {
  std::tm tm{};
  const char* end = strptime(ds.c_str(), in_fmt.c_str(), &tm);
  if (!end || end != ds.c_str() + ds.size())
    return Fail(Error::InvalidArgument(
        fmt::format("'{}' does not match format '{}'", Shorten(ds), Shorten(in_fmt))));
  char buf[256];
  size_t n = std::strftime(buf, sizeof buf, out_fmt.c_str(), &tm);
  if (n == 0 && !out_fmt.empty())
    return Fail(Error::InvalidArgument(fmt::format("cannot format with '{}'", Shorten(out_fmt))));
  return std::string(buf, n);
}

}  // namespace dagctl
