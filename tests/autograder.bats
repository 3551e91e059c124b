#!/usr/bin/env bats
# stages: tools
# budget: 60
# parallel: tests
# make autograder: the Gradescope bundle, run end to end in a fake /autograder
# (AUTOGRADER_ROOT) as Gradescope runs it: unzip into source/, setup.sh once, then
# run_autograder for each submission, uploaded as a student would (a zip of stage
# folders, a git repository of the whole tree), correct, broken and not building.

BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-300}
load test_helper

# One bundle for stage 1 and its image (source/ unzipped, setup.sh run) for the file.
setup_file() {
    command -v python3 >/dev/null || return 0
    export AG=$BATS_FILE_TMPDIR/autograder
    mkdir -p "$AG/source"
    make -s -C "$EVLAB_TREE" autograder STAGE=1 AUTOGRADER="$BATS_FILE_TMPDIR/autograder.zip" >"$BATS_FILE_TMPDIR/bundle.log" 2>&1
    # Extracted without the execute bits, which an unzip may not keep: setup.sh restores them.
    python3 -m zipfile -e "$BATS_FILE_TMPDIR/autograder.zip" "$AG/source"
    bash "$AG/source/setup.sh" >"$BATS_FILE_TMPDIR/setup.log" 2>&1 || true
    cp "$AG/source/run_autograder" "$AG/run_autograder" # what Gradescope does
}

setup() {
    command -v python3 >/dev/null || skip "python3 is not installed: the bundle is written and graded with it"
    rm -rf "$AG/submission" "$AG/results"
    mkdir -p "$AG/submission"
}

# Run the autograder on what is in $AG/submission, from /autograder's stand-in, as
# Gradescope does; its results must parse and be Gradescope's format.
grade_submission() {
    run -0 env -u EVLAB_TREE -u STAGE -u SERVER_BIN -u SHORTIO -u EVLAB_PIDFILE \
        AUTOGRADER_ROOT="$AG" bash -c 'cd "$AUTOGRADER_ROOT" && ./run_autograder'
    echo "$output"
    "$BATS_TEST_DIRNAME/tools/check-results" "$AG/results"
}

# The score and the maximum of the last results.json: "SCORE MAX".
score() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["score"], sum(t["max_score"] for t in d["tests"]))' "$AG/results/results.json"
}

# A clean copy of the reference's files under paths "$@" into folder $1 (first arg).
copy_tree() {
    local to=$1
    shift
    mkdir -p "$to"
    (cd "$EVLAB_TREE" && git ls-files -z "$@" | xargs -0 cp --parents -t "$to")
}

@test "make autograder writes a zip with setup.sh and run_autograder at its root, and setup.sh installs from tests/deps" {
    cat "$BATS_FILE_TMPDIR/bundle.log" "$BATS_FILE_TMPDIR/setup.log"
    run -0 python3 -m zipfile -l "$BATS_FILE_TMPDIR/autograder.zip"
    [[ $output == *$'\n'"setup.sh "* && $output == *$'\n'"run_autograder "* ]] || false
    [[ $output == *"evlab/tests/deps "* && $output == *"evlab/tests/grade "* && $output == *"evlab/autograder.conf "* ]] || false
    # No tests of the lab's own tooling, no reference stage: the students' code is graded.
    [[ $output != *"grade.bats"* && $output != *"benchsmoke.bats"* && $output != *"stage1-iterative"* ]] || false
    grep -q '^GRADE_STAGES="1"$' "$AG/source/evlab/autograder.conf"
    # setup.sh installs what tests/deps lists and reports the bats-core it will use.
    grep -q 'tests/tools/deps" install' "$AG/source/setup.sh"
    [[ $(tail -n 1 "$BATS_FILE_TMPDIR/setup.log") == "evlab autograder: set up ("*"Bats 1."*")" ]] || false
    [[ -x $AG/source/evlab/tests/grade ]] || false
}

@test "a correct stage 1, uploaded as a zip of its folder: full marks in /autograder/results/results.json" {
    copy_tree "$BATS_TEST_TMPDIR/mine" stage1-iterative
    (cd "$BATS_TEST_TMPDIR/mine" && python3 -m zipfile -c "$BATS_TEST_TMPDIR/up.zip" stage1-iterative)
    # Gradescope unzips an uploaded zip into submission/.
    python3 -m zipfile -e "$BATS_TEST_TMPDIR/up.zip" "$AG/submission"
    grade_submission
    read -r got max <<<"$(score)"
    ((max > 50 && got == max)) || false
    # Both runs, each test numbered in the stage: 1.1, 1.2, ...
    grep -q '"number": "1.1"' "$AG/results/results.json"
    grep -q 'stage 1 (short I/O): ' "$AG/results/results.json"
}

@test "a broken stage 1 in a git repository of the whole tree loses the points of what it breaks" {
    command -v patch >/dev/null || skip "patch is not installed (apt-get install patch)"
    local repo=$AG/submission/evlab
    copy_tree "$repo" common stage1-iterative
    patch -s -p1 -d "$repo" <"$EVLAB_TREE/tests/mutants/stage1-head-limit-off-by-one.patch"
    git -C "$repo" init -q && git -C "$repo" add -A && git -C "$repo" -c user.name=s -c user.email=s@x commit -qm work
    grade_submission
    read -r got max <<<"$(score)"
    ((got > 0 && got < max)) || false
    # The test that catches it says what was sent and what came back.
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
bad = [t for t in d["tests"] if t["status"] == "failed"]
assert bad and all("sent:" in t["output"] or "got:" in t["output"] or "expected" in t["output"] for t in bad), bad' \
        "$AG/results/results.json"
}

@test "a stage 1 that does not build scores zero, with the compiler's words" {
    copy_tree "$AG/submission" stage1-iterative
    echo 'this is not C' >>"$AG/submission/stage1-iterative/server.c"
    grade_submission
    [[ $(score) == "0 "* ]] || false
    grep -q 'stage 1 did not build' "$AG/results/results.json"
    grep -q 'this is not C' "$AG/results/results.json"
}

@test "a submission without the graded stage's folder gets results that say what to upload" {
    copy_tree "$AG/submission" stage2-select
    grade_submission
    [[ $(score) == "0 0" ]] || false
    grep -q 'no folder for stage1' "$AG/results/results.json"
    rm -rf "${AG:?}/submission"/*
    echo hello >"$AG/submission/notes.txt"
    grade_submission
    grep -q 'No stage folder was found in your submission' "$AG/results/results.json"
}
