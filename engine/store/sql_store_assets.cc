// Assets (Airflow 2's datasets) on SQL: the assets and who declares them,
// their events, the per-DAG queue of assets with new events, and what each
// dataset-triggered run consumed.
#include <fmt/format.h>

#include <map>

#include "engine/store/sql_store_impl.h"

namespace dagctl {

namespace {

constexpr const char* kEventColumns =
    "e.id, e.asset_id, a.uri, e.extra, e.source_dag_id, e.source_task_id, e.source_run_id, "
    "e.source_map_index, e.timestamp";

AssetEventRecord ReadEvent(const SqlRows& r, size_t i) {
  AssetEventRecord e;
  e.id = r.Int(i, 0);
  e.asset_id = r.Int(i, 1);
  e.uri = r.Text(i, 2);
  e.extra = r.Text(i, 3);
  e.source_dag_id = r.Text(i, 4);
  e.source_task_id = r.Text(i, 5);
  e.source_run_id = r.Text(i, 6);
  e.source_map_index = static_cast<int>(r.OptInt(i, 7).value_or(-1));
  e.timestamp = r.Time(i, 8);
  return e;
}

// A row of "id, uri, extra, created_at, updated_at" (without its references).
AssetRecord ReadAsset(const SqlRows& r, size_t i) {
  return {.id = r.Int(i, 0),
          .uri = r.Text(i, 1),
          .extra = r.Text(i, 2),
          .created_at = r.Time(i, 3),
          .updated_at = r.Time(i, 4)};
}

std::vector<AssetEventRecord> ReadEvents(const SqlRows& r) {
  std::vector<AssetEventRecord> out;
  for (size_t i = 0; i < r.size(); ++i) out.push_back(ReadEvent(r, i));
  return out;
}

// The URI pattern (a substring) and DAG filter of an asset list.
std::string AssetWhere(bool postgres, const std::string& uri_pattern,
                       const std::vector<std::string>& dag_ids, SqlArgs& a) {
  std::string where = " WHERE 1=1";
  if (!uri_pattern.empty()) {
    where += postgres ? " AND strpos(lower(a.uri), lower(?)) > 0"
                      : " AND instr(lower(a.uri), lower(?)) > 0";
    a.Add(uri_pattern);
  }
  if (!dag_ids.empty()) {
    where += fmt::format(
        " AND a.id IN (SELECT asset_id FROM asset_reference WHERE dag_id IN ({}))",
        SqlMarks(dag_ids.size()));
    for (const auto& d : dag_ids) a.Add(d);
  }
  return where;
}

// " WHERE ..." of the queue entries `q` selects (aliases q and a).
std::string AssetQueueWhere(const AssetQueueQuery& q, SqlArgs& a) {
  std::string where = " WHERE 1=1";
  if (!q.dag_id.empty()) {
    where += " AND q.target_dag_id=?";
    a.Add(q.dag_id);
  }
  if (!q.uri.empty()) {
    where += " AND a.uri=?";
    a.Add(q.uri);
  }
  if (q.before) {
    where += " AND q.created_at < ?";
    a.Add(*q.before);
  }
  return where;
}

}  // namespace

Result<std::optional<int64_t>> SqlStore::AssetId(const std::string& uri, bool create,
                                                 Timestamp now) {
  if (create) {
    auto ins = Q("INSERT INTO asset (uri, extra, created_at, updated_at) VALUES (?, '{}', ?, ?) "
                 "ON CONFLICT (uri) DO NOTHING",
                 SqlArgs().Add(uri).Add(now).Add(now));
    if (!ins) return Fail(ins.error());
  }
  auto r = Q("SELECT id FROM asset WHERE uri=?", SqlArgs().Add(uri));
  if (!r) return Fail(r.error());
  if (r->empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(r->Int(0, 0));
}

Status SqlStore::SyncAssetReferences(const std::vector<AssetReference>& refs, bool replace) {
  return Atomic([&]() -> Status {
    auto now = Now();
    if (!now) return Fail(now.error());
    auto old = Q("SELECT asset_id, dag_id, task_id, created_at FROM asset_reference");
    if (!old) return Fail(old.error());
    // A reference keeps the time it first appeared.
    std::map<std::tuple<int64_t, std::string, std::string>, Timestamp> since;
    for (size_t i = 0; i < old->size(); ++i)
      since[{old->Int(i, 0), old->Text(i, 1), old->Text(i, 2)}] = old->Time(i, 3);
    if (replace)
      if (auto r = Q("DELETE FROM asset_reference"); !r) return Fail(r.error());
    for (const AssetReference& ref : refs) {
      auto id = AssetId(ref.uri, true, *now);
      if (!id) return Fail(id.error());
      auto it = since.find({**id, ref.dag_id, ref.task_id});
      auto r = Q("INSERT INTO asset_reference (asset_id, dag_id, task_id, created_at) "
                 "VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
                 SqlArgs().Add(**id).Add(ref.dag_id).Add(ref.task_id).Add(
                     it == since.end() ? *now : it->second));
      if (!r) return Fail(r.error());
    }
    return {};
  });
}

Status SqlStore::ReadAssetReferences(std::vector<AssetRecord>& assets) {
  if (assets.empty()) return {};
  std::map<int64_t, AssetRecord*> by_id;
  SqlArgs a;
  for (auto& asset : assets) {
    by_id[asset.id] = &asset;
    a.Add(asset.id);
  }
  auto r = Q(fmt::format("SELECT asset_id, dag_id, task_id FROM asset_reference WHERE asset_id "
                         "IN ({}) ORDER BY dag_id, task_id",
                         SqlMarks(assets.size())),
             a);
  if (!r) return Fail(r.error());
  for (size_t i = 0; i < r->size(); ++i) {
    AssetRecord& asset = *by_id.at(r->Int(i, 0));
    if (r->Text(i, 2).empty())
      asset.consuming_dags.push_back(r->Text(i, 1));
    else
      asset.producing_tasks.emplace_back(r->Text(i, 1), r->Text(i, 2));
  }
  return {};
}

Result<std::vector<AssetRecord>> SqlStore::ListAssets(const std::string& uri_pattern,
                                                      const std::vector<std::string>& dag_ids,
                                                      const std::string& order_by, int limit,
                                                      int offset) {
  bool desc = !order_by.empty() && order_by[0] == '-';
  std::string field = order_by.empty() ? "id" : desc ? order_by.substr(1) : order_by;
  if (field != "id" && field != "uri" && field != "created_at" && field != "updated_at")
    return Fail(Error::InvalidArgument(fmt::format(
        "cannot order by '{}' (use id, uri, created_at or updated_at, with '-' for descending)",
        order_by)));
  SqlArgs a;
  std::string where = AssetWhere(postgres(), uri_pattern, dag_ids, a);
  a.Add(limit).Add(offset);
  const char* dir = desc ? "DESC" : "ASC";
  auto r = Q(fmt::format("SELECT a.id, a.uri, a.extra, a.created_at, a.updated_at FROM asset a{} "
                         "ORDER BY a.{} {}, a.id {} LIMIT ? OFFSET ?",
                         where, field, dir, dir),
             a);
  if (!r) return Fail(r.error());
  std::vector<AssetRecord> out;
  for (size_t i = 0; i < r->size(); ++i) out.push_back(ReadAsset(*r, i));
  if (auto st = ReadAssetReferences(out); !st) return Fail(st.error());
  return out;
}

Result<int> SqlStore::CountAssets(const std::string& uri_pattern,
                                  const std::vector<std::string>& dag_ids) {
  SqlArgs a;
  std::string where = AssetWhere(postgres(), uri_pattern, dag_ids, a);
  auto r = Q(fmt::format("SELECT COUNT(*) FROM asset a{}", where), a);
  if (!r) return Fail(r.error());
  return static_cast<int>(r->Int(0, 0));
}

Result<AssetRecord> SqlStore::GetAsset(const std::string& uri) {
  auto r = Q("SELECT id, uri, extra, created_at, updated_at FROM asset WHERE uri=?",
             SqlArgs().Add(uri));
  if (!r) return Fail(r.error());
  if (r->empty())
    return Fail(Error::NotFound(fmt::format("The Dataset with uri: `{}` was not found", uri)));
  std::vector<AssetRecord> one{ReadAsset(*r, 0)};
  if (auto st = ReadAssetReferences(one); !st) return Fail(st.error());
  return one[0];
}

Status SqlStore::InsertAssetEvent(AssetEventRecord& e) {
  // An event from outside has no source: NULL columns, as Airflow's.
  bool outside = e.source_dag_id.empty();
  SqlArgs a;
  a.Add(e.asset_id).Add(e.extra.empty() ? std::string("{}") : e.extra);
  for (const std::string* v : {&e.source_dag_id, &e.source_task_id, &e.source_run_id})
    outside ? a.Null() : a.Add(*v);
  outside ? a.Null() : a.Add(e.source_map_index);
  a.Add(e.timestamp);
  auto r = Q("INSERT INTO asset_event (asset_id, extra, source_dag_id, source_task_id, "
             "source_run_id, source_map_index, timestamp) VALUES (?,?,?,?,?,?,?) RETURNING id",
             a);
  if (!r) return Fail(r.error());
  e.id = r->Int(0, 0);
  // Airflow's _queue_dagruns: every consumer that is not paused, once per
  // asset until its run is created (the first event's time is kept).
  auto q = Q("INSERT INTO asset_dag_run_queue (asset_id, target_dag_id, created_at) "
             "SELECT ref.asset_id, ref.dag_id, ? FROM asset_reference ref "
             "LEFT JOIN dag d ON d.dag_id = ref.dag_id "
             "WHERE ref.asset_id=? AND ref.task_id='' AND COALESCE(d.is_paused, 0) = 0 "
             "ON CONFLICT DO NOTHING",
             SqlArgs().Add(e.timestamp).Add(e.asset_id));
  if (!q) return Fail(q.error());
  return Notify("dagctl_run", "");
}

Status SqlStore::RecordAssetEvent(AssetEventRecord& e) {
  return Atomic([&]() -> Status {
    auto now = Now();
    if (!now) return Fail(now.error());
    // A task's outlet is an asset even before a scheduler has read its DAG.
    auto id = AssetId(e.uri, !e.source_dag_id.empty(), *now);
    if (!id) return Fail(id.error());
    if (!*id)
      return Fail(Error::NotFound(fmt::format("Dataset with uri: `{}` not found", e.uri)));
    e.asset_id = **id;
    e.timestamp = *now;
    return InsertAssetEvent(e);
  });
}

std::string SqlStore::AssetEventWhere(const AssetEventQuery& q, SqlArgs& a) const {
  std::string where = " WHERE 1=1";
  if (!q.uris.empty()) {
    where += fmt::format(" AND a.uri IN ({})", SqlMarks(q.uris.size()));
    for (const auto& u : q.uris) a.Add(u);
  }
  auto text = [&](const char* column, const std::string& v) {
    if (v.empty()) return;
    where += fmt::format(" AND {}=?", column);
    a.Add(v);
  };
  if (q.asset_id) {
    where += " AND e.asset_id=?";
    a.Add(*q.asset_id);
  }
  text("e.source_dag_id", q.source_dag_id);
  text("e.source_task_id", q.source_task_id);
  text("e.source_run_id", q.source_run_id);
  if (q.source_map_index) {
    where += " AND e.source_map_index=?";
    a.Add(*q.source_map_index);
  }
  if (q.after) {
    where += " AND e.timestamp > ?";
    a.Add(*q.after);
  }
  if (q.until) {
    where += " AND e.timestamp <= ?";
    a.Add(*q.until);
  }
  return where;
}

Result<std::vector<AssetEventRecord>> SqlStore::ListAssetEvents(const AssetEventQuery& q) {
  static const std::map<std::string, std::string> kColumns = {
      {"id", "e.id"},
      {"timestamp", "e.timestamp"},
      {"dataset_id", "e.asset_id"},
      {"source_dag_id", "e.source_dag_id"},
      {"source_task_id", "e.source_task_id"},
      {"source_run_id", "e.source_run_id"},
      {"source_map_index", "e.source_map_index"}};
  bool desc = !q.order_by.empty() && q.order_by[0] == '-';
  std::string field = q.order_by.empty() ? "timestamp" : desc ? q.order_by.substr(1) : q.order_by;
  auto column = kColumns.find(field);
  if (column == kColumns.end())
    return Fail(Error::InvalidArgument(fmt::format(
        "cannot order by '{}' (use id, timestamp, dataset_id, source_dag_id, source_task_id, "
        "source_run_id or source_map_index, with '-' for descending)",
        q.order_by)));
  const char* dir = desc ? "DESC" : "ASC";
  SqlArgs a;
  std::string where = AssetEventWhere(q, a);
  a.Add(q.limit).Add(q.offset);
  auto r = Q(fmt::format("SELECT {} FROM asset_event e JOIN asset a ON a.id = e.asset_id{} "
                         "ORDER BY {} {}, e.id {} LIMIT ? OFFSET ?",
                         kEventColumns, where, column->second, dir, dir),
             a);
  if (!r) return Fail(r.error());
  return ReadEvents(*r);
}

Result<int> SqlStore::CountAssetEvents(const AssetEventQuery& q) {
  SqlArgs a;
  std::string where = AssetEventWhere(q, a);
  auto r = Q(fmt::format("SELECT COUNT(*) FROM asset_event e JOIN asset a ON a.id = e.asset_id{}",
                         where),
             a);
  if (!r) return Fail(r.error());
  return static_cast<int>(r->Int(0, 0));
}

Result<std::vector<AssetQueueEntry>> SqlStore::ListAssetQueue(const AssetQueueQuery& q) {
  SqlArgs a;
  std::string where = AssetQueueWhere(q, a);
  auto r = Q(fmt::format("SELECT a.uri, q.target_dag_id, q.created_at FROM asset_dag_run_queue q "
                         "JOIN asset a ON a.id = q.asset_id{} ORDER BY q.target_dag_id, a.uri",
                         where),
             a);
  if (!r) return Fail(r.error());
  std::vector<AssetQueueEntry> out;
  for (size_t i = 0; i < r->size(); ++i)
    out.push_back({r->Text(i, 0), r->Text(i, 1), r->Time(i, 2)});
  return out;
}

Result<int> SqlStore::DeleteAssetQueue(const AssetQueueQuery& q) {
  SqlArgs a;
  std::string where = AssetQueueWhere(q, a);
  auto n = Write(fmt::format("DELETE FROM asset_dag_run_queue WHERE (asset_id, target_dag_id) IN "
                             "(SELECT q.asset_id, q.target_dag_id FROM asset_dag_run_queue q "
                             "JOIN asset a ON a.id = q.asset_id{})",
                             where),
                 a);
  if (!n) return Fail(n.error());
  return static_cast<int>(*n);
}

Status SqlStore::ConsumeAssetEvents(const std::string& dag_id, const std::string& run_id,
                                    const std::vector<int64_t>& event_ids) {
  return Atomic([&]() -> Status {
    for (int64_t id : event_ids) {
      auto r = Q("INSERT INTO dag_run_asset_event (dag_id, run_id, event_id) VALUES (?,?,?) "
                 "ON CONFLICT DO NOTHING",
                 SqlArgs().Add(dag_id).Add(run_id).Add(id));
      if (!r) return Fail(r.error());
    }
    auto r = Q("DELETE FROM asset_dag_run_queue WHERE target_dag_id=?", SqlArgs().Add(dag_id));
    if (!r) return Fail(r.error());
    return {};
  });
}

Result<std::vector<AssetEventRecord>> SqlStore::ListConsumedAssetEvents(const std::string& dag_id,
                                                                        const std::string& run_id) {
  auto r = Q(fmt::format("SELECT {} FROM dag_run_asset_event c JOIN asset_event e ON e.id = "
                         "c.event_id JOIN asset a ON a.id = e.asset_id WHERE c.dag_id=? AND "
                         "c.run_id=? ORDER BY e.timestamp, e.id",
                         kEventColumns),
             SqlArgs().Add(dag_id).Add(run_id));
  if (!r) return Fail(r.error());
  return ReadEvents(*r);
}

Result<std::map<int64_t, std::vector<std::pair<std::string, std::string>>>>
SqlStore::ListAssetEventRuns(const std::vector<int64_t>& event_ids) {
  std::map<int64_t, std::vector<std::pair<std::string, std::string>>> out;
  if (event_ids.empty()) return out;
  SqlArgs a;
  for (int64_t id : event_ids) a.Add(id);
  auto r = Q(fmt::format("SELECT event_id, dag_id, run_id FROM dag_run_asset_event WHERE "
                         "event_id IN ({}) ORDER BY dag_id, run_id",
                         SqlMarks(event_ids.size())),
             a);
  if (!r) return Fail(r.error());
  for (size_t i = 0; i < r->size(); ++i)
    out[r->Int(i, 0)].emplace_back(r->Text(i, 1), r->Text(i, 2));
  return out;
}

}  // namespace dagctl
