#!/usr/bin/env bash
# Search benchmark: hindsight's static index against Pagefind on the same built site.
#
#   benches/search/run.sh [N ...]        (default: 20000 200000)
#
# For each N: generate an archive of N issues (examples/gen-archive.rs), build the site with
# `hindsight build` (which writes the static search index, search/, with the pages; its
# `--timings` line for the search stage is kept), index the same pages (the issue pages only)
# with Pagefind, then measure both in headless Chromium (benches/search/measure.mjs):
# hindsight over file://, Pagefind over HTTP on 127.0.0.1.
# Work files go to $BENCH_OUT (default /tmp/hindsight-search-bench); results to
# $BENCH_OUT/N/result.json and the terminal.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${BENCH_OUT:-/tmp/hindsight-search-bench}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(20000 200000)

[ -d benches/search/node_modules/pagefind ] || npm install --prefix benches/search --no-audit --no-fund
[ -d tests/browser/node_modules/playwright-core ] || npm ci --prefix tests/browser
cargo build --release --example gen-archive --bin hindsight
BIN=$CARGO_TARGET_DIR/release
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"

for N in "${SIZES[@]}"; do
  D=$OUT/$N
  mkdir -p "$D"
  echo "== $N issues =="
  if [ ! -f "$D/archive/hindsight.toml" ]; then
    "$BIN/examples/gen-archive" --issues "$N" --force "$D/archive" >/dev/null
  fi
  rm -rf "$D/site"
  /usr/bin/time -f "hindsight build (pages and search): %e s" \
    "$BIN/hindsight" build --quiet --timings --force --config "$D/archive/hindsight.toml" --output "$D/site" \
    2>&1 | grep -E "hindsight build|^ *search " | tee "$D/hindsight-index.txt"
  rm -rf "$D/site/pagefind"
  /usr/bin/time -f "pagefind: %e s, %M KB max RSS" \
    node benches/search/node_modules/pagefind/lib/runner/bin.cjs --site "$D/site" --glob 'issues/**/*.html' --output-subdir pagefind >"$D/pagefind.log" 2>&1 \
    || { tail -20 "$D/pagefind.log"; exit 1; }
  grep -E "Indexed|Total" "$D/pagefind.log" | head -5 || true
  node benches/search/measure.mjs "$D/site" "$D/result.json"
done
