// `word_count`: counts the words of a file and pushes the count to XCom.
// A complete dagctl plug-in: an Operator with its keys, a load-time check,
// code that runs in the try's own process, and the registration.
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "operators/plugin.h"

namespace {

class WordCount : public dagctl::Operator {
 public:
  std::string name() const override { return "word_count"; }

  const std::vector<dagctl::ParamSpec>& params() const override {
    static const std::vector<dagctl::ParamSpec> kParams = {
        {"path", dagctl::ParamType::kString, true, true, "The file to count."},
        {"min_words", dagctl::ParamType::kInt, false, false, "Fail below this many (0)."},
    };
    return kParams;
  }

  void Validate(const dagctl::Value& params, dagctl::Diagnostics& diags) const override {
    const dagctl::Value* min = params.Find("min_words");
    if (min && min->IsScalar() && dagctl::ScalarAsInt(min->scalar).value_or(0) < 0)
      diags.Error(min->mark, "'min_words' cannot be negative");
  }

  dagctl::Result<dagctl::Launch> Prepare(const dagctl::TryContext& ctx) const override {
    std::string path = ctx.params.Find("path")->scalar;
    const dagctl::Value* min = ctx.params.Find("min_words");
    long minimum = min ? dagctl::ScalarAsInt(min->scalar).value_or(0) : 0;
    dagctl::Launch launch;
    // Runs in the try's own process: a crash here fails only this try.
    launch.body = [path, minimum](dagctl::TryChannel& channel) {
      std::ifstream in(path);
      if (!in) {
        std::cerr << "word_count: cannot read " << path << "\n";
        return 1;
      }
      long words = 0;
      for (std::string w; in >> w;) ++words;
      std::cerr << "word_count: " << path << " has " << words << " words\n";
      if (words < minimum) {
        std::cerr << "word_count: fewer than " << minimum << "\n";
        return 1;
      }
      channel.PushXCom("return_value", std::to_string(words));
      return 0;
    };
    return launch;
  }
};

void Register(dagctl::OperatorRegistry& registry) {
  (void)registry.Register(std::make_unique<WordCount>());
}

}  // namespace

DAGCTL_PLUGIN(Register)
