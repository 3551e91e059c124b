#!/usr/bin/env bats
# stages: 6
# budget: 60
# The whole benchmark, in its smoke mode (seconds): every experiment runs once, so
# the harness cannot rot unnoticed. Tagged "tooling": it tests the lab's own scripts, so
# TOOLS_TESTS=no leaves it out (bench.bats tests loadgen and the servers in every build).
# bats file_tags=tooling

BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-300} # a minute or so; more under the sanitizers
load test_helper

@test "make bench SMOKE=1 writes a report of all eight experiments from this run's numbers" {
    local out="$BATS_TEST_TMPDIR/bench"
    run env BENCH_OUT="$out" "$EVLAB_TREE/stage6-bench/bench" smoke
    echo "$output" | tail -n 20
    ((status == 0)) || false
    local f
    for f in sweep slow idle memory disk cache complexity c10k; do
        [[ $(wc -l <"$out/$f.csv") -gt 1 ]] || { echo "$f.csv is empty"; false; }
    done
    for n in 1 2 3 4 5 6 7 8; do grep -q "^## $n\. " "$out/REPORT.md"; done
    grep -q '^## Was it worth it?' "$out/REPORT.md"
    # Each point is the median of its runs (smoke: 2), which lie around it; the report
    # says how far apart they were, and ends with a verdict.
    run -0 awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $c["runs"] != 2 || $c["rps_min"] > $c["rps"] || $c["rps"] > $c["rps_max"] { print }' "$out/sweep.csv"
    [[ -z $output ]] || { echo "not the median of 2 runs: $output"; false; }
    grep -q '^\*\*How noisy the machine was:\*\* ' "$out/REPORT.md"
    grep -q '^\*\*Verdict:\*\* on this machine the event-based design paid off in ' "$out/REPORT.md"
    # The servers past select() hold every idle connection of the C10K run (smoke: 50).
    run -0 awk -F, '($1 == "epoll" || $1 == "uring") && $2 != $3 { print }' "$out/c10k.csv"
    [[ -z $output ]] || { echo "not all held: $output"; false; }
    # Every server of the sweep answered, without an error.
    run -0 awk -F, 'NR > 1 && ($8 == 0 || $17 != 0) { print }' "$out/sweep.csv"
    [[ -z $output ]] || false
    # The page-cache table has stage 5 (its own cache) beside the rest: small and large
    # files, cold and warm.
    run -0 awk -F, '$1 == "stage5" { n++ } END { print n + 0 }' "$out/disk.csv"
    [[ $output == 4 ]] || { echo "stage 5 rows in disk.csv: $output"; false; }
    # slowfs says, per delay, how many opens and reads it ever had under way at once:
    # some, and never more than its threads (else the slow disk measured slowfs).
    if [[ -e /dev/fuse && -x $EVLAB_TOOLS/slowfs ]]; then
        run -0 awk -F, 'NR > 1 && ($3 !~ /^[0-9]+$/ || $3 < 1 || $3 > $2) { print }
            END { if (NR < 2) print "no rows" }' "$out/slowfs.csv"
        [[ -z $output ]] || { echo "slowfs.csv: $output"; false; }
    fi
    # The findings quote this run's figures: stage 3's requests/s at 10 clients, say.
    local rps
    rps=$(awk -F, '$2 == "stage3" && $3 == 10 {
        s = sprintf("%.0f", $9); r = ""
        while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
        print s r }' "$out/sweep.csv")
    echo "stage 3 at 10 clients: $rps/s"
    grep -qF "stage 3 served $rps/s" "$out/REPORT.md"
}
