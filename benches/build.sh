#!/usr/bin/env bash
# Build benchmark: generates an archive with examples/gen-archive.rs (deterministic, --seed 42),
# then times with `hindsight build --timings` a cold build, an unchanged rebuild, a forced
# rebuild (`--force`) beside its floor (`cp -r` of the site on the same disk, as a ratio), and a
# nightly's rebuild (10 issues' summaries changed in each of 3 JIRA XML export files, then
# changed back; once more with the page cache dropped first, when root can, beside `du -s` of
# the site), printing per stage the wall time and peak memory, the output's files and
# bytes, the files each rebuild wrote, issues per second and, when the archive has a git
# repository, commits per second.
#
# The cold build starts with the last run's output and cache moved aside, not deleted: ext4
# slows the creation of files right after a large deletion (`recently_deleted` inode checks),
# which made cold figures vary by tens of seconds. What was moved aside is removed at the end.
#
#   benches/build.sh [ISSUES] [WORKDIR]            e.g. benches/build.sh 100000 /tmp/bench
#   benches/build.sh [--work DIR] GEN-OPTIONS...   e.g. benches/build.sh --lustre
#                                                       benches/build.sh --lustre --repo /path/to/lustre-release
#                                                       benches/build.sh --issues 20000 --git 20000
#
# GEN-OPTIONS are gen-archive's (run `cargo run --release --example gen-archive -- --help`).
# The archive is generated once per WORKDIR and reused. The binaries are taken from
# $CARGO_TARGET_DIR (default target/). Needs /usr/bin/time (Debian package `time`).
#
# Peak memory is the largest of the per-stage peaks --timings prints: --timings resets the
# kernel's high-water mark at each stage, so /usr/bin/time's maximum RSS is not the process's.
set -euo pipefail
cd "$(dirname "$0")/.."

work=
gen=()
if [[ ${1:-} =~ ^[0-9_]+$ ]]; then
  gen=(--issues "$1")
  work=${2:-/tmp/hindsight-bench-$1}
else
  while [ $# -gt 0 ]; do
    case $1 in
      --work) work=$2; shift 2 ;;
      --work=*) work=${1#--work=}; shift ;;
      *) gen+=("$1"); shift ;;
    esac
  done
  [ ${#gen[@]} -gt 0 ] || gen=(--issues 10000)
  if [ -z "$work" ]; then
    slug=$(printf '%s' "${gen[*]}" | tr -c 'A-Za-z0-9_.-' '-' | tr -s '-' | cut -c1-60)
    work=/tmp/hindsight-bench-${slug#-}
  fi
fi

target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin hindsight --example gen-archive
bin=$target/release/hindsight
if [ ! -f "$work/hindsight.toml" ]; then
  rm -rf "$work"
  "$target/release/examples/gen-archive" --seed 42 "${gen[@]}" "$work" 2>"$work.gen.txt" ||
    { cat "$work.gen.txt"; exit 1; }
  sed 's/^gen-archive: /   /' "$work.gen.txt"
  rm -f "$work.gen.txt"
fi
export_bytes=$(du -sb "$work/exports" | cut -f1)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "archive: gen-archive ${gen[*]} → $work, $((export_bytes / 1000000)) MB of exports"

stages='^ *(check|import|git|link|render|search|backup|write) '

# One build: prints the summary line and the stage lines; sets wall, peak_mb, issues, commits,
# git_secs.
run_build() {
  local label=$1
  shift
  /usr/bin/time -f '%e' -o "$work/time.txt" "$bin" build --timings "$@" --config "$work/hindsight.toml" \
    >"$work/out.txt" 2>"$work/err.txt" || { cat "$work/out.txt" "$work/err.txt"; exit 1; }
  wall=$(cat "$work/time.txt")
  peak_mb=$(grep -E "$stages" "$work/err.txt" | grep -oE '[0-9]+ MB peak' | awk 'm<$1{m=$1} END{print m+0}')
  issues=$(grep -oE '^built [0-9]+ issues?' "$work/out.txt" | grep -oE '[0-9]+' || true)
  commits=$(grep -E '^ *git ' "$work/err.txt" | grep -oE '[0-9]+ commits?' | head -1 | grep -oE '[0-9]+' || true)
  git_secs=$(grep -E '^ *git ' "$work/err.txt" | awk '{print $2}' | tr -d s || true)
  local line="== $label: ${wall}s wall, peak ${peak_mb} MB"
  if [ -z "$issues" ]; then
    line+=", nothing rebuilt ($(grep -m1 -oE 'up to date.*' "$work/out.txt" || echo 'no summary'))"
  else
    line+=", $issues issues, $(awk -v n="$issues" -v w="$wall" 'BEGIN{printf "%.0f", n/w}') issues/s"
  fi
  if [ -n "$commits" ]; then
    line+=", $commits commits, $(awk -v n="$commits" -v w="$git_secs" 'BEGIN{ if (w > 0) printf "%.0f", n/w; else print "-" }') commits/s in the git stage"
  fi
  echo "$line"
  grep -E "$stages" "$work/err.txt" | sed 's/^/   /'
  if grep -Eq "^[0-9]+ warnings?:" "$work/out.txt"; then
    grep -EA3 "^[0-9]+ warnings?:" "$work/out.txt" | sed 's/^/   /'
  fi
}

unmark_nightly() { perl -0pi -e 's{(<summary>)nightly: }{$1}g' "$@"; }
xml=()
while IFS= read -r f; do xml+=("$f"); done < <(grep -l '<summary>' "$work"/exports/*/*.xml 2>/dev/null | sort | head -12)
if [ ${#xml[@]} -gt 0 ]; then unmark_nightly "${xml[@]}"; fi

aside=$work/.aside
rm -rf "$aside"
mkdir -p "$aside"
trap 'rm -rf "$aside"' EXIT
for d in public .hindsight-cache; do
  if [ -e "$work/$d" ]; then mv "$work/$d" "$aside/"; fi
done
run_build "cold build"
cold=$wall
files=$(find "$work/public" -type f | wc -l)
dirs=$(find "$work/public" -type d | wc -l)
bytes=$(du -sb "$work/public" | cut -f1)
echo "   output: $files files, $dirs folders, $((bytes / 1000000)) MB"

run_build "unchanged rebuild"
written() { grep -E '^ *write ' "$work/err.txt" | grep -oE '[0-9]+ files? changed, [0-9]+ unchanged, [0-9]+ removed' || echo "nothing written"; }
if "$bin" build --help 2>&1 | grep -q -- --force; then
  run_build "forced rebuild (--force, warm cache)" --force
  forced=$wall
  # The floor of a forced rebuild: copying the site on the same disk.
  sync
  rm -rf "$aside/copy"
  /usr/bin/time -f '%e' -o "$work/time.txt" cp -r "$work/public" "$aside/copy"
  floor=$(cat "$work/time.txt")
  rm -rf "$aside/copy"
  echo "== cp -r of the site: ${floor}s; forced/floor $(awk -v a="$forced" -v b="$floor" 'BEGIN{printf "%.2f", a/b}')"
fi

# A nightly: 10 issues' summaries changed in each of 3 of the first 12 JIRA XML export files
# (the files a harvest rewrites), then changed back (that rebuild is run but not reported).
# Marks a killed run left behind are taken out before the cold build, so they never pile up.
if [ ${#xml[@]} -ge 3 ]; then
  picked=("${xml[1]}" "${xml[$(( ${#xml[@]} / 2 ))]}" "${xml[$(( ${#xml[@]} - 1 ))]}")
  mark_nightly() {
    perl -0pi -e 's{(<key id="\d+">[A-Z]+-(\d+)</key>\s*<summary>)}{ ($2 % 100 == 7 && $n++ < 10) ? "$1nightly: " : $1 }ge; $n = 0' "${picked[@]}"
  }
  mark_nightly
  echo "   $(grep -o '<summary>nightly: ' "${picked[@]}" | wc -l) summaries changed in ${#picked[@]} export files"
  run_build "nightly rebuild"
  echo "   $(written); nightly/cold $(awk -v a="$wall" -v b="$cold" 'BEGIN{printf "%.2f", a/b}')"
  unmark_nightly "${picked[@]}"
  run_build "changed back" >/dev/null
  # The same nightly as a cron job meets it: nothing of the archive, its cache or the site in
  # the page cache (dropped first, when root can). Its floor: `du -s` of the site, the kernel
  # reading every file's inode, as a build must to know the published files are as it left
  # them.
  if [ -w /proc/sys/vm/drop_caches ]; then
    mark_nightly
    sync; echo 3 > /proc/sys/vm/drop_caches
    run_build "nightly rebuild, page cache dropped first"
    nightly_cold=$wall
    echo "   $(written)"
    unmark_nightly "${picked[@]}"
    run_build "changed back" >/dev/null
    sync; echo 3 > /proc/sys/vm/drop_caches
    /usr/bin/time -f '%e' -o "$work/time.txt" du -s "$work/public" >/dev/null
    du_secs=$(cat "$work/time.txt")
    echo "== du -s of the site, page cache dropped: ${du_secs}s; cold-cache nightly/du $(awk -v a="$nightly_cold" -v b="$du_secs" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "-" }')"
  else
    echo "   (a nightly with the page cache dropped: not run, /proc/sys/vm/drop_caches is not writable)"
  fi
fi

# The backup's share of the site, and checking a copy: `hindsight verify` beside the floor of
# `sha256sum -c SHA256SUMS` over the same files (each with the page cache dropped when root can,
# else warm; the line says which).
if [ -f "$work/public/SHA256SUMS" ]; then
  backup_bytes=$(du -sb "$work/public/backup" 2>/dev/null | cut -f1 || echo 0)
  source_bytes=$(du -sb "$work/public/source" 2>/dev/null | cut -f1 || echo 0)
  echo "   backup: backup/ $((backup_bytes / 1000000)) MB, source/ $((source_bytes / 1000000)) MB, of $((bytes / 1000000)) MB"
  cache=warm
  drop() { if [ -w /proc/sys/vm/drop_caches ]; then sync; echo 3 > /proc/sys/vm/drop_caches; cache=cold; fi; }
  drop
  /usr/bin/time -f '%e' -o "$work/time.txt" "$bin" verify "$work/public" >"$work/out.txt" 2>&1 ||
    { cat "$work/out.txt"; exit 1; }
  verify_secs=$(cat "$work/time.txt")
  drop
  (cd "$work/public" && /usr/bin/time -f '%e' -o "$work/time.txt" sha256sum -c --quiet SHA256SUMS) ||
    { echo "sha256sum -c failed"; exit 1; }
  sums_secs=$(cat "$work/time.txt")
  echo "== verify ($cache page cache): hindsight verify ${verify_secs}s, sha256sum -c ${sums_secs}s, ratio $(awk -v a="$verify_secs" -v b="$sums_secs" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "-" }')"
  sed 's/^/   /' "$work/out.txt" | tail -1
fi
