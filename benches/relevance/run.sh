#!/usr/bin/env bash
# Relevance benchmark: nDCG@10 of the static index and of tantivy's QueryParser + BM25 (over a
# tantivy index of the site's documents) on judged queries (examples/relevance.rs).
#
#   benches/relevance/run.sh [example | generated | all]        (default all)
#
#   example    the bundled example (content/), benches/relevance/example.tsv
#   generated  a generated archive, benches/relevance/generated.tsv: `gen-archive --seed 42
#              --lustre --issues 2500 --bugzilla 500` written to $RELEVANCE_WORK (default
#              $CARGO_TARGET_DIR/relevance-generated, never committed) and built there
#
# The judgments of generated.tsv hold for one output of the generator: its header records the
# exports' sha256, and a mismatch (the generator has changed) is reported before the scores.
# Release builds; the binaries are taken from $CARGO_TARGET_DIR (default target/).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
which=${1:-all}
case $which in
  example | generated | all) ;;
  *) echo "usage: $0 [example | generated | all]" >&2; exit 2 ;;
esac
cargo build --release --quiet --bin hindsight --example relevance --example gen-archive
bin=$CARGO_TARGET_DIR/release
summary=()

# One judged set: the machine line, the per-query table, and the means kept for the end.
score() {
  local name=$1 site=$2 judged=$3
  echo "== $name: $judged"
  echo "$(date -u +%F), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  "$bin/examples/relevance" --site "$site" "$judged" | tee "$CARGO_TARGET_DIR/relevance-$name.txt"
  summary+=("$name: $(tail -1 "$CARGO_TARGET_DIR/relevance-$name.txt")")
  echo
}

if [ "$which" != generated ]; then
  "$bin/hindsight" build --quiet --config content/hindsight.toml
  score example content/public benches/relevance/example.tsv
fi

if [ "$which" != example ]; then
  work=${RELEVANCE_WORK:-$CARGO_TARGET_DIR/relevance-generated}
  judged=benches/relevance/generated.tsv
  want=$(sed -n 's/^# *exports-sha256: *//p' "$judged")
  digest() { find "$work/exports" -type f -print0 | LC_ALL=C sort -z | xargs -0 cat | sha256sum | cut -d' ' -f1; }
  if [ ! -d "$work/exports" ] || [ "$(digest)" != "$want" ]; then
    mkdir -p "$work"
    "$bin/examples/gen-archive" --seed 42 --lustre --issues 2500 --bugzilla 500 --force "$work" 2>&1 |
      sed 's/^gen-archive: /   /'
  fi
  if [ "$(digest)" != "$want" ]; then
    echo "warning: the generated exports are not the ones $judged was judged on" \
      "(sha256 $(digest), judged $want): examples/gen-archive.rs has changed; judge the set again" >&2
  fi
  "$bin/hindsight" build --quiet --config "$work/hindsight.toml"
  score generated "$work/public" "$judged"
fi

printf '%s\n' "${summary[@]}"
