#!/usr/bin/env bats
# stages: tools
# budget: 60
# parallel: tests
# make grade: scores from the tests, results.json (Gradescope) and JUnit XML, for the
# reference solution, a copy with one bug, a stage that does not build, a server that
# never answers, a grading out of time, and tests that print what JSON and XML must escape
# (make handout: handout.bats; make autograder: autograder.bats).

# Each test grades a stage or two: seconds here, a minute on a slow or busy grader.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-300}
load test_helper

GRADE="$BATS_TEST_DIRNAME/grade"
# The grader's own checks count exact scores of plain runs; the short-I/O runs it also
# makes are checked by tests of their own, which turn them back on.
export SHORTIO_TESTS=no

setup() {
    command -v python3 >/dev/null || skip "python3 is not installed: make grade writes its results with it"
}

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

# Both files the grader wrote into $BATS_TEST_TMPDIR/out parse, and results.json is
# Gradescope's format exactly (tests/tools/check-results).
valid_results() {
    "$BATS_TEST_DIRNAME/tools/check-results" "$BATS_TEST_TMPDIR/out"
}

@test "the reference solution gets full marks, in valid results.json and JUnit XML" {
    submission 1
    run -0 env GRADE_FILES="stage1 timeofday" GRADE_OUT="$BATS_TEST_TMPDIR/out" "$GRADE" "$SUB" 1
    echo "$output"
    # The smoke test, stage1.bats's 5 and timeofday.bats's 1.
    [[ ${lines[-1]} == "total: 7 / 7 points"* ]] || false
    valid_results
    run -0 python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["score"] == 7 and len(d["tests"]) == 7, d
assert [t["number"] for t in d["tests"]] == ["1.%d" % k for k in range(1, 8)]
assert all(t["score"] == t["max_score"] == 1 and t["status"] == "passed" for t in d["tests"])
assert d["tests"][0]["tags"] == ["stage1", "smoke"], d["tests"][0]' "$BATS_TEST_TMPDIR/out/results.json"
}

@test "a copy with path traversal allowed loses exactly that test's points" {
    submission 3
    # Drop the ".." check of decode_target: openat2 still confines, but the answer is wrong.
    sed -i "s/seg\[0\] == '.' && seg\[1\] == '.' &&/seg[0] == '.' \&\& seg[1] == '.' \&\& 0 \&\&/" "$SUB"/stage3-*/path.c
    run -1 cmp -s "$SUB"/stage3-*/path.c "$EVLAB_TREE"/stage3-*/path.c
    run -0 env GRADE_FILES=files GRADE_OUT="$BATS_TEST_TMPDIR/out" "$GRADE" "$SUB" 3
    echo "$output"
    valid_results
    local name="traversal attempts get 400 and never a byte from outside the root"
    [[ $(field score "$name") == 0 && $(field max_score "$name") == 3 ]] || false
    # Its report: what was sent, what came back, what was expected, in that order.
    [[ $(field output "$name") == *"sent:     GET /../secret.txt HTTP/1.1\r\n"*"got:      HTTP/1.1 403 Forbidden\r\n"*"expected: an answer beginning \"HTTP/1.1 400 \""* ]] || false
    # Everything else still scores: the total is the maximum less those 3 points.
    [[ ${lines[-1]} =~ ^total:\ ([0-9]+)\ /\ ([0-9]+) ]] || false
    ((BASH_REMATCH[1] == BASH_REMATCH[2] - 3)) || false
}
@test "a server that ignores short writes keeps its plain points and loses the short-I/O ones, told why" {
    submission 2
    # conn_write takes every write() for a whole one.
    sed -i 's/c->outpos += (size_t)n;/c->outpos = c->outlen;/' "$SUB"/stage2-*/server.c
    run -1 cmp -s "$SUB"/stage2-*/server.c "$EVLAB_TREE"/stage2-*/server.c
    run -0 env SHORTIO_TESTS=yes GRADE_FILES=timeofday GRADE_OUT="$BATS_TEST_TMPDIR/out" "$GRADE" "$SUB" 2
    echo "$output"
    [[ $output == *"| stage 2 | 2 | 0 | 0 | 2 / 2 |"* ]] || false
    [[ $output == *"| stage 2 (short I/O) | 0 | 1 | 0 | 0 / 1 |"* ]] || false
    valid_results
    grep -q 'takes a short write for a whole one' "$BATS_TEST_TMPDIR/out/results.json"
    # and what the shim saw: a short write whose rest the server never sent.
    grep -qE 'rest was never sent|without sending the other [0-9]+' "$BATS_TEST_TMPDIR/out/results.json"
}
@test "a stage that does not build scores zero and says why" {
    submission 1
    echo 'this is not C' >>"$SUB"/stage1-*/server.c
    run -0 env GRADE_FILES="stage1" GRADE_OUT="$BATS_TEST_TMPDIR/out" "$GRADE" "$SUB" 1
    echo "$output"
    [[ ${lines[-1]} == "total: 0 / 6 points"* ]] || false
    valid_results
    grep -q 'stage 1 did not build' "$BATS_TEST_TMPDIR/out/results.json"
    grep -q 'this is not C' "$BATS_TEST_TMPDIR/out/results.json"
}

@test "a server that never answers fails its smoke test, and the stage's other tests at once, with that message" {
    submission 2
    # It listens, then never accepts: every client waits.
    sed -i 's/^    listenfd = Tcp_listen(&sa, salen);$/&\n    for (;;)\n        pause();/' "$SUB"/stage2-*/server.c
    run -1 cmp -s "$SUB"/stage2-*/server.c "$EVLAB_TREE"/stage2-*/server.c
    local start=$SECONDS
    # Every test file of stage 2, plain and under the shim; curl would wait 60 s.
    run -0 env CURL_TIME=60 SHORTIO_TESTS=yes GRADE_OUT="$BATS_TEST_TMPDIR/out" "$GRADE" "$SUB" 2
    echo "$output"
    echo "graded in $((SECONDS - start)) s"
    [[ ${lines[-1]} == "total: 0 / "* ]] || false
    valid_results
    # The smoke test says what happened; each other test says it did not run, and why.
    [[ $(field output "the server starts and answers a plain GET within 5 seconds") == *"got:      nothing (0 bytes)"* ]] || false
    run -0 python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
rest = d["tests"][1:]
assert len(rest) > 50, len(rest)
assert any("short I/O" in t["name"] for t in rest)
assert all(t["status"] == "failed" and t["output"].startswith("not run: the server failed the first test") for t in rest)' \
        "$BATS_TEST_TMPDIR/out/results.json"
    # The build and one smoke test's 5 s: each test waiting out its 30 s would take an hour.
    ((SECONDS - start < 60)) || false
}

@test "a grading out of time still writes its results: what it had no time for fails as not run" {
    submission 1
    # 19 s less the 15 s kept for writing the results leaves too little for any run.
    run -0 env GRADE_TIME_LIMIT=19 GRADE_FILES=timeofday GRADE_OUT="$BATS_TEST_TMPDIR/out" "$GRADE" "$SUB" 1
    echo "$output"
    [[ ${lines[-1]} == "total: 0 / 2 points"* ]] || false
    valid_results
    [[ $(field output "the server starts and answers a plain GET within 5 seconds") == "not run: the grading time limit (19 s) ran out"* ]] || false
}

# A copy of the lab's tests/ in $T/tests with one more test file, weird.bats (stage 1),
# whose tests fail printing what JSON and XML must escape, and one test that skips.
weird_tests() {
    T=$BATS_TEST_TMPDIR/top
    mkdir -p "$T"
    cp -r "$EVLAB_TREE/tests" "$T/"
    # (bats would take lines starting "@test" here for tests of this file: they are
    # written as "%test" and put right below.)
    cat >"$T/tests/weird.bats" <<'WEIRD'
# stages: 1
# visibility: after_published
load test_helper
%test "prints backslashes and quotes" {
    printf '%s\n' "tr '\0' a" 'C:\path\' '"quoted" \"' '\u0000 \x41' >&2
    false
}
%test "prints control bytes and invalid UTF-8" {
    printf 'bell\a \001\002\033[31m red \177 latin1 \351 bad \377\376 half \303 end\r\n' >&2
    printf 'tab\tcr\rvt\v ff\f\n' >&2
    false
}
# bats test_tags=visibility:hidden,points:2
%test "prints a megabyte" {
    head -c 1048576 /dev/zero | tr '\0' x | fold -w 100
    false
}
%test "cannot run here" {
    skip "FUSE: /dev/fuse is missing on this machine"
}
WEIRD
    sed -i 's/^%test/@test/' "$T/tests/weird.bats"
}

@test "results.json and junit.xml parse whatever a failing test prints: backslashes, quotes, control bytes, bad UTF-8, a megabyte" {
    weird_tests
    submission 1
    run -0 env GRADE_FILES=weird GRADE_OUT="$BATS_TEST_TMPDIR/out" "$T/tests/grade" "$SUB" 1
    echo "$output"
    valid_results
    python3 - "$BATS_TEST_TMPDIR/out/results.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
t = {x["name"].split(": ", 1)[1]: x for x in d["tests"]}
# What was printed is what the student reads: backslashes and quotes as they were.
out = t["prints backslashes and quotes"]["output"]
for s in ("tr '\\0' a", "C:\\path\\", '"quoted" \\"', "\\u0000 \\x41"):
    assert s in out, (s, out)
# Control bytes and bytes that are not UTF-8 shown as escapes; tabs and newlines kept.
out = t["prints control bytes and invalid UTF-8"]["output"]
for s in ("bell\\x07 \\x01\\x02\\x1b[31m red \\x7f", "latin1 \\xe9 bad \\xff\\xfe half \\xc3 end\n",
          "tab\tcr\\x0dvt\\x0b ff\\x0c"):
    assert s in out, (s, out)
# A megabyte is cut to its start and its end, saying how much was left out.
out = t["prints a megabyte"]["output"]
assert len(out) < 25000 and "characters left out" in out and out.endswith("\n" + "x" * 76), len(out)  # 1048576 = 10485 lines of 100, then 76
# Visibility from the file's line or the test's tag; points from the tag.
assert t["prints backslashes and quotes"]["visibility"] == "after_published"
assert t["prints a megabyte"]["visibility"] == "hidden" and t["prints a megabyte"]["max_score"] == 2
# A test that could not run here fails, naming what is missing.
out = t["cannot run here"]
assert out["status"] == "failed" and out["max_score"] == 1, out
assert out["output"].startswith("could not run on this grader: FUSE: /dev/fuse is missing"), out
assert d["score"] == 1 and sum(x["max_score"] for x in d["tests"]) == 6, d
PY
}

@test "GRADE_SKIPPED=drop leaves a test that cannot run here out of the maximum, and says so" {
    weird_tests
    submission 1
    run -0 env GRADE_SKIPPED=drop GRADE_FILES=weird GRADE_OUT="$BATS_TEST_TMPDIR/out" "$T/tests/grade" "$SUB" 1
    echo "$output"
    [[ ${lines[-1]} == "total: 1 / 5 points"* ]] || false
    valid_results
    python3 - "$BATS_TEST_TMPDIR/out" <<'PY'
import json, sys, xml.etree.ElementTree as ET
d = json.load(open(sys.argv[1] + "/results.json"))
assert not [t for t in d["tests"] if "cannot run here" in t["name"]]
assert "cannot run here: FUSE: /dev/fuse is missing" in d["output"], d["output"]
x = ET.parse(sys.argv[1] + "/junit.xml")
assert [c.get("name") for c in x.iter("testcase") if c.find("skipped") is not None] == ["cannot run here"]
PY
}
