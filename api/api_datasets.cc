// /datasets: Airflow 2's dataset endpoints (list, get by URI, list and
// create events) and a run's upstream dataset events (the events that
// triggered it).
#include <fmt/format.h>

#include "api/api_call.h"
#include "engine/json_io.h"
#include "engine/text.h"

namespace dagctl::api {

namespace {

std::unexpected<Problem> DatasetNotFound(const std::string& detail) {
  return NotFound("Dataset not found", detail);
}

}  // namespace

// The events with the runs each one created, as a DatasetEventCollection.
Reply<json> Call::EventCollection(Store& store, const std::vector<AssetEventRecord>& events,
                                  int total) {
  std::vector<int64_t> ids;
  for (const AssetEventRecord& e : events) ids.push_back(e.id);
  auto runs = store.ListAssetEventRuns(ids);
  if (!runs) return Internal(runs.error());
  json items = json::array();
  for (const AssetEventRecord& e : events) {
    std::vector<DagRunRecord> created;
    for (const auto& [dag_id, run_id] : (*runs)[e.id]) {
      auto run = store.GetDagRun(dag_id, run_id);
      if (run) created.push_back(*run);
    }
    items.push_back(DatasetEventJson(e, created));
  }
  return json{{"dataset_events", items}, {"total_entries", total}};
}

Reply<json> Call::ListDatasets() {
  auto limit = IntParam("limit", 100, 0, kMaxLimit);
  if (!limit) return std::unexpected(limit.error());
  auto offset = IntParam("offset", 0, 0, INT32_MAX);
  if (!offset) return std::unexpected(offset.error());
  auto pattern = req_.query.find("uri_pattern");
  std::string uri_pattern = pattern == req_.query.end() ? "" : pattern->second;
  std::vector<std::string> dag_ids = Params("dag_ids");
  std::string order = Params("order_by").empty() ? "id" : Params("order_by")[0];
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto assets = (*store)->ListAssets(uri_pattern, dag_ids, order, *limit, *offset);
  if (!assets && assets.error().code() == Error::Code::kInvalidArgument)
    return BadRequest(fmt::format("Ordering with '{}' is disallowed or the attribute does not "
                                  "exist on the model",
                                  Shorten(order)));
  if (!assets) return Internal(assets.error());
  auto total = (*store)->CountAssets(uri_pattern, dag_ids);
  if (!total) return Internal(total.error());
  json items = json::array();
  for (const AssetRecord& a : *assets) items.push_back(DatasetJson(a));
  return json{{"datasets", items}, {"total_entries", *total}};
}

Reply<json> Call::GetDataset(const std::string& uri) {
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto asset = (*store)->GetAsset(uri);
  if (asset) return DatasetJson(*asset);
  if (asset.error().IsNotFound())
    return DatasetNotFound(fmt::format("The Dataset with uri: `{}` was not found", Shorten(uri)));
  return Internal(asset.error());
}

Reply<json> Call::ListDatasetEvents() {
  AssetEventQuery q;
  auto limit = IntParam("limit", 100, 0, kMaxLimit);
  if (!limit) return std::unexpected(limit.error());
  auto offset = IntParam("offset", 0, 0, INT32_MAX);
  if (!offset) return std::unexpected(offset.error());
  auto map_index = IntParam("source_map_index", INT32_MIN, -1, INT32_MAX);
  if (!map_index) return std::unexpected(map_index.error());
  auto dataset_id = IntParam("dataset_id", 0, 1, INT32_MAX);
  if (!dataset_id) return std::unexpected(dataset_id.error());
  q.limit = *limit;
  q.offset = *offset;
  if (*map_index != INT32_MIN) q.source_map_index = *map_index;
  if (*dataset_id) q.asset_id = *dataset_id;
  auto text = [&](const char* name) {
    auto it = req_.query.find(name);
    return it == req_.query.end() ? std::string() : it->second;
  };
  q.source_dag_id = text("source_dag_id");
  q.source_task_id = text("source_task_id");
  q.source_run_id = text("source_run_id");
  q.order_by = Params("order_by").empty() ? "timestamp" : Params("order_by")[0];
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto events = (*store)->ListAssetEvents(q);
  if (!events && events.error().code() == Error::Code::kInvalidArgument)
    return BadRequest(fmt::format("Ordering with '{}' is disallowed or the attribute does not "
                                  "exist on the model",
                                  Shorten(q.order_by)));
  if (!events) return Internal(events.error());
  auto total = (*store)->CountAssetEvents(q);
  if (!total) return Internal(total.error());
  return EventCollection(**store, *events, *total);
}

// Airflow's create_dataset_event: the dataset must exist; the event's extra
// is the body's, marked {"from_rest_api": true}.
Reply<json> Call::PostDatasetEvent() {
  auto body = Body();
  if (!body) return std::unexpected(body.error());
  for (auto& [key, value] : body->items())
    if (key != "dataset_uri" && key != "extra")
      return BadRequest(fmt::format("{{'{}': ['Unknown field.']}}", Shorten(key)));
  if (!body->contains("dataset_uri"))
    return BadRequest("{'dataset_uri': ['Missing data for required field.']}");
  if (!(*body)["dataset_uri"].is_string())
    return BadRequest("{'dataset_uri': ['Not a valid string.']}");
  json extra = body->value("extra", json::object());
  if (extra.is_null()) extra = json::object();
  if (!extra.is_object()) return BadRequest("{'extra': ['Not a valid mapping type.']}");
  extra["from_rest_api"] = true;
  AssetEventRecord event{.uri = (*body)["dataset_uri"].get<std::string>(),
                         .extra = DumpJson(extra)};
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  if (auto st = (*store)->RecordAssetEvent(event); !st) {
    if (st.error().IsNotFound())
      return DatasetNotFound(fmt::format("Dataset with uri: '{}' not found", Shorten(event.uri)));
    return Internal(st.error());
  }
  return DatasetEventJson(event, {});
}

Reply<json> Call::UpstreamDatasetEvents(const std::string& dag_id, const std::string& run_id) {
  auto run = FindRun(dag_id, run_id);
  if (!run) return std::unexpected(run.error());
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto events = (*store)->ListConsumedAssetEvents(dag_id, run_id);
  if (!events) return Internal(events.error());
  return EventCollection(**store, *events, static_cast<int>(events->size()));
}

// Airflow's queuedEvent endpoints: the queue entries of a DAG, of an asset,
// or the one of both; GET lists them, DELETE removes them (204); 404 when
// there are none.
Reply<json> Call::QueuedEvents(const std::string& dag_id, const std::string& uri) {
  auto before = TimeParam("before");
  if (!before) return std::unexpected(before.error());
  AssetQueueQuery q{dag_id, uri, *before};
  std::string detail =
      dag_id.empty()  ? fmt::format("Queue event with dataset uri: `{}` was not found", Shorten(uri))
      : uri.empty()   ? fmt::format("Queue event with dag_id: `{}` was not found", Shorten(dag_id))
                      : fmt::format("Queue event with dag_id: `{}` and dataset uri: `{}` was not found",
                                    Shorten(dag_id), Shorten(uri));
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  if (req_.method == "DELETE") {
    auto deleted = (*store)->DeleteAssetQueue(q);
    if (!deleted) return Internal(deleted.error());
    if (*deleted == 0) return NotFound("Queue event not found", detail);
    status_ = 204;
    return json(nullptr);
  }
  auto entries = (*store)->ListAssetQueue(q);
  if (!entries) return Internal(entries.error());
  if (entries->empty()) return NotFound("Queue event not found", detail);
  json items = json::array();
  for (const AssetQueueEntry& e : *entries)
    items.push_back({{"uri", e.uri}, {"dag_id", e.dag_id}, {"created_at", FormatIso(e.created_at)}});
  if (!dag_id.empty() && !uri.empty()) return items[0];
  return json{{"datasets", items}, {"total_entries", items.size()}};
}

}  // namespace dagctl::api
