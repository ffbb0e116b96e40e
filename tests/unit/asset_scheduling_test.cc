// Data-aware scheduling on a fake clock: which asset events make a
// dataset-triggered run, what each run consumes, its data interval and run
// id, and what a producer's success or failure records.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/runs.h"
#include "fakes/scheduler_harness.h"

using namespace dagctl;
using namespace dagctl::testing;

namespace {

constexpr const char* kConsumer = R"(schedule:
  assets: [s3://wh/a, s3://wh/b]
tasks:
  - {id: report, command: "echo {{ triggering_asset_events }}"}
)";
constexpr const char* kProducer = R"(dag_id: producer
tasks:
  - {id: load, command: x, retries: 0, outlets: [s3://wh/a]}
)";

// The consumer's runs, oldest first: "RUN_ID STATE [URI@HH:MM ...]" with the
// events each consumed.
std::vector<std::string> ConsumerRuns(SchedulerHarness& h) {
  std::vector<std::string> out;
  auto runs = h.store().ListDagRuns({.dag_id = "consumer", .oldest_first = true}).value();
  for (const auto& r : runs) {
    std::string line =
        r.run_id + " " + RunTypeName(r.run_type) + " " + RunStateName(r.state) + " [";
    auto events = h.store().ListConsumedAssetEvents("consumer", r.run_id).value();
    for (size_t i = 0; i < events.size(); ++i)
      line += (i ? " " : "") + events[i].uri.substr(8) + "@" +
              FormatIso(events[i].timestamp).substr(11, 5);
    out.push_back(line + "]");
  }
  return out;
}

// Plays `steps` one minute apart from 00:01: "a" / "b" record an event of
// s3://wh/a or /b from outside, "run" lets the scheduler work until idle,
// "pass" gives it a single pass, "pause" / "unpause" the consumer.
void Play(SchedulerHarness& h, const std::vector<std::string>& steps) {
  Timestamp base = ParseDateTime("2026-11-01T00:00:00Z").value();
  for (size_t i = 0; i < steps.size(); ++i) {
    h.clock().Set(std::max(h.clock().Now(), base + std::chrono::minutes(i + 1)));
    const std::string& s = steps[i];
    if (s == "a" || s == "b") {
      AssetEventRecord e{.uri = "s3://wh/" + s};
      REQUIRE(h.store().RecordAssetEvent(e));
    } else if (s == "run") {
      h.RunUntilIdle(FormatIso(h.clock().Now() + std::chrono::seconds(30)));
    } else if (s == "pass") {
      h.Tick();
    } else {
      REQUIRE(h.store().SetPaused("consumer", s == "pause"));
    }
  }
}

}  // namespace

TEST_CASE("asset triggering: a DAG runs once every asset it waits for has a new event") {
  struct Case {
    const char* name;
    std::vector<std::string> steps;
    std::vector<std::string> runs;
  };
  const std::string r = "dataset_triggered__2026-11-01T";
  const std::vector<Case> cases = {
      {"one of two assets is not enough", {"run", "a", "run", "a", "run"}, {}},
      {"all of several assets",
       {"run", "a", "run", "b", "run"},
       {r + "00:04:00+00:00 dataset_triggered success [a@00:02 b@00:04]"}},
      {"several events of one asset before the run give one run",
       {"run", "a", "a", "a", "b", "run"},
       {r + "00:05:00+00:00 dataset_triggered success [a@00:02 a@00:03 a@00:04 b@00:05]"}},
      {"events before and after a run: each run consumes only its own",
       {"run", "a", "b", "run", "a", "run", "b", "run"},
       {r + "00:03:00+00:00 dataset_triggered success [a@00:02 b@00:03]",
        r + "00:07:00+00:00 dataset_triggered success [a@00:05 b@00:07]"}},
      {"events while a run is going queue the next run",
       {"run", "a", "b", "pass", "a", "b", "run"},
       {r + "00:03:00+00:00 dataset_triggered success [a@00:02 b@00:03]",
        r + "00:06:00+00:00 dataset_triggered success [a@00:05 b@00:06]"}},
      {"a paused consumer does not run; what it had queued stays",
       {"run", "a", "pause", "b", "run", "unpause", "run", "b", "run"},
       {r + "00:08:00+00:00 dataset_triggered success [a@00:02 b@00:04 b@00:08]"}},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      SchedulerHarness h("2026-11-01T00:00:00Z", std::chrono::milliseconds(1));
      h.AddDag("consumer", kConsumer);
      Play(h, c.steps);
      CHECK(ConsumerRuns(h) == c.runs);
    }
  }
}

TEST_CASE("a dataset-triggered run spans its events and sees them as triggering_asset_events") {
  SchedulerHarness h("2026-11-01T00:00:00Z", std::chrono::milliseconds(1));
  h.AddDag("consumer", kConsumer);
  Play(h, {"run", "b", "a", "run"});
  auto run = h.store().ListDagRuns({.dag_id = "consumer"}).value().at(0);
  CHECK(FormatIso(run.logical_date) == "2026-11-01T00:03:00+00:00");
  CHECK(FormatIso(run.data_interval_start) == "2026-11-01T00:02:00+00:00");
  CHECK(FormatIso(run.data_interval_end) == "2026-11-01T00:03:00+00:00");
  REQUIRE(h.runner().started().size() == 1);
  std::string command = h.runner().started()[0].request.launch.argv.back();
  auto events = nlohmann::json::parse(command.substr(5));
  REQUIRE(events.size() == 2);
  CHECK(events["s3://wh/a"][0]["timestamp"] == "2026-11-01T00:03:00+00:00");
  CHECK(events["s3://wh/a"][0]["source_dag_id"].is_null());
  CHECK(events["s3://wh/b"][0]["dataset_uri"] == "s3://wh/b");
  CHECK(events["s3://wh/b"][0]["extra"] == nlohmann::json::object());
}

TEST_CASE("a producer's success records an event of its outlet; a failure records none") {
  SchedulerHarness h("2026-11-01T00:00:00Z", std::chrono::milliseconds(1));
  h.AddDag("producer", kProducer);
  h.AddDag("consumer", kConsumer);
  h.Tick();  // loads the folder: the scheduler learns who produces and consumes what
  auto trigger = [&]() {
    auto dag = MustLoad(kProducer);
    REQUIRE(TriggerRun(h.store(), *dag, std::nullopt, "{}", "", h.clock().Now()));
    h.clock().Advance(std::chrono::seconds(1));
    h.RunUntilIdle(FormatIso(h.clock().Now() + std::chrono::seconds(30)));
  };
  h.runner().Script("load", {{.exit_code = 1}});
  trigger();
  CHECK(h.RunIds("producer").back().ends_with(" failed"));
  CHECK(h.store().ListAssetEvents({}).value().empty());
  trigger();
  CHECK(h.RunIds("producer").back().ends_with(" success"));
  auto events = h.store().ListAssetEvents({}).value();
  REQUIRE(events.size() == 1);
  CHECK(events[0].uri == "s3://wh/a");
  CHECK(events[0].source_dag_id == "producer");
  CHECK(events[0].source_task_id == "load");
  CHECK(events[0].source_run_id == h.store().ListDagRuns({.dag_id = "producer"}).value()[0].run_id);
  // The consumer waits for s3://wh/b as well.
  auto queue = h.store().ListAssetQueue({.dag_id = "consumer"}).value();
  REQUIRE(queue.size() == 1);
  CHECK(queue[0].uri == "s3://wh/a");
  CHECK(ConsumerRuns(h).empty());
}

TEST_CASE("an event of an asset no DAG declares is NotFound and records nothing") {
  SchedulerHarness h("2026-11-01T00:00:00Z", std::chrono::milliseconds(1));
  h.AddDag("consumer", kConsumer);
  h.Tick();
  AssetEventRecord e{.uri = "s3://nobody/x"};
  auto st = h.store().RecordAssetEvent(e);
  REQUIRE_FALSE(st);
  CHECK(st.error().IsNotFound());
  CHECK(st.error().message() == "Dataset with uri: `s3://nobody/x` not found");
  CHECK(h.store().CountAssetEvents({}).value() == 0);
}

TEST_CASE("two schedulers on one store create one dataset-triggered run from one queue") {
  SchedulerHarness h("2026-11-01T00:00:00Z", std::chrono::milliseconds(1));
  h.AddDag("consumer", kConsumer);
  Play(h, {"run", "a", "b"});
  // Another scheduler (another process's) passes first and creates the run.
  DagCache cache(Operators(), h.dags_dir());
  Scheduler other(h.store(), h.clock(), Operators(), cache,
                  {.dags_dir = h.dags_dir(), .owner = "other-host:2", .verbose = false});
  REQUIRE(h.store().Transaction([&]() -> Status {
    auto queued = other.Pass({}, {}, {});
    if (!queued) return Fail(queued.error());
    return {};
  }));
  other.Committed();
  h.Tick();  // this one finds the queue empty
  auto runs = h.store().ListDagRuns({.dag_id = "consumer"}).value();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].run_id == "dataset_triggered__2026-11-01T00:03:00+00:00");
  CHECK(h.store().ListAssetQueue({}).value().empty());
}
