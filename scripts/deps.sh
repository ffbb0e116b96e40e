#!/usr/bin/env bash
# Installs the Debian packages dagctl builds and tests with (Debian 12).
# Skips apt entirely when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libboost-graph-dev libcpp-httplib-dev libsqlite3-dev libyaml-cpp-dev libfmt-dev
  catch2 nlohmann-json3-dev libhowardhinnant-date-dev tzdata
  libhiredis-dev redis-server librdkafka-dev libpq-dev libmariadb-dev postgresql mariadb-server
  make time python3 sqlite3
  iproute2  # the cluster tests' second "machine": a network namespace and a veth pair
  chromium  # the dashboard's browser tests (tests/browser)
)
# Debian 12's Node.js is 18: the browser tests' driver is pinned to a release
# that runs on it (playwright-core 1.61; later ones need Node 20).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
