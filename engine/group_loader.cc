#include "engine/group_loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "engine/limits.h"
#include "engine/suggest.h"
#include "engine/text.h"

namespace dagctl {

std::string GroupIdProblem(const std::string& id) {
  if (id.size() > limits::kMaxIdLength)
    return fmt::format("group '{}' is {} characters long; the limit is {}", Shorten(id), id.size(),
                       limits::kMaxIdLength);
  bool chars_ok = std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
  if (chars_ok && !id.empty() && id.front() != '.' && id.back() != '.' &&
      id.find("..") == std::string::npos)
    return "";
  return fmt::format(
      "group '{}' may only use letters, digits, '_' and '-', with '.' between nested groups",
      Shorten(id));
}

namespace {

const std::vector<std::string> kGroupKeys = {"depends_on", "tooltip"};

// Builds one DAG's groups and resolves its dependencies, collecting errors.
class GroupLoader {
 public:
  GroupLoader(Dag& dag, Diagnostics& diags) : dag_(dag), diags_(diags) {}

  std::vector<Dependency> Load(const Value* task_groups);

 private:
  void Error(Mark m, std::string msg) { diags_.Error(m, std::move(msg)); }
  std::string Hint(const std::string& word, const std::vector<std::string>& known) const {
    return diags_.full() ? "" : DidYouMean(word, known);
  }

  void AddTask(size_t i);
  size_t Ensure(const std::string& id, Mark mark);
  void LoadSpec(const Value& spec);
  void LoadSpecEntry(const MapEntry& e);
  void LoadGroupKey(const MapEntry& e, const std::string& where, TaskGroup& g);
  void CheckCollisions();
  void ResolveDeps(const std::vector<std::string>& names, const std::string& scope, Mark mark,
                   const std::string& where, NodeRef to, std::vector<Dependency>& deps);
  std::string Forbidden(NodeRef from, NodeRef to) const;
  std::optional<NodeRef> Resolve(const std::string& scope, const std::string& name, Mark mark,
                                 const std::string& where);
  std::vector<std::string> Names(const std::string& scope) const;

  Dag& dag_;
  Diagnostics& diags_;
};

std::vector<Dependency> GroupLoader::Load(const Value* task_groups) {
  for (size_t i = 0; i < dag_.tasks.size(); ++i)
    if (!dag_.tasks[i].group.empty()) AddTask(i);
  if (task_groups) LoadSpec(*task_groups);
  CheckCollisions();
  std::vector<Dependency> deps;
  for (size_t i = 0; i < dag_.tasks.size(); ++i) {
    const Task& t = dag_.tasks[i];
    ResolveDeps(t.depends_on, t.group, t.depends_on_mark,
                fmt::format("tasks[{}]: depends_on: ", t.file_index), {false, i}, deps);
  }
  // A group's depends_on names what its roots wait for, as a task beside
  // the group would name it.
  for (size_t g = 0; g < dag_.groups.size(); ++g) {
    const TaskGroup& group = dag_.groups[g];
    ResolveDeps(group.depends_on, group.parent, group.depends_on_mark,
                fmt::format("task_groups.{}: depends_on: ", group.id), {true, g}, deps);
  }
  return deps;
}

// Puts task i into its group and every group that group is in.
void GroupLoader::AddTask(size_t i) {
  const Task& t = dag_.tasks[i];
  for (size_t end = t.group.find('.');; end = t.group.find('.', end + 1)) {
    dag_.groups[Ensure(t.group.substr(0, end), t.group_mark)].tasks.push_back(i);
    if (end == std::string::npos) break;
  }
}

size_t GroupLoader::Ensure(const std::string& id, Mark mark) {
  auto [it, fresh] = dag_.group_index.emplace(id, dag_.groups.size());
  if (fresh) {
    TaskGroup g;
    g.id = id;
    size_t dot = id.rfind('.');
    g.parent = dot == std::string::npos ? "" : id.substr(0, dot);
    g.mark = mark;
    dag_.groups.push_back(std::move(g));
  }
  return it->second;
}

void GroupLoader::LoadSpec(const Value& spec) {
  if (spec.IsNull()) return;
  if (!spec.IsMap()) {
    Error(spec.mark, "'task_groups' must be a map of group id: {depends_on, tooltip}");
    return;
  }
  for (const MapEntry& e : spec.entries) LoadSpecEntry(e);
}

void GroupLoader::LoadSpecEntry(const MapEntry& e) {
  if (std::string problem = GroupIdProblem(e.key); !problem.empty()) {
    Error(e.key_mark, "task_groups: " + problem);
    return;
  }
  auto it = dag_.group_index.find(e.key);
  if (it == dag_.group_index.end()) {
    std::vector<std::string> ids;
    for (const TaskGroup& g : dag_.groups) ids.push_back(g.id);
    std::string hint = Hint(e.key, ids);
    Error(e.key_mark,
          fmt::format("task_groups: no task is in group '{}'{}", e.key,
                      hint.empty() ? fmt::format(" (give tasks 'group: {}')", e.key) : hint));
    return;
  }
  std::string where = fmt::format("task_groups.{}: ", e.key);
  if (e.value.IsNull()) return;
  if (!e.value.IsMap()) {
    Error(e.value.mark, where + "must be a map with 'depends_on' and/or 'tooltip'");
    return;
  }
  for (const MapEntry& key : e.value.entries) LoadGroupKey(key, where, dag_.groups[it->second]);
}

void GroupLoader::LoadGroupKey(const MapEntry& e, const std::string& where, TaskGroup& g) {
  if (e.key == "tooltip") {
    if (e.value.IsScalar())
      g.tooltip = e.value.scalar;
    else
      Error(e.value.mark,
            fmt::format("{}'tooltip' must be a string, not {}", where, e.value.KindName()));
  } else if (e.key == "depends_on") {
    g.depends_on_mark = e.value.mark;
    if (e.value.IsScalar()) g.depends_on = {e.value.scalar};
    for (const Value& item : e.value.items) {
      if (item.IsScalar())
        g.depends_on.push_back(item.scalar);
      else
        Error(item.mark, where + "'depends_on' items must be strings");
    }
    if (e.value.IsMap())
      Error(e.value.mark, where + "'depends_on' must be a string or a list of strings");
  } else {
    Error(e.key_mark,
          fmt::format("{}unknown key '{}'{}", where, Shorten(e.key), Hint(e.key, kGroupKeys)));
  }
}

// A group and a task cannot share an id (Airflow's DuplicateTaskIdFound).
void GroupLoader::CheckCollisions() {
  for (const TaskGroup& g : dag_.groups) {
    const Task* t = dag_.FindTask(g.id);
    if (!t) continue;
    Error(g.mark, fmt::format("tasks[{}]: group '{}' has the id of task '{}' (line {}); a group "
                              "and a task cannot share an id",
                              dag_.tasks[g.tasks.front()].file_index, g.id, t->id, t->mark.line));
  }
}

// Resolves `names`, written in group `scope`, as upstreams of `to` (a task,
// or a group's roots); `where` starts each message.
void GroupLoader::ResolveDeps(const std::vector<std::string>& names, const std::string& scope,
                              Mark mark, const std::string& where, NodeRef to,
                              std::vector<Dependency>& deps) {
  for (const std::string& name : names) {
    auto ref = Resolve(scope, name, mark, where);
    if (!ref) continue;
    if (std::string why = Forbidden(*ref, to); !why.empty())
      Error(mark, fmt::format("{}'{}' {}", where, Shorten(name), why));
    else
      deps.push_back({*ref, to});
  }
}

// Why `from` cannot be upstream of `to`, one being inside the other; "" when
// it can.
std::string GroupLoader::Forbidden(NodeRef from, NodeRef to) const {
  if (!to.group)
    return from.group && InGroup(dag_.tasks[to.index], dag_.groups[from.index].id)
               ? "is a group this task is in (a task cannot wait for its own group)"
               : "";
  const std::string& group = dag_.groups[to.index].id;
  const std::string& id = NodeId(dag_, from);
  bool inside = from.group ? IsInside(id, group) : InGroup(dag_.tasks[from.index], group);
  if (!inside && !(from.group && IsInside(group, id))) return "";
  return fmt::format("{} (a group cannot wait for itself, its own tasks or a group it is in)",
                     inside ? "is inside this group" : "contains this group");
}

std::optional<NodeRef> GroupLoader::Resolve(const std::string& scope, const std::string& name,
                                            Mark mark, const std::string& where) {
  auto ref = ResolveNode(dag_, scope, name);
  if (ref) return *ref;
  std::string hint;
  if (ref.error().IsNotFound() && !diags_.full()) {
    // A name written as in another group: suggest its full id.
    for (const std::string& id : Names(""))
      if (hint.empty() && id.ends_with("." + name)) hint = fmt::format(" (did you mean '{}'?)", id);
    if (hint.empty()) hint = Hint(name, Names(scope));
  }
  Error(mark, where + ref.error().message() + hint);
  return std::nullopt;
}

// Every name a depends_on written in group `scope` could use: full ids, and
// the ids of what is in `scope` without its prefix.
std::vector<std::string> GroupLoader::Names(const std::string& scope) const {
  std::vector<std::string> names;
  auto add = [&](const std::string& id) {
    names.push_back(id);
    if (!scope.empty() && id.size() > scope.size() && IsInside(id, scope))
      names.push_back(id.substr(scope.size() + 1));
  };
  for (const Task& t : dag_.tasks) add(t.id);
  for (const TaskGroup& g : dag_.groups) add(g.id);
  return names;
}

}  // namespace

std::vector<Dependency> LoadGroupsAndDependencies(Dag& dag, const Value* task_groups,
                                                  Diagnostics& diags) {
  return GroupLoader(dag, diags).Load(task_groups);
}

}  // namespace dagctl
