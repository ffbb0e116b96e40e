#include "engine/yaml_reader.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <set>
#include <sstream>

#include "engine/limits.h"
#include "engine/text.h"

namespace dagctl {
namespace {

Mark MarkOf(const YAML::Mark& m) { return {m.line + 1, m.column + 1}; }

// Why reading stopped early; thrown by the event handler and caught in
// ReadYaml, never past this file.
struct Stop {
  Mark mark;
  std::string message;
};

// Builds the Value tree from yaml-cpp's parse events, rather than from a
// YAML::Node, so that limits apply while parsing: nesting depth, and the
// node count with every alias expanded (a few lines of anchors can stand
// for billions of nodes). An alias to a node that is still open (`&a [*a]`)
// would make a tree that contains itself; it is an error.
class Builder : public YAML::EventHandler {
 public:
  explicit Builder(Diagnostics& diags) : diags_(diags) {}

  std::optional<Value> root;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (documents_++ > 0)
      throw Stop{MarkOf(mark),
                 "a second YAML document starts here; the file must hold one document"};
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Value v;
    v.mark = MarkOf(mark);
    Count(v.mark, 1);
    Finish(std::move(v), 1, anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end())
      throw Stop{MarkOf(mark), "an alias may not refer to a node that contains it"};
    Count(MarkOf(mark), it->second.second);
    Finish(it->second.first, it->second.second, YAML::NullAnchor);
  }

  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    Count(MarkOf(mark), 1);
    Finish(Value::Scalar(value, MarkOf(mark)), 1, anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, Value::Kind::kSequence, anchor);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, Value::Kind::kMap, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  // A sequence or map being read, and for a map the key awaiting its value.
  struct Container {
    Value value;
    YAML::anchor_t anchor;
    size_t nodes = 1;  // this node and everything in it
    bool have_key = false;
    bool drop_value = false;  // the key was bad: read its value, keep nothing
    MapEntry entry;
    std::set<std::string> keys;
  };

  void Count(Mark mark, size_t n) {
    nodes_ += n;
    if (nodes_ > limits::kMaxYamlNodes)
      throw Stop{mark, fmt::format("the document has more than {} YAML nodes (aliases counted "
                                   "once per use); split it or use fewer aliases",
                                   limits::kMaxYamlNodes)};
  }

  void Open(const YAML::Mark& mark, Value::Kind kind, YAML::anchor_t anchor) {
    if (stack_.size() >= static_cast<size_t>(limits::kMaxYamlDepth))
      throw Stop{MarkOf(mark), fmt::format("lists and maps are nested more than {} levels deep",
                                           limits::kMaxYamlDepth)};
    Count(MarkOf(mark), 1);
    Container c;
    c.value.kind = kind;
    c.value.mark = MarkOf(mark);
    c.anchor = anchor;
    stack_.push_back(std::move(c));
  }

  void Close() {
    Container c = std::move(stack_.back());
    stack_.pop_back();
    Finish(std::move(c.value), c.nodes, c.anchor);
  }

  // A complete node: remember it under its anchor, then hand it to its parent.
  void Finish(Value v, size_t nodes, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) {
      Count(v.mark, nodes);  // the copy kept for aliases
      anchors_[anchor] = {v, nodes};
    }
    if (stack_.empty()) {
      root = std::move(v);
      return;
    }
    Container& parent = stack_.back();
    parent.nodes += nodes;
    if (parent.value.IsSequence())
      parent.value.items.push_back(std::move(v));
    else if (!parent.have_key)
      TakeKey(parent, std::move(v));
    else
      TakeValue(parent, std::move(v));
  }

  void TakeKey(Container& map, Value key) {
    map.have_key = true;
    map.entry = MapEntry{};
    map.entry.key_mark = key.mark;
    map.drop_value = true;
    if (!key.IsScalar()) {
      diags_.Error(key.mark, "map keys must be plain strings");
    } else if (!map.keys.insert(key.scalar).second) {
      diags_.Error(key.mark, "duplicate key '" + Shorten(key.scalar) + "'");
    } else {
      map.entry.key = std::move(key.scalar);
      map.drop_value = false;
    }
  }

  void TakeValue(Container& map, Value value) {
    map.have_key = false;
    if (map.drop_value) return;
    map.entry.value = std::move(value);
    if (map.entry.value.mark.line == 0) map.entry.value.mark = map.entry.key_mark;
    map.value.entries.push_back(std::move(map.entry));
  }

  Diagnostics& diags_;
  std::vector<Container> stack_;
  std::map<YAML::anchor_t, std::pair<Value, size_t>> anchors_;
  size_t nodes_ = 0;
  int documents_ = 0;
};

// The line and column of byte `offset` of `text`.
Mark MarkAt(const std::string& text, size_t offset) {
  Mark m{1, 1};
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++m.line;
      m.column = 1;
    } else {
      ++m.column;
    }
  }
  return m;
}

// YAML is text: UTF-8 without control characters other than tab, CR and LF.
bool CheckText(const std::string& text, Diagnostics& diags) {
  if (auto bad = FindInvalidUtf8(text)) {
    diags.Error(MarkAt(text, *bad),
                fmt::format("invalid UTF-8 (byte 0x{:02x}): the file must be UTF-8 text",
                            static_cast<unsigned char>(text[*bad])));
    return false;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      diags.Error(MarkAt(text, i),
                  fmt::format("control character 0x{:02x} is not allowed in YAML (is this a binary "
                              "file?)",
                              c));
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<Value> ReadYaml(const std::string& text, Diagnostics& diags) {
  if (text.size() > limits::kMaxDagFileBytes) {
    diags.Error({1, 1}, fmt::format("the file is {} bytes, over the {} MiB limit", text.size(),
                                    limits::kMaxDagFileBytes >> 20));
    return std::nullopt;
  }
  if (!CheckText(text, diags)) return std::nullopt;
  Builder builder(diags);
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    parser.HandleNextDocument(builder);
    parser.HandleNextDocument(builder);  // a second document stops in OnDocumentStart
  } catch (const Stop& s) {
    diags.Error(s.mark, s.message);
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    diags.Error(MarkOf(e.mark), "invalid YAML: " + e.msg);
    return std::nullopt;
  } catch (const std::exception& e) {
    diags.Error({1, 1}, std::string("invalid YAML: ") + e.what());
    return std::nullopt;
  }
  return builder.root ? std::move(*builder.root) : Value{};
}

}  // namespace dagctl
