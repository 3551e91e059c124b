#!/usr/bin/env bats
# stages: tools
# make grade: scores from the tests, results.json (Gradescope) and JUnit XML, for the
# reference solution, a copy with one bug, a stage that does not build and a server that hangs
# (make handout: handout.bats).

load test_helper

GRADE="$BATS_TEST_DIRNAME/grade"
# The grader's own checks count exact scores of plain runs; the short-I/O runs it also
# makes are checked by a test of their own, which turns them back on.
export SHORTIO_TESTS=no

# Copy the reference's common/ and stage $1 into a submission folder: $SUB.
submission() {
    SUB="$BATS_TEST_TMPDIR/sub"
    mkdir -p "$SUB"
    cp -r "$EVLAB_TREE/common" "$EVLAB_TREE"/stage"$1"-* "$SUB/"
    make -s -C "$SUB"/stage"$1"-* clean >/dev/null
}

# A field of results.json's test named (after its "stage N: " prefix) $2: $1 is the field.
field() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print([t for t in d["tests"] if t["name"].split(": ", 1)[1] == sys.argv[3]][0][sys.argv[2]])' \
        "$BATS_TEST_TMPDIR/out/results.json" "$1" "$2"
}

@test "the reference solution gets full marks, in valid results.json and JUnit XML" {
    command -v python3 >/dev/null || skip "python3 is needed to read the JSON and XML"
    submission 1
    run -0 env GRADE_FILES="stage1 timeofday" GRADE_OUT="$BATS_TEST_TMPDIR/out" "$GRADE" "$SUB" 1
    echo "$output"
    [[ ${lines[-1]} == "total: 6 / 6 points"* ]] || false
    # Gradescope's fields: a score, and per test a name, score, max_score and output.
    run -0 python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["score"] == 6 and len(d["tests"]) == 6, d
for t in d["tests"]:
    assert isinstance(t["name"], str) and isinstance(t["output"], str)
    assert t["score"] == t["max_score"] == 1 and t["status"] == "passed", t
import xml.dom.minidom
x = xml.dom.minidom.parse(sys.argv[2])
assert len(x.getElementsByTagName("testcase")) == 6
assert not x.getElementsByTagName("failure")' "$BATS_TEST_TMPDIR/out/results.json" "$BATS_TEST_TMPDIR/out/junit.xml"
}

@test "a copy with path traversal allowed loses exactly that test's points" {
    command -v python3 >/dev/null || skip "python3 is needed to read the JSON"
    submission 3
    # Drop the ".." check of decode_target: openat2 still confines, but the answer is wrong.
    sed -i "s/seg\[0\] == '.' && seg\[1\] == '.' &&/seg[0] == '.' \&\& seg[1] == '.' \&\& 0 \&\&/" "$SUB"/stage3-*/path.c
    run -1 cmp -s "$SUB"/stage3-*/path.c "$EVLAB_TREE"/stage3-*/path.c
    run -0 env GRADE_FILES=files GRADE_OUT="$BATS_TEST_TMPDIR/out" "$GRADE" "$SUB" 3
    echo "$output"
    local name="traversal attempts get 400 and never a byte from outside the root"
    [[ $(field score "$name") == 0 && $(field max_score "$name") == 3 ]] || false
    # Its report: what was sent, what came back, what was expected, in that order.
    [[ $(field output "$name") == *"sent:     GET /../secret.txt HTTP/1.1\r\n"*"got:      HTTP/1.1 403 Forbidden\r\n"*"expected: an answer beginning \"HTTP/1.1 400 \""* ]] || false
    # Everything else still scores: the total is the maximum less those 3 points.
    [[ ${lines[-1]} =~ ^total:\ ([0-9]+)\ /\ ([0-9]+) ]] || false
    ((BASH_REMATCH[1] == BASH_REMATCH[2] - 3)) || false
}

@test "a server that ignores short writes keeps its plain points and loses the short-I/O ones, told why" {
    command -v python3 >/dev/null || skip "python3 is needed to read the JSON"
    submission 2
    # conn_write takes every write() for a whole one.
    sed -i 's/c->outpos += (size_t)n;/c->outpos = c->outlen;/' "$SUB"/stage2-*/server.c
    run -1 cmp -s "$SUB"/stage2-*/server.c "$EVLAB_TREE"/stage2-*/server.c
    run -0 env SHORTIO_TESTS=yes GRADE_FILES=timeofday GRADE_OUT="$BATS_TEST_TMPDIR/out" "$GRADE" "$SUB" 2
    echo "$output"
    [[ $output == *"| stage 2 | 1 | 0 | 0 | 1 / 1 |"* ]] || false
    [[ $output == *"| stage 2 (short I/O) | 0 | 1 | 0 | 0 / 1 |"* ]] || false
    grep -q 'takes a short write for a whole one' "$BATS_TEST_TMPDIR/out/results.json"
    # and what the shim saw: a short write whose rest the server never sent.
    grep -qE 'rest was never sent|without sending the other [0-9]+' "$BATS_TEST_TMPDIR/out/results.json"
}

@test "a stage that does not build scores zero and says why" {
    submission 1
    echo 'this is not C' >>"$SUB"/stage1-*/server.c
    run -0 env GRADE_FILES="stage1" GRADE_OUT="$BATS_TEST_TMPDIR/out" "$GRADE" "$SUB" 1
    echo "$output"
    [[ ${lines[-1]} == "total: 0 / 5 points"* ]] || false
    grep -q 'stage 1 did not build' "$BATS_TEST_TMPDIR/out/results.json"
    grep -q 'this is not C' "$BATS_TEST_TMPDIR/out/results.json"
}

@test "a server that hangs is graded within a bounded time" {
    submission 1
    # It listens, then never accepts: every client waits.
    sed -i 's/^    listenfd = Tcp_listen(&sa, salen);$/&\n    for (;;)\n        pause();/' "$SUB"/stage1-*/server.c
    run -1 cmp -s "$SUB"/stage1-*/server.c "$EVLAB_TREE"/stage1-*/server.c
    local start=$SECONDS
    # curl would wait 60 s for its answer; the grader cuts the test at 5 s.
    run -0 env CURL_TIME=60 GRADE_FILES=timeofday GRADE_TEST_TIMEOUT=5 GRADE_OUT="$BATS_TEST_TMPDIR/out" "$GRADE" "$SUB" 1
    echo "$output"
    echo "graded in $((SECONDS - start)) s"
    [[ ${lines[-1]} == "total: 0 / 1 points"* ]] || false
    # The build and that test: a grader ignoring GRADE_TEST_TIMEOUT would take 30 s or more.
    ((SECONDS - start < 25)) || false
}
