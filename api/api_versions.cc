// DAG versions: Airflow's /dagSources/{file_token} (the text of the version a
// token names) and dagctl's /ui/versions/{dag_id} for the dashboard's code
// view (every stored version with when it was first seen, the current one,
// and the one a run used).
#include <fmt/format.h>

#include "api/api_call.h"
#include "api/file_token.h"
#include "engine/dag_cache.h"
#include "engine/text.h"

namespace dagctl::api {

namespace {

// What an Accept header asks for of the two forms a source comes in.
enum class SourceForm { kJson, kText, kNeither };

SourceForm FormFor(const ApiRequest& req) {
  if (req.wants_text) return SourceForm::kText;
  const std::string& a = req.accept;
  if (a.empty() || a.find("application/json") != std::string::npos ||
      a.find("application/*") != std::string::npos || a.find("*/*") != std::string::npos)
    return SourceForm::kJson;
  if (a.find("text/*") != std::string::npos) return SourceForm::kText;
  return SourceForm::kNeither;
}

std::unexpected<Problem> SourceNotFound(const std::string& detail) {
  return NotFound("Dag source not found", detail);
}

}  // namespace

Reply<json> Call::GetDagSource(const std::string& token) {
  auto ref = ParseFileToken(token);
  if (!ref)
    return SourceNotFound(
        fmt::format("'{}' is not a file token of this server (take one from a "
                    "DAG's file_token)",
                    Shorten(token)));
  SourceForm form = FormFor(req_);
  if (form == SourceForm::kNeither)
    return std::unexpected(Problem{406, "Not acceptable",
                                   fmt::format("cannot answer with '{}': a DAG's source comes as "
                                               "application/json or text/plain",
                                               Shorten(req_.accept))});
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  if (!bag_) bag_ = ctx_.dags->Get();
  auto source = VersionSource(**store, ref->dag_id, ref->hash, bag_->Find(ref->dag_id));
  if (!source && source.error().IsNotFound()) return SourceNotFound(source.error().message());
  if (!source) return Internal(source.error());
  if (form == SourceForm::kText) return TextReply(std::move(*source));
  return json{{"content", std::move(*source)}};
}

// Every stored version of a DAG (oldest first, numbered from 1, with when a
// scheduler or `dagctl run` first saw it), the folder's current version, and
// with ?dag_run_id= the version that run executes.
Reply<json> Call::Versions(const std::string& dag_id) {
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto stored = (*store)->ListDagVersions(dag_id);
  if (!stored) return Internal(stored.error());
  auto dag = FindDag(dag_id);
  if (!dag && stored->empty()) return std::unexpected(dag.error());
  json versions = json::array();
  auto describe = [&](const std::string& hash) {
    json number = nullptr;
    for (size_t i = 0; i < stored->size(); ++i)
      if ((*stored)[i].hash == hash) number = i + 1;
    // A run older than version keeping recorded no hash: no token for it.
    json token = hash.empty() ? json(nullptr) : json(FileToken(dag_id, hash));
    return json{{"hash", hash}, {"file_token", token}, {"version_number", number}};
  };
  for (const DagVersionRecord& v : *stored) {
    json item = describe(v.hash);
    item["path"] = v.path;
    item["created_at"] = FormatIso(v.created_at);
    versions.push_back(std::move(item));
  }
  json out{{"dag_id", dag_id},
           {"versions", versions},
           {"total_entries", versions.size()},
           {"current", dag ? describe((*dag)->file_hash) : json(nullptr)}};
  if (auto it = req_.query.find("dag_run_id"); it != req_.query.end()) {
    auto run = FindRun(dag_id, it->second);
    if (!run) return std::unexpected(run.error());
    out["dag_run"] = describe(run->dag_hash);
    out["dag_run"]["dag_run_id"] = run->run_id;
  }
  return out;
}

}  // namespace dagctl::api
