#!/usr/bin/env bash
# Listings benchmark: what sorting and narrowing a listing costs a reader (listing.js over the
# listing's rows.js, see src/render/listings.rs).
#
#   benches/listings/run.sh [ISSUES] [WORKDIR]       (default: 4000 /tmp/hindsight-listings-bench)
#
# Generates a JIRA archive of ISSUES issues in one project (examples/gen-archive.rs, --seed 42,
# --projects LU), so that the project's listing holds them all, builds it, and prints:
# - the bytes the listings add: every rows.js beside the listings' HTML, and for the largest
#   listing its first page and its data file, plain and gzipped (what an HTTP server sends);
# - from headless Chromium (benches/listings/measure.mjs) over file://: the time from
#   navigation to a listing ready to sort, and the median time of sorting by each column and
#   narrowing by a facet, JavaScript alone and with the layout that follows.
# The binaries are built with $PROFILE (release by default; PROFILE=dev uses target/debug,
# which renders more slowly but sorts in the browser just the same); HINDSIGHT=path and
# GEN_ARCHIVE=path use binaries already built instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-4000}
WORK=${2:-/tmp/hindsight-listings-bench}
PROFILE=${PROFILE:-release}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
DIR=release
[ "$PROFILE" = dev ] && DIR=debug
[ -d tests/browser/node_modules/playwright-core ] || npm ci --prefix tests/browser
BIN=$CARGO_TARGET_DIR/$DIR
if [ -z "${HINDSIGHT:-}" ] || [ -z "${GEN_ARCHIVE:-}" ]; then
  cargo build --profile "$PROFILE" --quiet --example gen-archive --bin hindsight
fi
HINDSIGHT=${HINDSIGHT:-$BIN/hindsight}
GEN_ARCHIVE=${GEN_ARCHIVE:-$BIN/examples/gen-archive}
if [ ! -f "$WORK/archive/hindsight.toml" ]; then
  rm -rf "$WORK"
  mkdir -p "$WORK"
  "$GEN_ARCHIVE" --seed 42 --issues "$N" --projects LU "$WORK/archive" >/dev/null 2>"$WORK/gen.txt" ||
    { cat "$WORK/gen.txt"; exit 1; }
fi
"$HINDSIGHT" build --force --config "$WORK/archive/hindsight.toml" >"$WORK/build.txt" 2>&1 ||
  { cat "$WORK/build.txt"; exit 1; }
SITE=$(sed -n 's/^output *= *"\(.*\)"/\1/p' "$WORK/archive/hindsight.toml")
case $SITE in /*) ;; *) SITE=$WORK/archive/${SITE:-public} ;; esac
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(/usr/bin/chromium --version 2>/dev/null)"
echo "archive: $N issues (gen-archive --seed 42 --projects LU), site $SITE"

bytes() { find "$SITE/lists" -name "$1" -printf '%s\n' | awk '{s+=$1; n++} END {printf "%d files, %.1f MB", n, s/1e6}'; }
echo "listings: HTML $(bytes '*.html'); data files (rows.js) $(bytes rows.js)"
LIST=$(find "$SITE/lists" -name rows.js -printf '%s %h\n' | sort -n | tail -1 | cut -d' ' -f2)
REL=${LIST#"$SITE"/}/
ROWS=$(grep -c '^\[' "$LIST/rows.js")
size() { printf '%d KB (%d KB gzipped)' $(( $(stat -c %s "$1") / 1000 )) $(( $(gzip -9c "$1" | wc -c) / 1000 )); }
echo "largest listing: $REL, $ROWS issues, $(ls "$LIST"/*.html | wc -l) pages"
echo "  first page $(size "$LIST/index.html"); data file $(size "$LIST/rows.js"); listing.js $(size "$SITE/static/listing.js")"
node benches/listings/measure.mjs "$SITE" "$REL"
