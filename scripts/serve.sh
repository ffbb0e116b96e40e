#!/usr/bin/env bash
# The main job on one machine: installs what is missing, builds, writes the
# sample sources the seed pipelines read (dags/sample/seed.py), and runs
# `dagctl serve` on dags/ — the scheduler, the REST API and the dashboard on
# http://127.0.0.1:8080 — with a local redis-server for the Redis tasks.
# Arguments go to `dagctl serve` (e.g. --port 9090). Ctrl-C stops it all.
set -euo pipefail
# The project's root: this script's parent folder, or the working directory
# when the script runs from a copy elsewhere.
root=$(cd "$(dirname "$0")/.." && pwd)
[[ -f $root/CMakeLists.txt ]] || root=$PWD
cd "$root"
scripts/build.sh dagctl
export DAGCTL_HOME="${DAGCTL_HOME:-$HOME/.dagctl}"
python3 dags/sample/seed.py --home "$DAGCTL_HOME"
# The seed pipelines' loads into the warehouse take the `warehouse` pool: one writer at a time.
build/dagctl --dags dags pools list | grep -q '^warehouse ' ||
  build/dagctl --dags dags pools set warehouse 1 --description "one writer at a time into the warehouse"
exec build/dagctl --dags dags serve --with-redis "$@"
