#!/usr/bin/env bash
# hindsight and Hugo side by side on the same issues.
#
#   benches/hugo.sh [N] [WORKDIR]        e.g. benches/hugo.sh 15435
#
# gen-archive writes N JIRA XML issues (--seed 42) and, with --hugo, the same issues as a Hugo
# site: one Markdown page per published issue (title, key, status, description, comments;
# restricted issues and comments left out as hindsight leaves them out), minimal layouts
# (baseof, single, a list paginated by 100) and a config.toml without taxonomies, RSS and
# sitemap. Then `hugo --quiet` and `hindsight build --quiet` each run once, cold, under
# /usr/bin/time, and the wall time, peak resident memory and pages per second of both are
# printed. hindsight does more per issue than the Hugo site: listings by project, status,
# component, version and year, per-issue JSON, the search index, redirect stubs.
#
# Needs hugo (Debian package `hugo`) and /usr/bin/time. Binaries come from $CARGO_TARGET_DIR
# (default target/).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-15435}
work=${2:-/tmp/hindsight-vs-hugo-$n}
command -v hugo >/dev/null || { echo "hugo is not installed (apt-get install hugo)" >&2; exit 1; }

target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin hindsight --example gen-archive
bin=$target/release/hindsight
if [ ! -f "$work/hindsight.toml" ] || [ ! -f "$work/hugo/config.toml" ]; then
  rm -rf "$work"
  mkdir -p "$work"
  "$target/release/examples/gen-archive" --issues "$n" --seed 42 --hugo "$work/hugo" "$work" 2>"$work/gen.txt" ||
    { cat "$work/gen.txt"; exit 1; }
  sed 's/^gen-archive: /   /' "$work/gen.txt"
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "hugo: $(hugo version | cut -d' ' -f1-2)"

# Hugo: a cold build (public/ and resources/ removed first).
rm -rf "$work/hugo/public" "$work/hugo/resources"
(cd "$work/hugo" && /usr/bin/time -f '%e %M' -o ../hugo-time.txt hugo --quiet)
read -r hugo_wall hugo_kb <"$work/hugo-time.txt"
hugo_issues=$(find "$work/hugo/content/issues" -name '*.md' ! -name '_index.md' | wc -l)
hugo_html=$(find "$work/hugo/public" -name '*.html' | wc -l)
hugo_files=$(find "$work/hugo/public" -type f | wc -l)
hugo_bytes=$(du -sb "$work/hugo/public" | cut -f1)

# hindsight: cold builds (site and cache removed first), without --timings, so /usr/bin/time's
# maximum resident set is the process's peak. "hindsight" is the default site; "lean" turns off
# what the Hugo site has no equivalent of and a USB copy can do without (per-issue JSON and the
# redirect stubs of old URLs), keeping listings and the search index.
sed -e 's/^output = .*/output = "public-lean"/' -e 's/^cache = .*//' "$work/hindsight.toml" |
  { printf 'issue_json = false\nredirect_stubs = false\ncache = ".hindsight-cache-lean"\n'; cat; } \
  >"$work/lean.toml"
hs_run() { # config output-dir cache-dir → sets hs_wall hs_kb hs_issues hs_html hs_files hs_bytes
  rm -rf "$work/$2" "$work/$3"
  /usr/bin/time -f '%e %M' -o "$work/hindsight-time.txt" "$bin" build --quiet --config "$work/$1" \
    >"$work/out.txt" 2>"$work/err.txt" || { cat "$work/out.txt" "$work/err.txt"; exit 1; }
  read -r hs_wall hs_kb <"$work/hindsight-time.txt"
  hs_issues=$(grep -oE '^built [0-9]+ issues' "$work/out.txt" | grep -oE '[0-9]+')
  hs_html=$(find "$work/$2" -name '*.html' | wc -l)
  hs_files=$(find "$work/$2" -type f | wc -l)
  hs_bytes=$(du -sb "$work/$2" | cut -f1)
}

row() { # name wall kb issues html files bytes
  awk -v name="$1" -v w="$2" -v kb="$3" -v is="$4" -v html="$5" -v files="$6" -v bytes="$7" 'BEGIN {
    printf "%-10s %7.2fs %8.0f MB %8d %10.0f %9d %12.0f %7d %7.0f MB\n",
      name, w, kb / 1024, is, is / w, html, html / w, files, bytes / 1e6 }'
}
printf '%-10s %8s %11s %8s %10s %9s %12s %7s %10s\n' tool wall peak issues issues/s 'html' 'html pages/s' files output
row hugo "$hugo_wall" "$hugo_kb" "$hugo_issues" "$hugo_html" "$hugo_files" "$hugo_bytes"
hs_run hindsight.toml public .hindsight-cache
row hindsight "$hs_wall" "$hs_kb" "$hs_issues" "$hs_html" "$hs_files" "$hs_bytes"
hs_run lean.toml public-lean .hindsight-cache-lean
row lean "$hs_wall" "$hs_kb" "$hs_issues" "$hs_html" "$hs_files" "$hs_bytes"
