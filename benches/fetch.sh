#!/usr/bin/env bash
# Harvest benchmark: starts examples/fetch-server.rs (a local JIRA of generated issues, on
# 127.0.0.1 only), then times `hindsight fetch` of all of them into a fresh folder, and an
# incremental run right after (nothing changed: one search and the listing). Prints wall time,
# requests, bytes received, and CPU time (user + system) per issue, so that the cost can be
# told apart: the server's answer time is wall time that is not hindsight's CPU time.
#
#   benches/fetch.sh [ISSUES] [WORKDIR]     e.g. benches/fetch.sh 20000 /tmp/fetch-bench
#
# Environment: DELAY_MS (the server's delay per answer, default 0), CAP (issues per search page
# the server allows, default 100), IN_FLIGHT (max_in_flight, default 2). The binaries are taken
# from $CARGO_TARGET_DIR (default target/). Needs /usr/bin/time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."

issues=${1:-20000}
work=${2:-/tmp/hindsight-fetch-bench-$issues}
delay=${DELAY_MS:-0}
cap=${CAP:-100}
in_flight=${IN_FLIGHT:-2}
target=${CARGO_TARGET_DIR:-target}

cargo build --release --quiet --bin hindsight --example fetch-server
bin=$target/release/hindsight
server_bin=$target/release/examples/fetch-server

rm -rf "$work"
mkdir -p "$work"
"$server_bin" --issues "$issues" --cap "$cap" --delay-ms "$delay" > "$work/server.out" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q listening "$work/server.out" 2>/dev/null && break
  sleep 0.05
done
url=$(sed -n 's/^listening on //p' "$work/server.out")

cat > "$work/hindsight.toml" <<TOML
title = "Harvest benchmark"
[[tracker]]
name = "jira"
paths = ["harvest/jira/*.json"]
[tracker.fetch]
kind = "jira"
url = "$url"
jql = "project = LU ORDER BY key"
max_in_flight = $in_flight
TOML

run() {
  local label=$1
  /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$bin" fetch --quiet --config "$work/hindsight.toml" > "$work/$label.txt"
  read -r wall user sys rss < "$work/time.txt"
  local line requests mb fetched
  line=$(head -1 "$work/$label.txt")
  requests=$(sed -n 's/.*; \([0-9]*\) requests.*/\1/p' <<< "$line")
  mb=$(sed -n 's/.* \([0-9.]*\) MB received.*/\1/p' <<< "$line")
  fetched=$(sed -n 's/.*run[^:]*: \([0-9]*\) issues.*/\1/p' <<< "$line")
  printf '%-12s %7s issues  %6.2f s wall  %6s requests  %8s MB  cpu %6.2f s (%5.1f µs/issue)  peak %s MB\n' \
    "$label" "$fetched" "$wall" "$requests" "$mb" "$(echo "$user + $sys" | bc)" \
    "$(echo "($user + $sys) * 1000000 / $issues" | bc -l)" "$((rss / 1024))"
}

echo "hindsight fetch: $issues issues from a local JIRA (pages of $cap, delay ${delay} ms, max_in_flight $in_flight), $(nproc) cores"
run full
run incremental
du -sh "$work/harvest/jira" | awk '{print "harvest folder: " $1}'
