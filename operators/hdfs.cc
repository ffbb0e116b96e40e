#include "operators/hdfs.h"

#include <fmt/format.h>
#include <glob.h>
#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/json_io.h"
#include "operators/http_util.h"

namespace dagctl {

namespace fs = std::filesystem;

namespace {

std::string Scalar(const Value& p, const char* key, std::string fallback = "") {
  const Value* v = p.Find(key);
  return v && v->IsScalar() ? v->scalar : fallback;
}

// "RemoteException" bodies say what went wrong; fall back to the raw body.
std::string Explain(const httplib::Result& res) {
  if (!res) return httplib::to_string(res.error());
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (!j.is_discarded() && j.contains("RemoteException"))
    return fmt::format("{} {}: {}", res->status, j["RemoteException"].value("exception", "?"),
                       j["RemoteException"].value("message", ""));
  return fmt::format("{} {}", res->status, res->body.substr(0, 500));
}

std::string Query(const HdfsTarget& t, const std::string& op, const std::string& more = "") {
  std::string q = "?op=" + op + more;
  if (!t.user.empty()) q += "&user.name=" + t.user;
  return q;
}

std::string Rest(const std::string& path) { return "/webhdfs/v1" + EncodePath(path); }

bool Mkdirs(const HdfsTarget& t, const std::string& path) {
  if (t.local) {
    std::error_code ec;
    fs::create_directories(fs::path(t.base) / fs::path(path).relative_path(), ec);
    if (ec) fmt::print(stderr, "hdfs: cannot create {}: {}\n", path, ec.message());
    return !ec;
  }
  httplib::Client cli(t.base);
  auto res = cli.Put((Rest(path) + Query(t, "MKDIRS")).c_str(), "", "application/octet-stream");
  if (res && res->status == 200) return true;
  fmt::print(stderr, "hdfs: MKDIRS {} failed: {}\n", path, Explain(res));
  return false;
}

// One file: local copy, or WebHDFS CREATE (namenode answers 307 with the
// datanode's Location, which takes the data).
bool Put(const HdfsTarget& t, const std::string& source, const std::string& dest, bool overwrite) {
  std::ifstream in(source, std::ios::binary);
  if (!in) {
    fmt::print(stderr, "hdfs: cannot read {}\n", source);
    return false;
  }
  std::stringstream data;
  data << in.rdbuf();
  if (t.local) {
    fs::path target = fs::path(t.base) / fs::path(dest).relative_path();
    std::error_code ec;
    if (fs::exists(target) && !overwrite) {
      fmt::print(stderr, "hdfs: {} already exists (set overwrite: true to replace it)\n", dest);
      return false;
    }
    fs::create_directories(target.parent_path(), ec);
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out << data.str();
    if (!out) fmt::print(stderr, "hdfs: cannot write {}\n", target.string());
    return static_cast<bool>(out);
  }
  httplib::Client nn(t.base);
  nn.set_follow_location(false);
  std::string q = Query(t, "CREATE", overwrite ? "&overwrite=true" : "&overwrite=false");
  auto first = nn.Put((Rest(dest) + q).c_str(), "", "application/octet-stream");
  if (!first || first->status != 307 || !first->has_header("Location")) {
    fmt::print(stderr, "hdfs: CREATE {} failed: {}\n", dest, Explain(first));
    return false;
  }
  std::string location = first->get_header_value("Location");
  auto split = SplitUrl(location);
  if (!split) {
    fmt::print(stderr, "hdfs: the namenode redirected to '{}'\n", location);
    return false;
  }
  httplib::Client dn(split->first);
  auto second = dn.Put(split->second.c_str(), data.str(), "application/octet-stream");
  if (!second || second->status != 201) {
    fmt::print(stderr, "hdfs: writing {} to the datanode failed: {}\n", dest, Explain(second));
    return false;
  }
  return true;
}

bool Exists(const HdfsTarget& t, const std::string& path, bool* error) {
  *error = false;
  if (t.local) return fs::exists(fs::path(t.base) / fs::path(path).relative_path());
  httplib::Client cli(t.base);
  auto res = cli.Get((Rest(path) + Query(t, "GETFILESTATUS")).c_str());
  if (res && res->status == 200) return true;
  if (res && res->status == 404) return false;
  fmt::print(stderr, "hdfs: GETFILESTATUS {}: {}\n", path, Explain(res));
  *error = !res;  // an unreachable namenode is "not yet", not a failure
  return false;
}

// What hdfs_put copies: each local file and its name under the destination
// folder. A folder goes with its whole tree (as `hdfs dfs -put DIR`); a
// pattern that matches nothing is an error.
struct SourceFile {
  std::string path;
  std::string name;  // relative: the file's name, or DIR/sub/file
};

Result<std::vector<SourceFile>> Sources(const Value& p) {
  std::vector<std::string> patterns;
  if (const Value* v = p.Find("source")) {
    if (v->IsScalar()) patterns.push_back(v->scalar);
    for (const Value& i : v->items) patterns.push_back(i.scalar);
  }
  std::vector<SourceFile> files;
  for (const std::string& pattern : patterns) {
    glob_t g{};
    std::vector<std::string> matches;
    if (glob(pattern.c_str(), 0, nullptr, &g) == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) matches.push_back(g.gl_pathv[i]);
    globfree(&g);
    if (matches.empty())
      return Fail(Error::InvalidArgument(fmt::format("hdfs_put: no file matches '{}'", pattern)));
    for (const std::string& m : matches) {
      fs::path top(m);
      std::error_code ec;
      if (!fs::is_directory(top, ec)) {
        files.push_back({m, top.filename().string()});
        continue;
      }
      std::vector<SourceFile> tree;
      for (fs::recursive_directory_iterator it(top, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec))
          tree.push_back({it->path().string(), (top.filename() / it->path().lexically_relative(top)).string()});
      if (ec)
        return Fail(Error::IOError(fmt::format("hdfs_put: cannot read the folder {}: {}", m, ec.message())));
      std::sort(tree.begin(), tree.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
      files.insert(files.end(), tree.begin(), tree.end());
    }
  }
  return files;
}

void NeedTarget(const Value& params, Diagnostics& diags, const char* op) {
  if (!params.Find("conn_id") && !params.Find("url"))
    diags.Error(params.mark, fmt::format("operator '{}' needs 'conn_id' or 'url'", op));
}

const ParamSpec kConn{"conn_id", ParamType::kString, false, false, "A webhdfs (or file) connection."};
const ParamSpec kUrl{"url", ParamType::kString, false, true, "http(s)://namenode:9870 or file:///dir."};

}  // namespace

Result<HdfsTarget> ResolveHdfs(const Value& params) {
  HdfsTarget t;
  std::string url = Scalar(params, "url");
  if (url.rfind("file://", 0) == 0) {
    t.local = true;
    t.base = url.substr(7);
    return t;
  }
  if (!url.empty()) {
    auto split = SplitUrl(url);
    if (!split) return Fail(Error::InvalidArgument("hdfs: " + split.error().message()));
    t.base = split->first;
    return t;
  }
  auto conn = LookupConnection(Scalar(params, "conn_id"));
  if (!conn) return Fail(conn.error());
  if (conn->conn_type == "file") {
    t.local = true;
    t.base = "/" + conn->schema;
    return t;
  }
  t.base = BaseUrl(*conn, "http", 9870);
  t.user = conn->login;
  return t;
}

const std::vector<ParamSpec>& HdfsPutOperator::params() const {
  static const std::vector<ParamSpec> kParams = {
      {"source", ParamType::kStringList, true, true, "Local file(s), folder(s) or glob(s)."},
      {"destination", ParamType::kString, true, true, "HDFS file, or folder ending in '/'."},
      {"overwrite", ParamType::kBool, false, false, "Replace existing files (false)."},
      kConn, kUrl};
  return kParams;
}

void HdfsPutOperator::Validate(const Value& params, Diagnostics& diags) const {
  NeedTarget(params, diags, "hdfs_put");
}

Result<Launch> HdfsPutOperator::Prepare(const TryContext& ctx) const {
  auto target = ResolveHdfs(ctx.params);
  if (!target) return Fail(target.error());
  std::string dest = Scalar(ctx.params, "destination");
  bool overwrite = ScalarAsBool(Scalar(ctx.params, "overwrite", "false")).value_or(false);
  auto files = Sources(ctx.params);
  if (!files) return Fail(files.error());
  const Value* source = ctx.params.Find("source");
  bool many = (source && source->IsSequence() && source->items.size() > 1) || files->size() > 1 ||
              (files->size() == 1 && files->front().name.find('/') != std::string::npos);
  Launch launch;
  launch.body = [t = *target, files = *files, dest, overwrite, many](TryChannel& channel) {
    bool into_folder = dest.ends_with("/") || many;
    nlohmann::json written = nlohmann::json::array();
    for (const SourceFile& f : files) {
      std::string to = into_folder ? (fs::path(dest) / f.name).string() : dest;
      if (!Put(t, f.path, to, overwrite)) return 1;
      fmt::print(stderr, "hdfs: put {} -> {}{}\n", f.path, t.local ? "file://" + t.base : t.base, to);
      written.push_back(to);
    }
    channel.PushXCom("return_value", DumpJson(written));
    return 0;
  };
  return launch;
}

const std::vector<ParamSpec>& HdfsMkdirOperator::params() const {
  static const std::vector<ParamSpec> kParams = {
      {"path", ParamType::kString, true, true, "The folder to create, with its parents."}, kConn, kUrl};
  return kParams;
}

void HdfsMkdirOperator::Validate(const Value& params, Diagnostics& diags) const {
  NeedTarget(params, diags, "hdfs_mkdir");
}

Result<Launch> HdfsMkdirOperator::Prepare(const TryContext& ctx) const {
  auto target = ResolveHdfs(ctx.params);
  if (!target) return Fail(target.error());
  Launch launch;
  launch.body = [t = *target, path = Scalar(ctx.params, "path")](TryChannel&) {
    return Mkdirs(t, path) ? 0 : 1;
  };
  return launch;
}

const std::vector<ParamSpec>& HdfsSensor::params() const {
  static const std::vector<ParamSpec> kParams = {
      {"path", ParamType::kString, true, true, "The file or folder to wait for."}, kConn, kUrl};
  return kParams;
}

void HdfsSensor::Validate(const Value& params, Diagnostics& diags) const {
  NeedTarget(params, diags, "hdfs_sensor");
}

Result<Launch> HdfsSensor::Prepare(const TryContext& ctx) const {
  auto target = ResolveHdfs(ctx.params);
  if (!target) return Fail(target.error());
  Launch launch;
  launch.body = [t = *target, path = Scalar(ctx.params, "path")](TryChannel&) {
    bool error = false;
    if (Exists(t, path, &error)) {
      fmt::print(stderr, "hdfs_sensor: {} exists\n", path);
      return 0;
    }
    if (!error) fmt::print(stderr, "hdfs_sensor: {} does not exist yet\n", path);
    return kSensorNotYet;
  };
  return launch;
}

}  // namespace dagctl
