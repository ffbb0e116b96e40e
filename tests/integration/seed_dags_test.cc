// The seed pipelines in dags/, on the default (local) profile from a clean
// home: each runs to success on dags/sample/seed.py's data, and what it
// produced — lake files, table rows, sink files, Redis keys and TTLs — is
// checked. Redis is a redis-server of the test's own on a free port, given as
// DAGCTL_CONN_REDIS_DEFAULT (the override the README documents).
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "integration/harness.h"

using dagctl::testing::Background;
using dagctl::testing::FreePort;
using dagctl::testing::Output;
using dagctl::testing::ReadFile;
using dagctl::testing::RedisServer;
using dagctl::testing::Sandbox;
using dagctl::testing::WaitFor;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kDags = SEED_DAGS_DIR;

void Seed(const Sandbox& sb, const std::string& dates) {
  std::string cmd = "python3 " + kDags + "/sample/seed.py --home '" + sb.home().string() + "' " + dates + " >/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  // As scripts/serve.sh does: the warehouse loads take this pool.
  REQUIRE(sb.Dagctl("pools set warehouse 1", kDags).exit_code == 0);
}

// The run id from `dagctl run`'s closing line: "run RUN_ID of DAG: STATE ...".
std::string RunIdOf(const Output& o) {
  size_t at = o.out.rfind("\nrun ");
  REQUIRE(at != std::string::npos);
  return o.out.substr(at + 5, o.out.find(' ', at + 5) - at - 5);
}

// Runs DAG for DATE on the seed DAGs; requires success and returns the run id.
std::string RunOk(const Sandbox& sb, const std::string& dag, const std::string& args, const std::string& env = "") {
  Output o = sb.Dagctl("run " + dag + " --date " + args, kDags, env);
  INFO(o.out << o.err);
  REQUIRE(o.exit_code == 0);
  return RunIdOf(o);
}

std::map<std::string, std::string> States(const Sandbox& sb, const std::string& dag, const std::string& run_id) {
  std::map<std::string, std::string> states;
  json tis = json::parse(sb.Dagctl("tasks " + dag + " '" + run_id + "' --json", kDags).out)["task_instances"];
  for (const json& ti : tis) states[ti["task_id"]] = ti["state"].is_null() ? "none" : ti["state"].get<std::string>();
  return states;
}

std::string Log(const Sandbox& sb, const std::string& dag, const std::string& run_id, const std::string& task) {
  return sb.Dagctl("logs " + dag + " '" + run_id + "' " + task, kDags).out;
}

std::vector<std::string> Lines(const fs::path& p) {
  std::vector<std::string> lines;
  std::istringstream in(ReadFile(p));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

std::vector<json> JsonLines(const fs::path& p) {
  std::vector<json> out;
  for (const std::string& line : Lines(p)) out.push_back(json::parse(line));
  return out;
}

// The first column of the first row, as text ("" for none / NULL).
std::string SqlValue(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  std::string v;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

size_t CountFiles(const fs::path& dir, const std::string& ext) {
  size_t n = 0;
  if (fs::exists(dir))
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ext;
  return n;
}

// A copy of dags/ in the sandbox where DAG's `retries_line` says `retries: 0`,
// so that a failure ends the run at once.
fs::path WithoutRetries(const Sandbox& sb, const std::string& dag, const std::string& retries_line) {
  fs::path dags = sb.work() / "dags";
  fs::create_directories(dags);
  fs::copy(kDags + "/jobs", dags / "jobs");
  fs::copy_file(kDags + "/connections.yaml", dags / "connections.yaml");
  std::string text = ReadFile(kDags + "/" + dag + ".yaml");
  size_t at = text.find(retries_line);
  REQUIRE(at != std::string::npos);
  text.replace(at, retries_line.size(), "retries: 0");
  std::ofstream(dags / (dag + ".yaml")) << text;
  return dags;
}

std::string RedisEnv(const RedisServer& redis) {
  return "DAGCTL_CONN_REDIS_DEFAULT=redis://127.0.0.1:" + std::to_string(redis.port()) + "/0";
}

}  // namespace

TEST_CASE("seed DAGs: every DAG in dags/ validates") {
  Sandbox sb;
  Output o = sb.Dagctl("validate", kDags);
  INFO(o.err);
  CHECK(o.exit_code == 0);
  CHECK(o.out == "OK: 7 DAGs, 41 tasks\n");
  json dags = json::parse(sb.Dagctl("list --json", kDags).out)["dags"];
  REQUIRE(dags.size() == 7);
  for (const json& d : dags) {
    INFO(d["dag_id"]);
    CHECK(!d["description"].get<std::string>().empty());
    CHECK(!d["tags"].empty());
  }
}

TEST_CASE("seed DAGs: nolabel_products_weekly fires Saturdays 17:00 UTC (Sundays 02:00 in Seoul)") {
  Sandbox sb;
  json next = json::parse(sb.Dagctl("next nolabel_products_weekly -n 4 --after 2026-11-22T00:00:00Z --json", kDags).out);
  REQUIRE(next.size() == 4);
  const char* expected[] = {"2026-11-29T02:00:00+09:00", "2026-12-06T02:00:00+09:00", "2026-12-13T02:00:00+09:00",
                            "2026-12-20T02:00:00+09:00"};
  for (size_t i = 0; i < 4; ++i) {
    std::string run_after = next[i]["run_after"];
    CHECK(run_after == expected[i]);
    // The same instant in UTC is the Saturday before, at 17:00.
    int y = std::stoi(run_after.substr(0, 4)), m = std::stoi(run_after.substr(5, 2)), d = std::stoi(run_after.substr(8, 2));
    auto local = std::chrono::sys_days(std::chrono::year(y) / m / d) + std::chrono::hours(2);
    auto utc = local - std::chrono::hours(9);
    auto day = std::chrono::floor<std::chrono::days>(utc);
    CHECK(std::chrono::weekday(day) == std::chrono::Saturday);
    CHECK(std::chrono::hh_mm_ss(utc - day).hours() == std::chrono::hours(17));
  }
}

TEST_CASE("seed DAGs: nolabel_products_weekly crawls, lands raw files, transforms and fills the Kafka and ES sinks") {
  Sandbox sb;
  Seed(sb, "--date 2026-11-15");
  std::string run = RunOk(sb, "nolabel_products_weekly", "2026-11-15");
  fs::path raw = sb.home() / "lake/raw/nolabel/products/dt=2026-11-15";
  CHECK(Lines(raw / "products.jsonl").size() == 30);  // 3 pages of 10 cards, as crawled
  CHECK(CountFiles(raw / "pages", ".html") == 4);
  // Kafka: one record per SKU; the card without a price is gone, repeats merged.
  std::vector<json> records = JsonLines(sb.home() / "sinks/kafka/nolabel-products.jsonl");
  REQUIRE(records.size() == 27);
  std::map<std::string, json> by_key;
  for (const json& r : records) by_key[r["key"]] = json::parse(r["value"].get<std::string>());
  CHECK(by_key.size() == 27);
  CHECK(by_key.count("NL-0007") == 0);
  CHECK(by_key["NL-0001"]["price"] == 8600);
  CHECK(by_key["NL-0012"]["in_stock"] == false);
  // Elasticsearch: the _bulk body, action and document per product, ids = SKUs.
  std::vector<json> bulk = JsonLines(sb.home() / "sinks/elasticsearch/nolabel-products-20261115.ndjson");
  REQUIRE(bulk.size() == 54);
  CHECK(bulk[0]["index"]["_id"] == "NL-0001");
  CHECK(bulk[1]["name"] == "Plain cotton tee");
  CHECK(json::parse(ReadFile(sb.home() / "sinks/elasticsearch/nolabel-products-20261115.mapping.json"))
            ["mappings"]["properties"]["sku"]["type"] == "keyword");
  // Nothing pretends: the logs say where Spark, Kafka and ES really went.
  CHECK(Log(sb, "nolabel_products_weekly", run, "transform").find("running the job's local command") != std::string::npos);
  CHECK(Log(sb, "nolabel_products_weekly", run, "publish").find("local sink") != std::string::npos);
  CHECK(Log(sb, "nolabel_products_weekly", run, "index").find("local sink") != std::string::npos);
  CHECK(!fs::exists(sb.home() / "sinks/alerts/webhook.jsonl"));
}

TEST_CASE("seed DAGs: a failed nolabel_products_weekly run posts its alert to the webhook") {
  Sandbox sb;
  // The same DAG without retries, and no catalogue to crawl.
  fs::path dags = WithoutRetries(sb, "nolabel_products_weekly", "retries: 2");
  Output o = sb.Dagctl("run nolabel_products_weekly --date 2026-11-15", dags.string());
  CHECK(o.exit_code == 1);
  std::vector<json> posts = JsonLines(sb.home() / "sinks/alerts/webhook.jsonl");
  REQUIRE(posts.size() == 1);
  CHECK(posts[0]["method"] == "POST");
  CHECK(json::parse(posts[0]["body"].get<std::string>())["text"] ==
        ":red_circle: nolabel_products_weekly failed for 2026-11-15 (run manual__2026-11-14T15:00:00+00:00)");
}

TEST_CASE("seed DAGs: user_log_rollup_daily fills hot Redis with TTLs, the 7-day warm window and the cold store") {
  RedisServer redis;
  Sandbox sb;
  Seed(sb, "--date 2026-11-20 --date 2026-11-21");
  RunOk(sb, "user_log_rollup_daily", "2026-11-20", RedisEnv(redis));
  std::string run = RunOk(sb, "user_log_rollup_daily", "2026-11-21", RedisEnv(redis));
  // hot: per-minute and 5-minute hashes that count every kept event, for 2 days
  for (const char* key : {"userlog:2026-11-21:1m", "userlog:2026-11-21:5m"}) {
    INFO(key);
    int events = 0;
    std::istringstream vals(redis.Cli(std::string("HVALS ") + key));
    for (std::string v; std::getline(vals, v);) events += json::parse(v)["events"].get<int>();
    CHECK(events == 1200);
    int ttl = std::stoi(redis.Cli(std::string("TTL ") + key));
    CHECK(ttl > 172000);
    CHECK(ttl <= 172800);
  }
  int windows = std::stoi(redis.Cli("HLEN userlog:2026-11-21:5m"));
  int windows_before = std::stoi(redis.Cli("HLEN userlog:2026-11-20:5m"));
  CHECK(windows > 200);
  int warm_ttl = std::stoi(redis.Cli("TTL userlog:warm:2026-11-21"));
  CHECK(warm_ttl > 690000);
  CHECK(warm_ttl <= 691200);
  // warm: the last 7 days (here two) from Redis to Kafka and the document store
  std::vector<json> bulk = JsonLines(sb.home() / "sinks/elasticsearch/user-logs-warm-20261121.ndjson");
  CHECK(static_cast<int>(bulk.size()) == 2 * (windows + windows_before));
  CHECK(bulk[0]["index"]["_id"] == "2026-11-20T00:00:00Z");
  CHECK(Lines(sb.home() / "sinks/kafka/user-logs-warm.jsonl").size() ==
        static_cast<size_t>(windows_before + windows + windows_before));  // two runs: 1 day, then 2
  // cold: every kept event, partitioned by date
  fs::path cold = sb.home() / "lake/cold/user_logs/dt=2026-11-21";
  std::vector<std::string> events = Lines(cold / "events.csv");
  REQUIRE(events.size() == 1201);
  CHECK(events[0] == "ts,user_id,event,page");
  CHECK(events[1].rfind("2026-11-21T", 0) == 0);
  CHECK(Lines(cold / "per_5min.csv").size() == static_cast<size_t>(windows + 1));
  CHECK(Log(sb, "user_log_rollup_daily", run, "rollup").find("1200 events from 4 files (4 broken lines") !=
        std::string::npos);
}

TEST_CASE("seed DAGs: yolov5_image_collection_daily de-duplicates by content, records metadata and branches") {
  Sandbox sb;
  Seed(sb, "--date 2026-11-20 --date 2026-11-21");
  std::string first = RunOk(sb, "yolov5_image_collection_daily", "2026-11-20");
  std::string run = RunOk(sb, "yolov5_image_collection_daily", "2026-11-21");
  // 24 uploads: 2 repeats within the day, 2 re-uploads of the day before's.
  fs::path lake = sb.home() / "lake/images/yolov5/dt=2026-11-21";
  CHECK(CountFiles(lake, ".png") == 20);
  CHECK(CountFiles(lake, ".txt") == 16);
  fs::path db = sb.home() / "warehouse.db";
  CHECK(SqlValue(db, "SELECT COUNT(*) FROM image_meta WHERE dt = '2026-11-21'") == "20");
  CHECK(SqlValue(db, "SELECT COUNT(*) FROM image_meta WHERE dt = '2026-11-21' AND detections > 0") == "16");
  CHECK(SqlValue(db, "SELECT COUNT(DISTINCT sha256) FROM image_meta") == "42");
  CHECK(SqlValue(db, "SELECT MIN(width) || 'x' || MIN(height) FROM image_meta") == "32x32");
  auto states = States(sb, "yolov5_image_collection_daily", run);
  CHECK(states["build_training_set"] == "success");
  CHECK(states["skip_retraining"] == "skipped");
  std::vector<json> requests = JsonLines(sb.home() / "sinks/kafka/yolov5-retrain-requests.jsonl");
  REQUIRE(requests.size() == 2);
  json request = json::parse(requests[1]["value"].get<std::string>());
  CHECK(request["new_labelled_images"] == 16);
  CHECK(request["data"] == "/datasets/yolov5/2026-11-21/data.yaml");
  std::vector<std::string> train = Lines(sb.home() / "lake/datasets/yolov5/2026-11-21/train.txt");
  std::vector<std::string> val = Lines(sb.home() / "lake/datasets/yolov5/2026-11-21/val.txt");
  CHECK(static_cast<int>(train.size() + val.size()) == 18 + 16);  // labelled images of both days
  CHECK(request["training_images"] == static_cast<int>(train.size()));
  CHECK(ReadFile(sb.home() / "lake/datasets/yolov5/2026-11-21/data.yaml").find("names:\n  0: person\n") !=
        std::string::npos);

  SECTION("too few new labelled images: no retraining") {
    std::string rerun = RunOk(sb, "yolov5_image_collection_daily", "2026-11-21 --param min_new_labelled=100");
    auto again = States(sb, "yolov5_image_collection_daily", rerun);
    CHECK(again["skip_retraining"] == "success");
    CHECK(again["build_training_set"] == "skipped");
    CHECK(again["trigger_retraining"] == "skipped");
    CHECK(Lines(sb.home() / "sinks/kafka/yolov5-retrain-requests.jsonl").size() == 2);
    CHECK(SqlValue(db, "SELECT COUNT(*) FROM image_meta WHERE dt = '2026-11-21'") == "20");  // re-run replaces
  }
}

TEST_CASE("seed DAGs: smartcar_log_ingest partitions by wrk_date, drops garbage, keeps over-speed events 7 days") {
  RedisServer redis;
  Sandbox sb;
  Seed(sb, "--date 2026-11-21");
  std::string run = RunOk(sb, "smartcar_log_ingest", "2026-11-22T00:00:00Z", RedisEnv(redis));
  fs::path raw = sb.home() / "lake/raw/car_status";
  size_t per_day[2] = {0, 0};
  int i = 0;
  for (const char* day : {"wrk_date=2026-11-21", "wrk_date=2026-11-22"}) {
    for (const auto& f : fs::directory_iterator(raw / day)) {
      std::vector<std::string> lines = Lines(f.path());
      CHECK(lines[0] == "car_id,ts,speed_kmh,lat,lon,engine_temp_c");
      per_day[i] += lines.size() - 1;
      for (size_t n = 1; n < lines.size(); ++n) CHECK(lines[n].find(day + 9) != std::string::npos);
    }
    ++i;
  }
  CHECK(per_day[0] == 72);  // 3 cars, every 5 s, 23:58:00..23:59:55
  CHECK(per_day[1] == 72);
  CHECK(Log(sb, "smartcar_log_ingest", run, "clean").find("144 lines kept, 4 garbage lines dropped") != std::string::npos);
  // The spool is empty once everything is in.
  CHECK(CountFiles(sb.home() / "sources/car_spool", ".log") == 0);
  // car-02 drove 95 km/h for 60 s: two 30 s windows; car-03's one fast reading averages out.
  for (const char* key : {"overspeed:car-02:2026-11-21T23:59:30Z", "overspeed:car-02:2026-11-22T00:00:00Z"}) {
    INFO(key);
    json event = json::parse(redis.Cli(std::string("GET ") + key));
    CHECK(event["avg_speed_kmh"] == 95.0);
    int ttl = std::stoi(redis.Cli(std::string("TTL ") + key));
    CHECK(ttl > 604000);
    CHECK(ttl <= 604800);
  }
  CHECK(redis.Cli("DBSIZE") == "2\n");
}

TEST_CASE("seed DAGs: api_collect_etl_daily loads the day's orders into the warehouse, 3 retries per task") {
  Sandbox sb;
  Seed(sb, "--date 2026-11-21");
  std::string run = RunOk(sb, "api_collect_etl_daily", "2026-11-21");
  CHECK(fs::exists(sb.home() / "lake/raw/api/orders/dt=2026-11-21/orders.json"));
  fs::path db = sb.home() / "warehouse.db";
  CHECK(SqlValue(db, "SELECT COUNT(*) FROM api_orders WHERE dt = '2026-11-21'") == "40");
  CHECK(SqlValue(db, "SELECT COUNT(DISTINCT order_id) FROM api_orders") == "40");
  CHECK(SqlValue(db, "SELECT COUNT(*) FROM api_orders WHERE order_id LIKE '%bad%'") == "0");
  CHECK(SqlValue(db, "SELECT COUNT(*) FROM api_orders WHERE currency = 'USD'") != "0");
  CHECK(SqlValue(db, "SELECT COUNT(*) FROM api_orders WHERE ABS(amount_krw - amount * "
                     "(CASE currency WHEN 'USD' THEN 1350 ELSE 1 END)) > 0.01") == "0");
  json tis = json::parse(sb.Dagctl("tasks api_collect_etl_daily '" + run + "' --json", kDags).out)["task_instances"];
  REQUIRE(tis.size() == 5);
  for (const json& ti : tis) {
    INFO(ti["task_id"]);
    CHECK(ti["max_tries"] == 3);  // Airflow's max_tries: the retries allowed
  }
  // A second run of the day replaces its partition.
  RunOk(sb, "api_collect_etl_daily", "2026-11-21");
  CHECK(SqlValue(db, "SELECT COUNT(*) FROM api_orders") == "40");
}

TEST_CASE("seed DAGs: api_collect_etl_daily's load triggers api_orders_daily_report through its asset") {
  Sandbox sb;
  Seed(sb, "--date 2026-11-21");
  std::string load_run = RunOk(sb, "api_collect_etl_daily", "2026-11-21");
  json assets = json::parse(sb.Dagctl("assets list --json", kDags).out)["datasets"];
  REQUIRE(assets.size() == 1);
  CHECK(assets[0]["uri"] == "warehouse://api_orders");
  CHECK(assets[0]["consuming_dags"][0]["dag_id"] == "api_orders_daily_report");
  // Only the report may run: the scheduler creates its run from the recorded event.
  for (const char* dag : {"api_collect_etl_daily", "nolabel_products_weekly", "recsys_retrain",
                          "smartcar_log_ingest", "user_log_rollup_daily", "yolov5_image_collection_daily"})
    REQUIRE(sb.Dagctl(std::string("pause ") + dag, kDags).exit_code == 0);
  Background scheduler(sb, "scheduler", kDags);
  auto report_run = [&]() -> json {
    Output o = sb.Dagctl("runs api_orders_daily_report --json", kDags);
    json runs = o.exit_code == 0 ? json::parse(o.out)["dag_runs"] : json::array();
    return runs.empty() ? json() : runs[0];
  };
  REQUIRE(WaitFor([&] { return report_run()["state"] == "success"; }, 30));
  CHECK(report_run()["run_type"] == "dataset_triggered");
  fs::path db = sb.home() / "warehouse.db";
  CHECK(SqlValue(db, "SELECT orders FROM api_orders_daily WHERE dt = '2026-11-21'") == "40");
  std::string log = Log(sb, "api_orders_daily_report", report_run()["dag_run_id"], "announce");
  CHECK(log.find("triggered by: {\"warehouse://api_orders\":[{") != std::string::npos);
  CHECK(log.find("\"source_run_id\":\"" + load_run + "\"") != std::string::npos);
  CHECK(scheduler.Signal(SIGTERM) == 0);
}

TEST_CASE("seed DAGs: recsys_retrain backs up the drop, loads the star schema, retrains and moves the drop") {
  Sandbox sb;
  Seed(sb, "--date 2026-11-21");
  std::string run = RunOk(sb, "recsys_retrain", "2026-11-21T10:00:00Z");
  CHECK(fs::exists(sb.home() / "lake/backup/recsys/20261121T100000/ratings_20261121.csv"));
  fs::path mart = sb.home() / "recsys_mart.db";
  CHECK(SqlValue(mart, "SELECT COUNT(*) FROM fact_rating") == "1200");  // 3 bad rows and 3 repeats dropped
  CHECK(SqlValue(mart, "SELECT COUNT(*) FROM dim_user") == "60");
  CHECK(SqlValue(mart, "SELECT COUNT(*) FROM dim_item") == "40");
  CHECK(SqlValue(mart, "SELECT COUNT(*) FROM fact_rating f JOIN dim_date d ON d.date_id = f.date_id") == "1200");
  json model = json::parse(ReadFile(sb.home() / "lake/models/recsys/20261121T100000/model.json"));
  CHECK(model["ratings"] == 1200);
  CHECK(model["rmse"].get<double>() < model["mean_rmse"].get<double>());
  CHECK(model["item_factors"].size() == 40);
  CHECK(CountFiles(sb.home() / "sources/recsys_drops", ".csv") == 0);
  CHECK(fs::exists(sb.home() / "sources/recsys_drops/processed/20261121T100000/ratings_20261121.csv"));
  CHECK(!fs::exists(sb.home() / "sinks/alerts/webhook.jsonl"));
  CHECK(Log(sb, "recsys_retrain", run, "retrain").find("(predicting the mean: ") != std::string::npos);
}

TEST_CASE("seed DAGs: a recsys_retrain task that fails posts to the webhook, and no model is published") {
  Sandbox sb;
  fs::path dags = WithoutRetries(sb, "recsys_retrain", "retries: 1");
  fs::create_directories(sb.home() / "sources/recsys_drops");
  std::ofstream(sb.home() / "sources/recsys_drops/ratings_bad.csv")
      << "user_id,item_id,rating,rated_at,user_age_band,item_title,item_genre\n1,2,9,x,20s,T,drama\n";
  Output o = sb.Dagctl("run recsys_retrain --date 2026-11-21T10:00:00Z", dags.string());
  CHECK(o.exit_code == 1);
  std::vector<json> posts = JsonLines(sb.home() / "sinks/alerts/webhook.jsonl");
  REQUIRE(posts.size() == 1);
  CHECK(json::parse(posts[0]["body"].get<std::string>())["text"] ==
        ":warning: recsys_retrain.retrain failed (try 1, run manual__2026-11-21T10:00:00+00:00): exit code 1");
  CHECK(!fs::exists(sb.home() / "lake/models"));
  CHECK(SqlValue(sb.home() / "recsys_mart.db", "SELECT COUNT(*) FROM fact_rating") == "0");
}

TEST_CASE("serve --with-redis starts a redis-server on redis_default's port and stops it with serve") {
  Sandbox sb;
  int redis_port = FreePort();
  fs::create_directories(sb.work() / "dags");
  std::string ping = "redis-cli -p " + std::to_string(redis_port) + " PING >/dev/null 2>&1";
  // The background process inherits this environment.
  setenv("DAGCTL_CONN_REDIS_DEFAULT", ("redis://127.0.0.1:" + std::to_string(redis_port) + "/0").c_str(), 1);
  Background serve(sb, "serve --with-redis --port " + std::to_string(FreePort()), (sb.work() / "dags").string());
  unsetenv("DAGCTL_CONN_REDIS_DEFAULT");
  REQUIRE(WaitFor([&] { return std::system(ping.c_str()) == 0; }, 10));
  CHECK(WaitFor([&] { return serve.Log().find("started redis-server on 127.0.0.1:" + std::to_string(redis_port)) !=
                             std::string::npos; },
                5));
  CHECK(fs::exists(sb.home() / "redis/redis.log"));
  CHECK(serve.Signal(SIGTERM) == 0);
  CHECK(WaitFor([&] { return std::system(ping.c_str()) != 0; }, 10));
}

TEST_CASE("serve --with-redis refuses a redis_default that is not on this machine") {
  Sandbox sb;
  Output o = sb.Dagctl("serve --with-redis --port 0", FIXTURES_DIR "/dags",
                       "DAGCTL_CONN_REDIS_DEFAULT=redis://10.1.2.3:6379/0");
  CHECK(o.exit_code == 1);
  CHECK(o.err == "dagctl: --with-redis starts a local redis-server, but connection redis_default points at "
                 "10.1.2.3:6379\n");
}
