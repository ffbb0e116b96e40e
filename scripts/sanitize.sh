#!/usr/bin/env bash
# The test suite under sanitizers, in its own build folder:
#
#   scripts/sanitize.sh address            # ASan + UBSan, every test (build-asan/)
#   scripts/sanitize.sh thread             # TSan, the tests that run threads (build-tsan/)
#   scripts/sanitize.sh address -R store   # more ctest arguments narrow the run
#
# Every process the tests start (the dagctl binary of the integration tests
# too) writes its sanitizer reports to a folder; the script prints them and
# exits 1 if there is any, even when every test passed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
kind=${1:-address}
shift || true
case $kind in
  address) build=build-asan ;;
  thread) build=build-tsan ;;
  *) echo "usage: scripts/sanitize.sh address|thread [ctest arguments]" >&2; exit 2 ;;
esac
scripts/deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDAGCTL_SANITIZE="$kind" >/dev/null
nice cmake --build "$build" -j"$(nproc)"
if [[ -d tests/browser && ! -d tests/browser/node_modules ]]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

reports=$(mktemp -d "${TMPDIR:-/tmp}/dagctl_${kind}_XXXXXX")
supp=$root/tests/sanitizers
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="log_path=$reports/tsan:suppressions=$supp/tsan.supp:second_deadlock_stack=1"
# The threaded parts: the scheduler and worker loop with its guardian, the web
# server, the store's connections, and everything that runs them for real.
args=("$@")
if [[ $kind == thread && ${#args[@]} -eq 0 ]]; then
  # Left out: the Kafka operator's tests (its body starts librdkafka's threads
  # in a child forked from a threaded process, which ThreadSanitizer does not
  # support: the child crashes in TSan's runtime) and the thousand-run cluster
  # test (past its time limit at TSan's speed; the other cluster tests run).
  args=(-R "scheduler|serve|webserver|worker|cluster|executor|api|store|mapping|groups|versions|faults|full disk|log|a try "
        -E "kafka|two schedulers and three workers")
fi
status=0
(cd "$build" && ctest --output-on-failure -j"$(nproc)" "${args[@]}") || status=$?
found=$(find "$reports" -type f | sort)
if [[ -n $found ]]; then
  echo "sanitizer reports ($kind):"
  for f in $found; do
    echo "== $f"
    head -60 "$f"
  done
  status=1
else
  echo "sanitizer reports ($kind): none"
fi
rm -rf "$reports"
exit $status
