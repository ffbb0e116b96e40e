// Outside text: UTF-8 checks, quoting in messages, bounded file reads, bounded JSON.
#include "engine/text.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "engine/json_io.h"
#include "engine/log_file.h"

using namespace dagctl;
namespace fs = std::filesystem;

TEST_CASE("FindInvalidUtf8 finds the first byte that is not UTF-8") {
  struct Case {
    std::string text;
    std::optional<size_t> bad;
  };
  const Case cases[] = {
      {"", std::nullopt},
      {"plain ascii", std::nullopt},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", std::nullopt},  // é € 😀
      {"caf\xe9", 3},                                               // Latin-1
      {"\xc0\xaf", 0},                                              // overlong '/'
      {"ok\xed\xa0\x80", 2},                                        // a UTF-16 surrogate
      {"\xf4\x90\x80\x80", 0},                                      // past U+10FFFF
      {"ab\xe2\x82", 2},                                            // cut short
  };
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(FindInvalidUtf8(c.text) == c.bad);
  }
}

TEST_CASE("Shorten cuts long text at a character boundary and says so") {
  CHECK(Shorten("short", 80) == "short");
  CHECK(Shorten(std::string(100, 'a'), 10) == "aaaaaaaaaa...");
  CHECK(Shorten("aaaaaaaaa\xc3\xa9zz", 10) == "aaaaaaaaa...");  // é is not split
}

TEST_CASE("ReadFileLimited reads up to the limit and refuses more, whatever the file is") {
  fs::path dir = fs::temp_directory_path() / ("dagctl_text_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "small") << "hello";
  { std::ofstream(dir / "big"); }
  fs::resize_file(dir / "big", 3 << 20);
  CHECK(ReadFileLimited((dir / "small").string(), 1 << 20).value() == "hello");
  CHECK(ReadFileLimited((dir / "big").string(), 1 << 20).error().message() ==
        "the file is 3145728 bytes, over the 1 MiB limit");
  CHECK(ReadFileLimited("/dev/zero", 1 << 20).error().message() ==
        "the file is more than 1048576 bytes, over the 1 MiB limit");
  CHECK(ReadFileLimited((dir / "missing").string(), 1 << 20).error().message() ==
        "cannot read file: No such file or directory");
  CHECK(ReadFileLimited(dir.string(), 1 << 20).error().message() ==
        "cannot read file: it is a folder");
  fs::remove_all(dir);
}

TEST_CASE("ParseJson bounds nesting, and DumpJson never throws on bytes that are not UTF-8") {
  CHECK(ParseJson("{\"a\": [1, {\"b\": null}]}").value()["a"][1]["b"].is_null());
  CHECK(ParseJson(std::string(64, '[') + std::string(64, ']')).has_value());
  CHECK(ParseJson(std::string(65, '[') + std::string(65, ']')).error().message() ==
        "JSON nested more than 64 levels deep");
  CHECK(ParseJson(std::string(100000, '[')).error().message() ==
        "JSON nested more than 64 levels deep");
  CHECK(ParseJson("{\"a\": ").error().message() == "not valid JSON (syntax error at byte 7)");
  CHECK(DumpJson(nlohmann::json{{"f", "n\xff.yaml"}}) == "{\"f\":\"n\xef\xbf\xbd.yaml\"}");
}

TEST_CASE("ReadLogTail reads from an offset, but no more than the last max bytes, from a line start") {
  fs::path file = fs::temp_directory_path() / ("dagctl_log_" + std::to_string(::getpid()));
  {
    std::ofstream out(file);
    for (int i = 0; i < 10; ++i) out << "line " << i << "...\n";  // 10 bytes each
  }
  CHECK(ReadLogTail(file.string(), 0, 1000).size() == 100);
  CHECK(ReadLogTail(file.string(), 80, 1000) == "line 8...\nline 9...\n");
  CHECK(ReadLogTail(file.string(), 0, 35) ==
        "[dagctl] this log is 100 bytes; here are its last 30 ('dagctl logs' prints all of it)\n"
        "line 7...\nline 8...\nline 9...\n");
  CHECK(ReadLogTail(file.string(), 80, 35) == "line 8...\nline 9...\n");
  CHECK(ReadLogTail(file.string(), 90, SIZE_MAX) == "line 9...\n");  // no limit at all
  CHECK(ReadLogTail((file.string() + ".missing"), 0, 35) == "");
  fs::remove(file);
}
