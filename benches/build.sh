#!/usr/bin/env bash
# Build benchmark: generates a JIRA XML archive of N issues (deterministic, --seed 42), then
# times a cold build, an unchanged rebuild, and prints per stage the wall time, plus peak
# memory, files and bytes written, and issues per second.
#
#   benches/build.sh [ISSUES] [WORKDIR]        e.g. benches/build.sh 100000 /tmp/bench
#
# Needs /usr/bin/time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
issues=${1:-10000}
work=${2:-/tmp/hindsight-bench-$issues}

cargo build --release --quiet --bin hindsight --example gen-archive
bin=target/release/hindsight
if [ ! -f "$work/hindsight.toml" ]; then
  rm -rf "$work"
  target/release/examples/gen-archive --issues "$issues" --seed 42 "$work" >/dev/null
fi
xml_bytes=$(du -sb "$work/exports" | cut -f1)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; archive: $issues issues, $((xml_bytes / 1000000)) MB of XML"


rm -rf "$work/public" "$work/.hindsight-cache"
/usr/bin/time -f '%e %M' -o "$work/time.txt" "$bin" build --config "$work/hindsight.toml" >"$work/out.txt" 2>"$work/err.txt" || { cat "$work/err.txt"; exit 1; }
read -r wall rss <"$work/time.txt"
echo "== cold build: ${wall}s wall, peak $((rss / 1024)) MB, $(awk -v n="$issues" -v w="$wall" 'BEGIN{printf "%.0f", n/w}') issues/s"
grep -E '^ *(import|link|render|search|commits|write) ' "$work/err.txt" | sed 's/^/   /'
files=$(find "$work/public" -type f | wc -l)
dirs=$(find "$work/public" -type d | wc -l)
bytes=$(du -sb "$work/public" | cut -f1)
echo "   output: $files files, $dirs folders, $((bytes / 1000000)) MB"

/usr/bin/time -f '%e %M' -o "$work/time.txt" "$bin" build --config "$work/hindsight.toml" >"$work/out.txt" 2>"$work/err.txt"
read -r wall rss <"$work/time.txt"
echo "== unchanged rebuild: ${wall}s wall, peak $((rss / 1024)) MB"
grep -E '^ *(import|link|render|search|commits|write) ' "$work/err.txt" | sed 's/^/   /'
