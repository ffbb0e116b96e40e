// Entry functions of the fuzz targets but the REST API's (entries_api.cc).
#include "fuzz/entries.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/airflow_json.h"
#include "engine/connection.h"
#include "engine/cron.h"
#include "engine/dag_loader.h"
#include "engine/duration.h"
#include "engine/json_io.h"
#include "engine/limits.h"
#include "engine/run_scope.h"
#include "engine/template.h"
#include "engine/try_outcome.h"
#include "operators/operator.h"
#include "operators/redis.h"

namespace dagctl::fuzz {

namespace {

const OperatorRegistry& Operators() {
  static OperatorRegistry* registry = [] {
    auto* r = new OperatorRegistry;
    RegisterBuiltinOperators(*r);
    return r;
  }();
  return *registry;
}

// Every diagnostic says where and what.
std::string CheckDiagnostics(const std::vector<Diagnostic>& list) {
  for (const Diagnostic& d : list)
    if (d.mark.line < 1 || d.mark.column < 1 || d.message.empty())
      return "a diagnostic without a place or a message: " + d.ToString();
  return "";
}

// A loaded DAG must print as the API and `list --json` print it.
std::string CheckDagJson(const Dag& dag) {
  std::vector<nlohmann::json> objects{api::DagJson(dag, {})};
  for (const Task& t : dag.tasks) objects.push_back(api::TaskJson(dag, t));
  for (const auto& j : objects)
    if (!ParseJson(DumpJson(j))) return "a DAG or Task object printed as invalid JSON";
  return "";
}

}  // namespace

// The bytes are a DAG file.
Outcome DagLoader(std::string_view input) {
  Diagnostics diags("dags/fuzz.yaml");
  auto dag = LoadDagText(std::string(input), "dags/fuzz.yaml", Operators(), diags);
  Outcome out;
  if (dag) {
    out.text = fmt::format("loaded {} with {} tasks", dag->dag_id, dag->tasks.size());
    out.violation = CheckDagJson(*dag);
    if (dag->tasks.size() > limits::kMaxTasksPerDag) out.violation = "over the task limit";
    return out;
  }
  out.text = diags.ToString();
  out.violation = diags.empty() ? "no DAG and no diagnostic" : CheckDiagnostics(diags.list());
  return out;
}

// The bytes are a cron expression; its next and previous fire times are
// computed around instants in UTC and in a zone with DST.
Outcome Cron(std::string_view input) {
  auto cron = CronSchedule::Parse(std::string(input));
  if (!cron) return {cron.error().message(), ""};
  Outcome out{"ok", ""};
  static const TimeZone kNewYork = TimeZone::Locate("America/New_York").value();
  for (const TimeZone& zone : {TimeZone(), kNewYork}) {
    for (const char* at :
         {"2026-03-08T06:59:00Z", "2026-11-01T05:30:00Z", "2028-02-29T12:00:00Z"}) {
      Timestamp t = ParseDateTime(at).value();
      auto next = cron->Next(t, zone);
      auto prev = cron->Prev(t, zone);
      if ((next && *next <= t) || (prev && *prev >= t))
        out.violation =
            fmt::format("fire times around {} in {} are not strictly ordered", at, zone.name());
      if (next) out.text += " " + FormatIso(*next, zone);
    }
  }
  return out;
}

// The bytes are a duration; what parses prints back to the same duration.
Outcome DurationText(std::string_view input) {
  auto d = ParseDuration(std::string(input));
  if (!d) return {"not a duration", ""};
  Outcome out{FormatDuration(*d), ""};
  if (d->count() < 0 || d->count() > limits::kMaxDurationMillis) out.violation = "out of range";
  auto back = ParseDuration(out.text);
  if (!back || *back != *d) out.violation = "FormatDuration does not read back: " + out.text;
  return out;
}

namespace {

// The names a try sees, with fixed values.
class FixedScope : public TemplateScope {
 public:
  Result<std::string> Lookup(const std::vector<std::string>& path) const override {
    static const std::map<std::string, std::string> kNames = {{"ds", "2026-03-10"},
                                                              {"ds_nodash", "20260310"},
                                                              {"ts", "2026-03-10T00:00:00+00:00"},
                                                              {"params.n", "3"},
                                                              {"params.name", "it's"},
                                                              {"xcom.extract", "a\xff b"},
                                                              {"conn.db.host", "db.internal"},
                                                              {"var.region", "eu"},
                                                              {"run_id", "manual__x"}};
    std::string name;
    for (const std::string& p : path) name += (name.empty() ? "" : ".") + p;
    auto it = kNames.find(name);
    if (it == kNames.end()) return Fail(Error::InvalidArgument("unknown name '" + name + "'"));
    return it->second;
  }
};

}  // namespace

// The bytes are an operator string field: parsed and rendered.
Outcome Template(std::string_view input) {
  auto r = RenderTemplate(std::string(input), FixedScope());
  if (!r)
    return {r.error().message(), r.error().message().empty() ? "an error without a message" : ""};
  return {*r, ""};
}

// First byte even: the rest is a connection URI, which must print as a URI
// that parses again. Odd: the rest is a connections.yaml, asked for 'db'.
Outcome Connection(std::string_view input) {
  if (input.empty()) return {"", ""};
  std::string rest(input.substr(1));
  if (input[0] % 2 == 0) {
    auto c = ParseConnectionUri("db", rest);
    if (!c) return {c.error().message(), ""};
    Outcome out{c->Uri(), ""};
    if (!ParseConnectionUri("db", out.text)) out.violation = "Uri() does not parse: " + out.text;
    return out;
  }
  auto c = ConnectionFromYaml(rest, "connections.yaml", "db");
  if (!c) return {c.error().message(), ""};
  return {c->Uri(), ""};
}

// The bytes are a redis commands_file.
Outcome RedisCommands(std::string_view input) {
  auto cmds = ParseRedisCommands(std::string(input), "cmds.redis");
  if (!cmds) return {cmds.error().message(), ""};
  return {fmt::format("{} commands", cmds->size()), ""};
}

namespace {

const Dag& ParamsDag() {
  static std::shared_ptr<Dag> dag = [] {
    Diagnostics diags("dags/params.yaml");
    auto d = LoadDagText(
        "params: {n: 1, f: 0.5, b: true, s: x, l: [1], m: {a: 1}, z: null}\n"
        "tasks:\n  - {id: t, command: x}\n",
        "dags/params.yaml", Operators(), diags);
    return d;
  }();
  return *dag;
}

}  // namespace

// The bytes are what --conf, a POST's conf and --param carry: as a conf
// (checked against params of every type, then resolved), as NAME=VALUE
// lines, and as a --date.
Outcome Conf(std::string_view input) {
  std::string text(input);
  Outcome out;
  auto st = ValidateConf(ParamsDag(), text);
  out.text = st ? "conf ok" : st.error().message();
  if (st && !ResolveParams(ParamsDag(), text)) out.violation = "a valid conf does not resolve";
  std::vector<std::string> pairs;
  for (size_t start = 0; start <= text.size();) {
    size_t nl = text.find('\n', start);
    pairs.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  auto conf = ConfFromParamArgs(ParamsDag(), pairs);
  out.text += "\n" + (conf ? *conf : conf.error().message());
  if (conf && !ValidateConf(ParamsDag(), *conf))
    out.violation = "--param made a conf that is refused";
  auto date = ParseDateTime(text, TimeZone::Locate("Asia/Seoul").value());
  out.text += "\n" + (date ? FormatIso(*date) : date.error().message());
  return out;
}

// The bytes are a try's outcome file (what a keeper left next to a log; read
// back by the worker that takes the try over).
Outcome TryOutcomeText(std::string_view input) {
  auto f = ParseTryOutcome(std::string(input), "attempt=1.outcome");
  if (!f) return {f.error().message(), ""};
  Outcome out{fmt::format("tag {} exit {} signal {} return_value {} bytes, {} values pushed",
                          f->tag, f->exit_code, f->term_signal, f->return_value.size(),
                          f->xcom.size()),
              ""};
  size_t held = f->tag.size() + f->return_value.size();
  for (const auto& [key, value] : f->xcom) held += key.size() + value.size();
  if (held > input.size()) out.violation = "parsed more bytes than the file holds";
  if (f->tag.find('\n') != std::string::npos) out.violation = "a tag with a newline";
  if (input.size() < 4 || input.substr(input.size() - 4) != "end\n")
    out.violation = "a file without its end was taken";
  return out;
}

const std::vector<Target>& Targets() {
  static const std::vector<Target> kTargets = {
      {"dag_loader", DagLoader},         {"cron", Cron},
      {"duration", DurationText},        {"template", Template},
      {"connection", Connection},        {"api", Api},
      {"redis_commands", RedisCommands}, {"conf", Conf},
      {"outcome", TryOutcomeText},
  };
  return kTargets;
}

const Target* FindTarget(std::string_view name) {
  for (const Target& t : Targets())
    if (name == t.name) return &t;
  return nullptr;
}

}  // namespace dagctl::fuzz
