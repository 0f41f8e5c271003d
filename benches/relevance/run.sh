#!/usr/bin/env bash
# Relevance benchmark: nDCG@10 of the static index and of tantivy's QueryParser + BM25 (over the
# build's own tantivy index) on judged queries (examples/relevance.rs).
#
#   benches/relevance/run.sh        the bundled example (content/), benches/relevance/example.tsv
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --quiet --bin hindsight --example relevance
"$CARGO_TARGET_DIR/debug/hindsight" build --quiet --config content/hindsight.toml
echo "$(date -u +%F), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$CARGO_TARGET_DIR/debug/examples/relevance" --site content/public --cache content/.hindsight-cache \
  benches/relevance/example.tsv
