// Asset events as JSON, in Airflow's DatasetEvent shape: what the API
// returns and what `{{ triggering_asset_events }}` renders. Kept apart from
// engine/assets.h so that header stays light.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "engine/store/store.h"

namespace dagctl {

/// One event: id, dataset_id, dataset_uri, extra (an object, or null when it is
/// not valid JSON), source_dag_id, source_task_id, source_run_id,
/// source_map_index (null for an event from outside), timestamp.
nlohmann::json AssetEventJson(const AssetEventRecord& e);

/// `{{ triggering_asset_events }}`: the events by URI (Airflow's
/// triggering_dataset_events), each list oldest first; `{}` for a run no
/// asset triggered.
nlohmann::json TriggeringAssetEventsJson(const std::vector<AssetEventRecord>& events);

}  // namespace dagctl
