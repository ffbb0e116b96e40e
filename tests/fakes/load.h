// Loading DAG text in tests.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "engine/dag_loader.h"
#include "operators/operator.h"

namespace dagctl::testing {

/// The built-in operators, registered once.
inline const OperatorRegistry& Operators() {
  static OperatorRegistry* registry = [] {
    auto* r = new OperatorRegistry;
    RegisterBuiltinOperators(*r);
    return r;
  }();
  return *registry;
}

/// Loads `yaml` as dags/test.yaml; the diagnostics, one per line ("" when it loaded).
inline std::string LoadErrors(const std::string& yaml) {
  Diagnostics diags("dags/test.yaml");
  LoadDagText(yaml, "dags/test.yaml", Operators(), diags);
  return diags.ToString();
}

/// Loads `yaml`, failing the test with the diagnostics if it does not load.
inline std::shared_ptr<Dag> MustLoad(const std::string& yaml) {
  Diagnostics diags("dags/test.yaml");
  auto dag = LoadDagText(yaml, "dags/test.yaml", Operators(), diags);
  INFO(diags.ToString());
  REQUIRE(dag);
  return dag;
}

}  // namespace dagctl::testing
