#!/usr/bin/env bash
# The Quickstart's first command as a new user runs it: start scripts/serve.sh,
# wait for the dashboard, list the DAGs through the API and the CLI, stop it.
# Run from the project root; on a fresh Debian 12 root:
#   ../shared/tools/fresh-debian.sh tests/fresh/quickstart_serve.sh
set -u
cd "${1:-.}"
scripts/serve.sh --port 8080 > /tmp/serve.log 2>&1 &
pid=$!
get() { python3 -c 'import sys,urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1" 2>/dev/null; }
for i in $(seq 1 1200); do
  get http://127.0.0.1:8080/ >/dev/null && break
  kill -0 $pid 2>/dev/null || { echo "serve.sh exited early"; tail -20 /tmp/serve.log; exit 1; }
  sleep 1
done
echo "dashboard up after ${i}s: $(get http://127.0.0.1:8080/ | grep -o '<title>[^<]*</title>')"
sleep 8
get 'http://127.0.0.1:8080/api/v1/dags' | python3 -c 'import json,sys; d=json.load(sys.stdin); print("API dags:", d["total_entries"], [x["dag_id"] for x in d["dags"]])'
build/dagctl --dags dags list
for d in $(build/dagctl --dags dags list --json | python3 -c 'import json,sys; print(" ".join(x["dag_id"] for x in json.load(sys.stdin)["dags"]))'); do
  build/dagctl --dags dags runs $d | head -2
done
kill -INT $pid; wait $pid
echo "serve.sh exit: $?"
