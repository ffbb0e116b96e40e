#!/usr/bin/env bash
# The example plug-in built out of tree against the installed SDK, loaded by
# dagctl and used from a DAG; and the messages for plug-ins that cannot load.
#   plugin_test.sh BUILD_DIR SOURCE_DIR DAGCTL
set -euo pipefail
build=$1 src=$2 dagctl=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() {  # check DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); printf 'FAILED: %s\n  expected: %s\n  actual:   %s\n' "$1" "$2" "$3"; fi
}

cmake --install "$build" --prefix "$work/sdk" >/dev/null
cmake -S "$src/examples/custom_operator" -B "$work/wc" -DCMAKE_PREFIX_PATH="$work/sdk" >/dev/null
cmake --build "$work/wc" >/dev/null
mkdir -p "$work/home/plugins"
cp "$work/wc/word_count.so" "$work/home/plugins/"
export DAGCTL_HOME="$work/home"

printf 'one two three\nfour\n' > "$work/words.txt"
cat > "$work/count.yaml" <<YAML
tasks:
  - {id: count, operator: word_count, path: $work/words.txt, min_words: 2}
  - {id: show, command: 'echo words={{ xcom.count }}', depends_on: count}
YAML
"$dagctl" run "$work/count.yaml" >/dev/null 2>&1 && rc=0 || rc=$?
check "the DAG with the plug-in operator succeeds" 0 "$rc"
run_id=$("$dagctl" runs count --limit 1 | awk 'NR == 2 {print $1}')
# What the task printed: the text of the log's [out] and [err] lines.
printed() { "$dagctl" logs count "$run_id" "$1" | sed -n 's/^[^ ]* \[\(out\|err\)\] //p'; }
check "XCom from the plug-in reaches downstream" "words=4" "$(printed show)"
check "the plug-in's log" "word_count: $work/words.txt has 4 words" "$(printed count)"

cat > "$work/neg.yaml" <<YAML
tasks:
  - {id: count, operator: word_count, path: /x, min_words: -1}
YAML
out=$("$dagctl" validate "$work/neg.yaml" 2>&1) && rc=0 || rc=$?
check "the plug-in's own validation runs at load" "2 $work/neg.yaml:2:60: error: tasks[0]: 'min_words' cannot be negative" "$rc $out"

# A plug-in for another ABI version, and a library that is no plug-in.
cat > "$work/old.cc" <<'CC'
extern "C" int dagctl_plugin_abi_version() { return 99; }
extern "C" void dagctl_register_operators(void*) {}
CC
g++ -shared -fPIC -o "$work/home/plugins/old.so" "$work/old.cc"
g++ -shared -fPIC -o "$work/home/plugins/plain.so" -x c++ - <<<'int answer() { return 42; }'
out=$("$dagctl" validate "$work/count.yaml" 2>&1) && rc=0 || rc=$?
check "other plug-ins still load" 0 "$rc"
check "a wrong ABI version is named" 1 "$(grep -c "plugin $work/home/plugins/old.so: built for plug-in ABI 99, this dagctl has 1; rebuild it against this SDK" <<<"$out")"
check "a library without a registration is named" 1 "$(grep -c "plugin $work/home/plugins/plain.so: not a dagctl plug-in (no DAGCTL_PLUGIN registration)" <<<"$out")"

echo "plugin test: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
