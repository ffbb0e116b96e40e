#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang 16, AddressSanitizer and
# UndefinedBehaviorSanitizer, in build-fuzz/) and runs each for SECONDS
# (default 60), one after another, niced. Prints per target the executions,
# the corpus size and the findings (crash-, leak-, timeout-, oom- files);
# exits 1 if any target found something.
#
#   tests/fuzz/run.sh [SECONDS]
#   DAGCTL_FUZZ_TARGETS="cron api" tests/fuzz/run.sh 600   # some targets only
#
# A finding is fixed at its root, then its input goes to
# tests/fuzz/regressions/<target>/ with a line in tests/unit/fuzz_regression_test.cc.
set -euo pipefail

seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${DAGCTL_FUZZ_BUILD:-$root/build-fuzz}
read -r -a targets <<<"${DAGCTL_FUZZ_TARGETS:-dag_loader cron duration template connection api redis_commands conf outcome}"

# clang 16: the first Debian 12 clang whose <expected> support can be switched on.
missing=()
for p in clang-16 libclang-rt-16-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDAGCTL_FUZZ=ON \
  -DCMAKE_CXX_COMPILER=clang++-16 -DBUILD_TESTING=OFF >/dev/null
nice -n 10 cmake --build "$build" -j2 --target "${targets[@]/#/fuzz_}"

found=0
for t in "${targets[@]}"; do
  work="$build/runs/$t"
  rm -rf "$work/findings"  # only what this run finds
  mkdir -p "$work/corpus" "$work/findings"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="${DAGCTL_FUZZ_MAX_LEN:-8192}"
        -print_final_stats=1
        -artifact_prefix="$work/findings/")
  [[ -f "$root/tests/fuzz/dicts/$t.dict" ]] && args+=(-dict="$root/tests/fuzz/dicts/$t.dict")
  inputs=("$work/corpus" "$root/tests/fuzz/corpus/$t")
  [[ -d "$root/tests/fuzz/regressions/$t" ]] && inputs+=("$root/tests/fuzz/regressions/$t")
  nice -n 10 "$build/tests/fuzz/fuzz_$t" "${args[@]}" "${inputs[@]}" >"$work/log" 2>&1 || true
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' || echo "?")
  corpus=$(find "$work/corpus" -type f | wc -l)
  findings=$(find "$work/findings" -type f | wc -l)
  printf '%-15s %10s executions in %ss, corpus %5s files, %s findings\n' \
    "$t" "$execs" "$seconds" "$corpus" "$findings"
  if ((findings > 0)); then
    found=1
    find "$work/findings" -type f | sed 's/^/    /'
    echo "    log: $work/log"
  fi
done
exit $found
