#!/usr/bin/env bash
# Scaling curve and rebuild costs. For each size (default: 10000 100000 1000000 issues) it
# generates a JIRA XML archive (examples/gen-archive.rs --seed 42 --issues N, once per size),
# then runs, each with `hindsight build --timings`:
#   cold      from nothing (output and build cache removed);
#   changed   after 100 issues' summaries changed in the exports (every (N/100)th key);
#   touched   after every export file was rewritten with the same bytes (nothing to render);
#   forced    `--force`, nothing changed (every page rendered again, no file written);
# and times `cp -r` of the site on the same disk (the floor of writing it), printing per run the
# wall time, peak memory and stage times, and at the end the curve: each size's cold time and
# peak beside the previous size's, as ratios.
#
#   benches/scaling.sh [SIZE...] [--work DIR] [--lean]    e.g. benches/scaling.sh 10000 100000
#
# --lean builds sites without per-issue JSON and redirect stubs (`issue_json = false`,
# `redirect_stubs = false`: a USB stick's site), a third of the files: a million issues then
# need about 45 GB of disk instead of 90.
#
# Needs /usr/bin/time (Debian package `time`) and perl. Binaries from $CARGO_TARGET_DIR
# (default target/). A 1,000,000-issue archive takes ~7.4 GB of XML and its site ~11.5 GB.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=()
work=/tmp/hindsight-scaling
lean=
while [ $# -gt 0 ]; do
  case $1 in
    --lean) lean=1; shift ;;
    --work) work=$2; shift 2 ;;
    --work=*) work=${1#--work=}; shift ;;
    *) sizes+=("$1"); shift ;;
  esac
done
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)

target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin hindsight --example gen-archive
bin=$(realpath "$target/release/hindsight")
gen=$(realpath "$target/release/examples/gen-archive")
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"

stages='^ *(check|import|git|link|render|search|backup|write) +[0-9.]+s '
curve=()

# run LABEL DIR [ARGS...]: one build; prints wall, peak, stages; sets $wall and $peak.
run() {
  local label=$1 dir=$2
  shift 2
  /usr/bin/time -f '%e' -o "$dir/time.txt" "$bin" build --timings "$@" --config "$dir/hindsight.toml" \
    >"$dir/out.txt" 2>"$dir/err.txt" || { cat "$dir/out.txt" "$dir/err.txt"; exit 1; }
  wall=$(cat "$dir/time.txt")
  peak=$(grep -E "$stages" "$dir/err.txt" | grep -oE '[0-9]+ MB peak' | awk 'm<$1{m=$1} END{print m+0}')
  local per_stage written
  per_stage=$(grep -E "$stages" "$dir/err.txt" | awk '{printf "%s %s, ", $1, $2}' | sed 's/, $//')
  written=$(grep -E '^ *write ' "$dir/err.txt" | grep -oE '[0-9]+ files? changed, [0-9]+ unchanged, [0-9]+ removed' || echo "nothing written")
  echo "  $label: ${wall}s wall, peak ${peak} MB ($per_stage); $written"
  grep -E '^ *render ' "$dir/err.txt" | grep -oE '[0-9]+ unchanged since the last build' | sed 's/^/    pages: /;s/$/ (not rendered again)/' || true
  grep -E '^ *import ' "$dir/err.txt" | grep -oE '[0-9]+ unchanged since the last import' | sed 's/^/    export files: /;s/$/ (not parsed again)/' || true
  grep -E '^ *search ' "$dir/err.txt" | grep -oE 'kept as published' | sed 's/^/    search index: /' || true
}

for n in "${sizes[@]}"; do
  dir=$work/$n
  if [ ! -f "$dir/hindsight.toml" ]; then
    rm -rf "$dir"
    mkdir -p "$work"
    "$gen" --seed 42 --issues "$n" "$dir" >/dev/null 2>"$dir.gen.txt" || { cat "$dir.gen.txt"; exit 1; }
    rm -f "$dir.gen.txt"
  fi
  if [ -n "$lean" ] && ! grep -q '^issue_json' "$dir/hindsight.toml"; then
    # Top-level keys, so before the first table of the generated config.
    sed -i '1a issue_json = false\nredirect_stubs = false' "$dir/hindsight.toml"
  fi
  echo "== $n issues ($(du -sm "$dir/exports" | cut -f1) MB of exports, load $(cut -d' ' -f1 /proc/loadavg))"
  rm -rf "$dir/public" "$dir/.hindsight-cache"
  run cold "$dir"
  cold=$wall cold_peak=$peak
  files=$(find "$dir/public" -type f | wc -l)
  echo "    output: $files files, $(du -sm "$dir/public" | cut -f1) MB"

  # 100 summaries changed, spread over the whole archive (and back again afterwards, so a
  # re-run of the script starts from the generated archive).
  step=$(( n / 100 > 0 ? n / 100 : 1 ))
  mark() {
    perl -0pi -e 's{(<key id="\d+">[A-Z]+-(\d+)</key>\s*<summary>)}{ $2 % '"$step"' == 1 ? "$1changed: " : $1 }ge' \
      $(find "$dir/exports" -name '*.xml')
  }
  unmark() { perl -0pi -e 's{(<summary>)changed: }{$1}g' $(find "$dir/exports" -name '*.xml'); }
  unmark
  mark
  echo "    $(grep -o '<summary>changed: ' $(find "$dir/exports" -name '*.xml') | wc -l) summaries changed"
  
  run "100 changed" "$dir"
  changed=$wall
  unmark
  run "changed back" "$dir" >/dev/null
  find "$dir/exports" -type f -exec touch {} +
  run touched "$dir"
  run forced "$dir" --force
  forced=$wall
  sync
  rm -rf "$dir/copy"
  /usr/bin/time -f '%e' -o "$dir/time.txt" cp -r "$dir/public" "$dir/copy"
  floor=$(cat "$dir/time.txt")
  rm -rf "$dir/copy"
  echo "  cp -r of the site: ${floor}s; forced/floor $(awk -v a="$forced" -v b="$floor" 'BEGIN{printf "%.2f", a/b}'), 100-changed/cold $(awk -v a="$changed" -v b="$cold" 'BEGIN{printf "%.2f", a/b}')"
  curve+=("$n $cold $cold_peak")
done

echo "== curve (cold builds)"
prev=
for row in "${curve[@]}"; do
  read -r n t p <<<"$row"
  line="  $n issues: ${t}s, peak ${p} MB"
  if [ -n "$prev" ]; then
    read -r pn pt pp <<<"$prev"
    line+="; ×$(awk -v a="$n" -v b="$pn" 'BEGIN{printf "%g", a/b}') issues: time ×$(awk -v a="$t" -v b="$pt" 'BEGIN{printf "%.2f", a/b}'), peak ×$(awk -v a="$p" -v b="$pp" 'BEGIN{printf "%.2f", a/b}')"
  fi
  echo "$line"
  prev=$row
done
