#!/usr/bin/env bats
# stages: tools
# budget: 60
# parallel: tests
# tests/run itself: what a test leaves running is found, stopped and counted, whatever
# failed; the summary line adds up every file.

BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-300}
load test_helper

@test "a test that leaves a process running costs one more failure, names it, and it is stopped" {
    # A harness of its own (tests/run and its tools) with one more test file, run against
    # this tree's stage 1.
    local top="$BATS_TEST_TMPDIR/lab" pidfile="$BATS_TEST_TMPDIR/leaver.pid" at=@
    mkdir -p "$top/tests"
    cp -r "$EVLAB_TREE/tests/run" "$EVLAB_TREE/tests/test_helper.bash" "$EVLAB_TREE/tests/tools" "$top/tests/"
    # ($at: a test line written here would be one of this file's own, to bats.)
    cat >"$top/tests/leaver.bats" <<LEAVER
# stages: 1
${at}test "passes, but leaves a sleeper behind" {
    sleep 300 3>&- &
    echo \$! >"$pidfile"
}
${at}test "passes and leaves nothing" {
    true
}
LEAVER
    run -1 env -u STAGE -u EVLAB_PIDFILE EVLAB_TREE="$EVLAB_TREE" SHORTIO_TESTS=no "$top/tests/run" 1
    echo "$output"
    [[ $output == *"leaver.bats left processes running"*"sleep 300"* ]] || false
    [[ ${lines[-1]} == "2 passed, 1 failed" ]] || false
    # Stopped: the sleeper is gone (or a zombie, waiting for init to reap it).
    local pid
    pid=$(cat "$pidfile")
    run -0 timeout 5 bash -c 'while [[ -e /proc/$0 ]] && ! grep -q "^State:.*Z" "/proc/$0/status"; do
        sleep 0.05; done' "$pid"
}

@test "make mutants grades each patch: one the tests catch is killed and named, a harmless one survives" {
    command -v python3 >/dev/null || skip "python3 is needed to read the grader's JSON"
    command -v patch >/dev/null || skip "patch is not installed (apt-get install patch)"
    # A lab of its own: this tree's files, and a catalogue of two.
    local lab="$BATS_TEST_TMPDIR/lab"
    mkdir -p "$lab"
    (cd "$EVLAB_TREE" && git ls-files -z 2>/dev/null | xargs -0 cp --parents -t "$lab") ||
        cp -r "$EVLAB_TREE/." "$lab/"
    rm -f "$lab"/tests/mutants/*.patch
    cp "$EVLAB_TREE/tests/mutants/stage1-head-limit-off-by-one.patch" "$lab/tests/mutants/"
    cat >"$lab/tests/mutants/stage1-harmless.patch" <<'PATCH'
# stage: 1
# bug: none: a comment says something else
# files: stage1
--- a/stage1-iterative/server.c
+++ b/stage1-iterative/server.c
@@ -1,3 +1,3 @@
 /*
- * Stage 1: an iterative time-of-day server.
+ * Stage 1: a time-of-day server, one client at a time.
  *
PATCH
    run -1 env -u STAGE -u EVLAB_TREE GRADE_TEST_TIMEOUT=20 "$lab/tests/mutants/run" 1
    echo "$output"
    [[ $output == *"killed     stage1-head-limit-off-by-one"*"the 8 KiB head limit is exact"* ]] || false
    [[ $output == *"SURVIVED   stage1-harmless"*"none: a comment says something else"* ]] || false
    [[ ${lines[-1]} == "2 mutants: 1 killed, 1 survived, 0 broken" ]] || false
}
