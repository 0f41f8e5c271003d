#!/usr/bin/env bash
# Fuzzes every importer and renderer of hindsight, one target at a time, each for SECONDS
# (default 600), seeded from the real-shaped fixtures (fuzz/seed.py). Needs a nightly toolchain
# and cargo-fuzz (`cargo install cargo-fuzz`); the main crate's build and tests never need them.
#
#   fuzz/run.sh [SECONDS] [TARGET...]      e.g. fuzz/run.sh 60 email gfm
#   FUZZ_JOBS=2 fuzz/run.sh 600              two targets at a time (default: one)
#   FUZZ_BUILD=0 fuzz/run.sh 600             without building first
#
# Prints, per target: seconds run, total executions (libFuzzer's final stat line), corpus size
# and crashes; a crash input is left in fuzz/artifacts/<target>/ and the log in
# fuzz/logs/<target>.log. Runs under `nice -n 19`: the machine is shared.
#
# Built with debug assertions (an arithmetic overflow is a finding) and, by default, without
# AddressSanitizer: hindsight has no `unsafe` of its own, ASan would instrument every dependency
# (the build took over 90 minutes on the 2-core machine) and halves the executions per second.
# FUZZ_SANITIZER=address brings it back.
set -u
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(email gfm markup jira_xml jira_json bugzilla_xml bugzilla_json github_json ndjson detect)
fi
python3 fuzz/seed.py || exit 1
# FUZZ_BUILD=0 runs the targets as last built (the build recompiles hindsight whenever its
# sources changed, which takes long on a small machine).
if [ "${FUZZ_BUILD:-1}" != 0 ]; then
    nice -n 19 cargo +nightly fuzz build --debug-assertions --sanitizer "${FUZZ_SANITIZER:-none}" || exit 1
fi
bin=fuzz/target/x86_64-unknown-linux-gnu/release
mkdir -p fuzz/logs
printf '%-14s %8s %14s %8s %8s\n' target seconds executions corpus crashes

# One target for $seconds: prints its line; exits 1 when it found a crash.
run_one() {
    t=$1
    mkdir -p "fuzz/artifacts/$t"
    start=$(date +%s)
    # -rss_limit_mb: an input that makes an importer use this much memory is a finding too.
    nice -n 19 "$bin/$t" "fuzz/corpus/$t" \
        -max_total_time="$seconds" -max_len=262144 -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" \
        >"fuzz/logs/$t.log" 2>&1
    rc=$?
    took=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "fuzz/logs/$t.log" | grep -o '[0-9]*$' | tail -1)
    corpus=$(ls "fuzz/corpus/$t" | wc -l)
    crashes=$(ls "fuzz/artifacts/$t" | wc -l)
    printf '%-14s %8s %14s %8s %8s\n' "$t" "$took" "${execs:-?}" "$corpus" "$crashes"
    [ "$rc" -eq 0 ]
}
export -f run_one
export bin seconds
printf '%s\n' "${targets[@]}" | xargs -P "${FUZZ_JOBS:-1}" -I{} bash -c 'run_one "$1"' _ {}
