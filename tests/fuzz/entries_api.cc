// The REST API's entry function: a request through ApiService, the real
// handler, without sockets, against a small DAGs folder and a SQLite store
// made once per process.
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "api/api_service.h"
#include "engine/json_io.h"
#include "engine/store/sql_store.h"
#include "fuzz/entries.h"
#include "operators/operator.h"

namespace dagctl::fuzz {

namespace {

namespace fs = std::filesystem;

class FixedClock : public Clock {
 public:
  Timestamp Now() const override { return ParseDateTime("2026-03-10T12:00:00Z").value(); }
};

// The service and what it stands on, made on first use and kept.
struct World {
  fs::path dir;
  OperatorRegistry ops;
  std::unique_ptr<Store> store;
  std::unique_ptr<api::DagSource> dags;
  FixedClock clock;
  std::unique_ptr<api::ApiService> service;

  World() {
    // /dev/shm when there is one: the store commits on every write.
    fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    dir = base / ("dagctl_fuzz_api_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "dags");
    std::ofstream(dir / "dags" / "etl.yaml")
        << "schedule: '0 2 * * *'\nstart_date: 2026-03-01\nparams: {n: 1, l: [1], m: {a: 1}}\n"
           "tasks:\n  - {id: extract, command: 'echo {{ params.n }}'}\n"
           "  - {id: load, command: x, depends_on: extract}\n";
    std::ofstream(dir / "dags" / "broken.yaml") << "tasks: [\n";
    RegisterBuiltinOperators(ops);
    store = std::move(OpenSqliteStore((dir / "dagctl.db").string()).value());
    dags = std::make_unique<api::DagSource>((dir / "dags").string(), ops);
    service = std::make_unique<api::ApiService>(api::ApiContext{
        [this] { return store.get(); }, dags.get(), (dir / "logs").string(), &clock});
  }
  ~World() { fs::remove_all(dir); }
};

World& TheWorld() {
  static World world;  // removes its folder at exit
  return world;
}

// %XX and '+' as a query string has them.
std::string Decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::strtol(std::string(s.substr(i + 1, 2)).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

// Input: "METHOD PATH\nQUERY\nBODY" (PATH after /api/v1, already decoded as
// httplib hands it over; QUERY as a URL has it).
api::ApiRequest ParseRequest(std::string_view input) {
  api::ApiRequest req;
  auto line = [&]() {
    size_t nl = input.find('\n');
    std::string_view l = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    return l;
  };
  std::string_view first = line();
  size_t sp = first.find(' ');
  req.method = std::string(first.substr(0, sp));
  req.path = sp == std::string_view::npos ? "/" : std::string(first.substr(sp + 1));
  std::string_view query = line();
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    size_t eq = kv.find('=');
    req.query.emplace(Decode(kv.substr(0, eq)),
                      eq == std::string_view::npos ? "" : Decode(kv.substr(eq + 1)));
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  req.wants_text = req.method.ends_with("+text");
  if (req.wants_text) req.method.resize(req.method.size() - 5);
  req.body = std::string(input);
  return req;
}

// Every answer is a status the API may give, and JSON it can parse back
// (text/plain only for logs); an error is problem JSON with its status.
std::string CheckResponse(const api::ApiResponse& r) {
  if (r.status >= 500 && r.status != 503) return fmt::format("status {}", r.status);
  if (r.status < 200) return fmt::format("status {}", r.status);
  if (r.content_type.starts_with("text/plain")) return "";
  auto j = ParseJson(r.body);
  if (!j) return "the body is not JSON: " + j.error().message();
  if (r.status >= 400 && (!j->is_object() || !j->contains("status") || (*j)["status"] != r.status))
    return "an error that is not problem JSON";
  return "";
}

}  // namespace

Outcome Api(std::string_view input) {
  api::ApiResponse r = TheWorld().service->Handle(ParseRequest(input));
  return {fmt::format("{} {}", r.status, r.body), CheckResponse(r)};
}

}  // namespace dagctl::fuzz
