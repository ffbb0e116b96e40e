// Internal to api/: one REST request being answered. The handlers of each
// group of endpoints live in their own file (api_service.cc: DAGs, runs,
// task instances; api_actions.cc: setting states and clearing; api_connections.cc:
// connections; api_pools.cc: pools; api_datasets.cc: datasets; api_versions.cc: DAG
// versions; api_ui.cc: the dashboard's views of a DAG; api_ui_runs.cc: its views of
// runs, backfills).
#pragma once

#include <expected>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/airflow_json.h"
#include "api/api_service.h"

namespace dagctl::api {

using nlohmann::json;

inline constexpr int kMaxLimit = 1000;

// A request that cannot be answered as asked: becomes a problem-JSON reply.
struct Problem {
  int status;
  std::string title;
  std::string detail;
};

template <typename T>
using Reply = std::expected<T, Problem>;

inline std::unexpected<Problem> BadRequest(const std::string& detail) {
  return std::unexpected(Problem{400, "Bad request", detail});
}
inline std::unexpected<Problem> NotFound(const std::string& title, const std::string& detail) {
  return std::unexpected(Problem{404, title, detail});
}
inline std::unexpected<Problem> Internal(const Error& e) {
  return std::unexpected(Problem{500, "Internal error", e.message()});
}

// One request being answered.
class Call {
 public:
  Call(const ApiContext& ctx, const ApiRequest& req) : ctx_(ctx), req_(req) {}

  ApiResponse Respond();

 private:
  Reply<json> Route(const std::vector<std::string>& s);
  Reply<json> Health();
  Reply<json> ListDags();
  Reply<json> GetDag(const std::string& dag_id);
  Reply<json> PatchDag(const std::string& dag_id);
  Reply<json> ListTasks(const std::string& dag_id);
  Reply<json> GetTask(const std::string& dag_id, const std::string& task_id);
  Reply<json> ListRuns(const std::string& dag_id);
  Reply<json> PostRun(const std::string& dag_id);
  Reply<json> GetRun(const std::string& dag_id, const std::string& run_id);
  Reply<json> ListTis(const std::string& dag_id, const std::string& run_id);
  Reply<json> GetTi(const std::string& dag_id, const std::string& run_id, const std::string& task,
                    const std::string* map_index = nullptr);
  Reply<json> ListMapped(const std::string& dag_id, const std::string& run_id,
                         const std::string& task);
  Reply<json> TiPage(const std::vector<const TaskInstanceRecord*>& tis, const DagRunRecord& run);
  Reply<json> GetLog(const std::string& dag_id, const std::string& run_id, const std::string& task,
                      const std::string& try_text);
  // api_actions.cc
  Reply<json> Clear(const std::string& dag_id);
  Reply<json> PatchRun(const std::string& dag_id, const std::string& run_id);
  Reply<json> RunStatePreview(const std::string& dag_id, const std::string& run_id);
  Reply<json> PatchTi(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                      const std::string* map_index);
  Reply<json> UpdateTisState(const std::string& dag_id);
  // api_connections.cc
  Reply<json> ListConnections();
  Reply<json> PostConnection();
  Reply<json> GetConnection(const std::string& id);
  Reply<json> PatchConnection(const std::string& id);
  Reply<json> DeleteConnection(const std::string& id);
  Reply<json> TestConnection();
  Reply<json> ImportErrors();
  Reply<json> DagDetails(const std::string& dag_id);
  Reply<json> Workers();
  // api_ui.cc
  Reply<json> Grid(const std::string& dag_id);
  Reply<json> Graph(const std::string& dag_id);
  // api_ui_runs.cc
  Reply<json> Gantt(const std::string& dag_id, const std::string& run_id);
  Reply<json> Durations(const std::string& dag_id);
  Reply<json> Calendar(const std::string& dag_id);
  Reply<json> PostBackfill();
  // api_versions.cc
  Reply<json> GetDagSource(const std::string& token);
  Reply<json> Versions(const std::string& dag_id);
  // api_variables.cc
  Reply<json> ListVariables();
  Reply<json> PutVariable(const std::string* key);
  Reply<json> GetVariable(const std::string& key);
  Reply<json> DeleteVariable(const std::string& key);
  Reply<json> XComEntries(const std::string& dag_id, const std::string& run_id,
                          const std::string& task, const std::string* key);
  // api_pools.cc
  Reply<json> ListPools();
  Reply<json> PostPool();
  Reply<json> GetPool(const std::string& name);
  Reply<json> PatchPool(const std::string& name);
  Reply<json> DeletePool(const std::string& name);
  // api_datasets.cc
  Reply<json> ListDatasets();
  Reply<json> GetDataset(const std::string& uri);
  Reply<json> ListDatasetEvents();
  Reply<json> PostDatasetEvent();
  Reply<json> UpstreamDatasetEvents(const std::string& dag_id, const std::string& run_id);
  Reply<json> QueuedEvents(const std::string& dag_id, const std::string& uri);
  Reply<json> EventCollection(Store& store, const std::vector<AssetEventRecord>& events, int total);
  Reply<PoolRecord> PoolFromBody(const json& body, PoolRecord base, const std::vector<std::string>& mask);

  /// The runs `q` selects, printed as the API prints them, and all their
  /// task instances (one query): the rows of the grid and of the durations.
  struct RunsWithInstances {
    json runs;
    std::vector<TaskInstanceRecord> tis;
  };
  Reply<RunsWithInstances> RunsAndInstances(Store& store, const RunQuery& q);

  Reply<std::shared_ptr<const Dag>> FindDag(const std::string& dag_id);
  Reply<DagRunRecord> FindRun(const std::string& dag_id, const std::string& run_id);
  /// The task instance `task` (map index -1), or with `map_index` one of a
  /// mapped task's; 404 otherwise, saying when the task is mapped.
  Reply<TaskInstanceRecord> FindTi(const std::string& dag_id, const std::string& run_id,
                                   const std::string& task_id, const std::string* map_index = nullptr);
  Reply<json> Body();
  Reply<int> IntParam(const std::string& name, int fallback, int min, int max);
  Reply<std::optional<bool>> BoolParam(const std::string& name);
  Reply<std::optional<Timestamp>> TimeParam(const std::string& name);
  std::vector<std::string> Params(const std::string& name) const;
  Reply<Store*> Db();
  DagStatus StatusOf(const Dag& dag, Store& store, bool paused);

  const ApiContext& ctx_;
  const ApiRequest& req_;
  std::shared_ptr<const DagBag> bag_;
  // A text/plain reply (a log, a DAG's source) instead of JSON.
  json TextReply(std::string text) {
    text_reply_ = true;
    text_body_ = std::move(text);
    return nullptr;
  }
  bool text_reply_ = false;
  std::string text_body_;
  std::string raw_json_;   // a reply already written as JSON text (run lists)
  int status_ = 200;       // a success other than 200 (204 No Content)
};

}  // namespace dagctl::api
