#!/usr/bin/env bats
# stages: tools
# budget: 90
# parallel: tests
# make handout: the students' trees (every stage at once, and each week's release) hold no
# answer, no marker and nothing of the instructor's, build cleanly and fail where work is
# missing; make test builds only the stage it tests; make diff shows the code first.

BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-300}
load test_helper

HANDOUT="$EVLAB_TREE/tests/tools/handout"

# make in a student's tree $1, as the student runs it: none of this run's settings (the
# tree under test, the stage, the shim) leak into it.
student_make() {
    local t=$1
    shift
    env -u EVLAB_TREE -u STAGE -u SERVER_BIN -u SHORTIO -u EVLAB_PIDFILE \
        make -s --no-print-directory -C "$t" "$@"
}

# The "N passed, N failed" line of a make test that run just ran.
summary() {
    grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$output" | tail -n 1
}

# The leaks in release tree $1 (release $2: "all" or a stage; $3 = 1 when the stages
# before it are cut too), one per line, "FILE: line". The reference lines of the regions
# that release cuts must not be in it: alone, every such line that the code the release
# keeps does not also have (a leak by the tool or by a handout quoting code); in runs of
# three, every line (a copy of a part left unmarked in a later stage, which the release
# keeps: "if (n <= 0)" alone is common speech, three lines of conn_write in a row are
# the answer; unless a part the release shows, an earlier stage's, has them too). Lines of braces and keywords alone ("}", "break;", "return 0;") and
# declarations without a value ("ssize_t n;") say nothing and are passed over.
find_leaks() {
    local refs=("$EVLAB_TREE"/common/*.[ch] "$EVLAB_TREE"/stage[1-6]-*/*.[ch]) files others
    # The release's files outside the stages and common/ (tests, tools) are the reference's
    # own, copied: their lines count as kept code too.
    (cd "$1" && mapfile -d '' files < <(find . -type f ! -name .evlab-release -print0 | sort -z) &&
        mapfile -d '' others < <(find "$PWD" -type f ! -path "$PWD/stage*" ! -path "$PWD/common/*" -print0) &&
        refs+=("${others[@]}") &&
        awk -v release="$2" -v past="$3" -v top="$EVLAB_TREE/" '
        function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
        function says_nothing(l) {
            return l == "" || l ~ /^([ {}();,]|else|break|continue|return( -?[01]| NULL| false| true)?|default:)*$/ ||
                l ~ /^(const |struct |unsigned )*[a-z_][a-z0-9_]*[ *]+[a-z_][a-z0-9_]*(\[[A-Za-z0-9_ ]*\])?(, *[*]?[a-z_][a-z0-9_]*)*;$/
        }
        # The reference (and the copied files) come first, by absolute path; then the
        # release, by relative path.
        FNR == 1 {
            isref = FILENAME ~ /^\//; p1 = p2 = ""; open = 0
            name = FILENAME; sub("^" top, "", name); sub(/^\.\//, "", name)
            folder = name ~ /^stage[1-6]-/ ? substr(name, 6, 1) + 0 : 0
            kept = release == "all" || folder <= release + 0
        }
        isref && /\/\* BEGIN STUDENT/ {
            origin = match($0, /STUDENT [1-6]:/) ? substr($0, RSTART + 8, 1) + 0 : folder
            cut = release == "all" || past || origin == release + 0
            open = 1; p1 = p2 = ""; next
        }
        isref && /\/\* (END STUDENT|STUB:)/ { open = !/END STUDENT/; next }
        { l = trim($0) }
        says_nothing(l) { next }
        isref {
            if (!kept) next
            if (!open) { given[l] = 1; next }
            run = p2 SUBSEP p1 SUBSEP l
            p2 = p1; p1 = l
            if (!cut) { given[l] = shown[run] = 1; next }
            alone[l] = 1
            if (run !~ "^" SUBSEP) three[run] = 1
            next
        }
        (l in alone && !(l in given)) || ((p2 SUBSEP p1 SUBSEP l) in three && !((p2 SUBSEP p1 SUBSEP l) in shown)) {
            printf "%s: %s\n", name, l
        }
        { p2 = p1; p1 = l }' "${refs[@]}" "${files[@]}")
}

@test "no release holds a line of a part it cuts, a marker, or the instructor's files" {
    local rel past out n=0
    for rel in all 1 2 3 4 5 6; do
        for past in 0 1; do
            [[ $rel == all && $past == 1 ]] && continue
            out="$BATS_TEST_TMPDIR/r$rel$past"
            local flags=()
            [[ $rel == all ]] || flags+=(-s "$rel")
            ((past == 0)) || flags+=(-p)
            run -0 "$HANDOUT" "${flags[@]}" "$out"
            run -0 find_leaks "$out" "$rel" "$past"
            [[ -z $output ]] || { echo "release $rel (past cut: $past) leaks reference lines:"; echo "$output"; false; }
            run -1 grep -rlE --include='*.[ch]' --include='*.md' --include=Makefile 'BEGIN STUDENT|STUB:|INSTRUCTOR' "$out"
            local f
            for f in .ci tests/grade.bats tests/build.bats tests/fuzz.bats tests/fuzz tests/tools/handout \
                tests/benchsmoke.bats tests/autograder.bats tests/gradescope starter; do
                [[ ! -e $out/$f ]] || { echo "release $rel has the instructor's $f"; false; }
            done
            grep -q '^This tree holds\|This tree holds' "$out/README.md"
            # What a student needs on their machine, and make shell where it is not Linux.
            [[ -f $out/tests/deps && -x $out/tests/tools/deps && -f $out/Dockerfile ]] || false
            grep -q '^## Requirements' "$out/README.md"
            grep -q '^shell:' "$out/Makefile"
            run -1 grep -q 'For instructors' "$out/README.md"
            n=$((n + 1))
        done
    done
    ((n == 13)) || false
}

@test "a release has its stages and their tests, and no later stage" {
    run -0 "$HANDOUT" -s 2 "$BATS_TEST_TMPDIR/w2"
    local t="$BATS_TEST_TMPDIR/w2"
    [[ -d $t/stage1-iterative && -d $t/stage2-select && ! -e $t/stage3-files ]] || false
    [[ -f $t/tests/timeofday.bats && -f $t/tests/eventloop.bats && ! -e $t/tests/files.bats ]] || false
    # Stage 1's answer is there (its deadline has passed), stage 2's is not.
    run -1 grep -q 'TODO' "$t"/stage1-iterative/server.c
    grep -q 'TODO' "$t"/stage2-select/server.c
    grep -q '^release: 2$' "$t/.evlab-release"
    # With CUT_PAST, stage 1 is cut as well.
    run -0 "$HANDOUT" -s 2 -p "$BATS_TEST_TMPDIR/w2p"
    grep -q 'TODO' "$BATS_TEST_TMPDIR"/w2p/stage1-iterative/server.c
}

@test "make handout writes beside the reference, replaces its own tree, and refuses any other" {
    local t="$BATS_TEST_TMPDIR/w1"
    run -0 "$HANDOUT" -s 1 "$t"
    run -0 "$HANDOUT" -s 1 "$t" # again: replaces it
    echo "$output"
    mkdir "$BATS_TEST_TMPDIR/mine" && echo notes >"$BATS_TEST_TMPDIR/mine/notes.txt"
    run -2 "$HANDOUT" -s 1 "$BATS_TEST_TMPDIR/mine"
    echo "$output"
    [[ $output == *"not empty and not an earlier handout"* ]] || false
    [[ $(cat "$BATS_TEST_TMPDIR/mine/notes.txt") == notes ]] || false
    run -2 "$HANDOUT" "$EVLAB_TREE/stage1-iterative/handout"
    [[ $output == *"inside the reference tree"* ]] || false
    [[ ! -e $EVLAB_TREE/stage1-iterative/handout ]] || false
    # The default is beside the reference, named after the release.
    run -0 make -s -C "$EVLAB_TREE" -n handout STAGE=4
    [[ $output == *"tests/tools/handout -s 4"* ]] || false
}

# Release $1 builds cleanly (with -Wall -Wextra -Werror, as every stage, under this run's
# compiler), and its stage's tests, run as the student runs them, fail where work is
# missing, none by waiting out its timeout: the stubs stop at once.
release_fails_fast() {
    local n=$1 t="$BATS_TEST_TMPDIR/w$1"
    run -0 "$HANDOUT" -s "$n" "$t"
    run -0 student_make "$(echo "$t"/stage"$n"-*)"
    SECONDS=0
    run -2 student_make "$t" test STAGE="$n" SHORTIO_TESTS=no
    echo "stage $n: $(summary) in $SECONDS s"
    [[ $(summary) =~ ^[0-9]+\ passed,\ ([0-9]+)\ failed ]] && ((BASH_REMATCH[1] > 0)) || false
    run -1 grep -E '^not ok .* # timeout after' <<<"$output"
}

@test "week 1's release builds cleanly, and its tests, run as a student runs them, fail fast" {
    release_fails_fast 1
}

@test "week 2's release builds cleanly, and its tests, run as a student runs them, fail fast" {
    release_fails_fast 2
}

@test "week 3's release builds cleanly, and its tests, run as a student runs them, fail fast" {
    release_fails_fast 3
}

@test "week 4's release builds cleanly, and its tests, run as a student runs them, fail fast" {
    release_fails_fast 4
}

@test "week 5's release builds cleanly, and its tests, run as a student runs them, fail fast" {
    release_fails_fast 5
}

@test "week 6's release and the every-stage tree build cleanly" {
    local n t="$BATS_TEST_TMPDIR/w6"
    run -0 "$HANDOUT" -s 6 "$t"
    run -0 student_make "$(echo "$t"/stage6-*)"
    t="$BATS_TEST_TMPDIR/all"
    run -0 "$HANDOUT" "$t"
    for n in 1 2 3 4 5 6; do run -0 student_make "$(echo "$t"/stage"$n"-*)"; done
}

# "NAME LINES" for each function with a part of stage $1's own in its folder.
own_parts() {
    "$HANDOUT" --regions | awk -v n="$1" '{ f = $1; sub(/:.*/, "", f) }
        f ~ "^stage" n "-" && $2 == n { lines[$3] += $4 }
        END { for (fn in lines) print fn, lines[fn] }' | sort
}

@test "each handout's What to build names every part to write with its length, first" {
    local n readme fn len section
    for n in 1 2 3 4 5; do
        readme=$(echo "$EVLAB_TREE"/stage"$n"-*/README.md)
        # The section, up to the next heading; it opens with the list of parts.
        section=$(awk '/^## What to build/ { on = 1; next } on && /^## / { exit } on' "$readme")
        [[ -n $section ]] || { echo "$readme: no What to build section"; false; }
        while read -r fn len; do
            [[ $section == *"\`$fn\` ($len lines"* ]] ||
                { echo "$readme: What to build does not list \`$fn\` ($len lines"; false; }
        done < <(own_parts "$n")
        [[ -n $(own_parts "$n") ]] || false
    done
}

@test "a marker out of place stops the handout and names the file and line" {
    local tree="$BATS_TEST_TMPDIR/tree"
    mkdir -p "$tree/tests/tools"
    cp -r "$EVLAB_TREE/common" "$EVLAB_TREE"/stage1-* "$tree/"
    cp "$HANDOUT" "$tree/tests/tools/"
    run -0 "$tree/tests/tools/handout" --check
    # Drop the first END STUDENT: the region never closes before the next BEGIN.
    sed -i '0,/END STUDENT/{/END STUDENT/d}' "$tree"/stage1-*/server.c
    run -1 "$tree/tests/tools/handout" --check
    echo "$output"
    [[ $output == stage1-iterative/server.c:*"BEGIN STUDENT inside the region opened at line"* ]] || false
    run -1 "$tree/tests/tools/handout" "$BATS_TEST_TMPDIR/out"
    [[ ! -e $BATS_TEST_TMPDIR/out ]] || false
    # A copy must come from an earlier stage.
    cp -r "$EVLAB_TREE"/stage1-* "$tree/"
    sed -i '0,/BEGIN STUDENT:/s/BEGIN STUDENT:/BEGIN STUDENT 2:/' "$tree"/stage1-*/server.c
    run -1 "$tree/tests/tools/handout" --check
    [[ $output == stage1-iterative/server.c:*"a part of stage 2 in a stage 1 file"* ]] || false
}

@test "in a student's tree, make test STAGE=1 runs while stage 2 does not compile, and make test runs only students' tests" {
    local t="$BATS_TEST_TMPDIR/st"
    run -0 "$HANDOUT" -s 2 "$t"
    # A half-written stage 2: an unused variable is an error under -Werror.
    sed -i '0,/^{$/s/^{$/{ int half_written;/' "$t"/stage2-select/server.c
    run -0 student_make "$t" test STAGE=1 SHORTIO_TESTS=no
    [[ $(summary) =~ ^[1-9][0-9]*\ passed,\ 0\ failed ]] || false
    run -2 student_make "$t" test STAGE=2 SHORTIO_TESTS=no
    echo "$output" | tail -n 5
    [[ $output == *"stage2-select does not build"*"half_written"* ]] || false
    [[ $(summary) =~ ^0\ passed,\ [1-9][0-9]*\ failed ]] || false
    # The whole of a student's make test: the stages only, none of the lab's own tooling.
    run -2 student_make "$t" test SHORTIO_TESTS=no
    [[ $output != *"# tools"* && $output == *"# stage 1:"*"# stage 2:"* ]] || false
}

@test "make diff shows the code, and the handouts' prose only with DOCS=1" {
    run -0 make -s -C "$EVLAB_TREE" diff FROM=3 TO=4
    [[ $output == *"+++ stage4-aio/server.c"* ]] || false
    [[ $output != *README.md* ]] || false
    [[ $output != *"BEGIN STUDENT"* ]] || false
    run -0 make -s -C "$EVLAB_TREE" diff FROM=3 TO=4 DOCS=1
    [[ $output == *"+++ stage4-aio/server.c"*"+++ stage4-aio/README.md"* ]] || false
}

@test "every handout and both READMEs show how to run one test file and one test, and the commands work" {
    local readme n f filter names shown=0 line
    for readme in "$EVLAB_TREE"/stage[1-6]-*/README.md "$EVLAB_TREE/README.md" "$EVLAB_TREE/starter/README.md"; do
        # Each "make test STAGE=N FILE=F [FILTER='R']" line must name a file that tests
        # stage N, and R must pick at least one of its tests, as bats's --filter would.
        while IFS= read -r line; do
            [[ $line =~ make\ test\ STAGE=([1-6])\ FILE=([a-z0-9]+)(\ FILTER=\'([^\']*)\')? ]] || continue
            n=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} filter=${BASH_REMATCH[4]}
            [[ -f $EVLAB_TREE/tests/$f.bats ]] || { echo "${readme#"$EVLAB_TREE"/}: no tests/$f.bats: $line"; false; }
            [[ " $(sed -n 's/^# stages: *//p' "$EVLAB_TREE/tests/$f.bats") " =~ \ ${n}[\ :] ]] ||
                { echo "${readme#"$EVLAB_TREE"/}: tests/$f.bats does not test stage $n: $line"; false; }
            names=$(sed -n 's/^@test "\(.*\)" {$/\1/p' "$EVLAB_TREE/tests/$f.bats")
            [[ -z $filter ]] || grep -qE -- "$filter" <<<"$names" ||
                { echo "${readme#"$EVLAB_TREE"/}: FILTER='$filter' matches no test of tests/$f.bats"; false; }
            [[ $readme != */stage"$n"-*/README.md && $readme == */stage* ]] &&
                { echo "${readme#"$EVLAB_TREE"/} shows stage $n's command: $line"; false; }
            [[ -n $filter ]] && shown=$((shown + 1))
        done <"$readme"
        grep -qE 'make test STAGE=[1-6] FILE=[a-z0-9]+ FILTER=' "$readme" ||
            { echo "${readme#"$EVLAB_TREE"/} does not show make test STAGE=N FILE=... FILTER=..."; false; }
    done
    echo "$shown one-test commands checked"
    # And the command itself: make hands FILE and FILTER to tests/run (make -n: a make
    # run inside bats loses bats's own exported function), which runs those tests only.
    run -0 make -s -n -C "$EVLAB_TREE" test STAGE=1 FILE=protocol FILTER='8 KiB'
    [[ $output == *'tests/run --file protocol --filter "$FILTER"'*' 1' ]] || false
    run -0 env -u STAGE -u SERVER_BIN -u SHORTIO -u EVLAB_PIDFILE FILTER='8 KiB' \
        bash -c '"$0" --file protocol --filter "$FILTER" 1' "$EVLAB_TREE/tests/run"
    echo "$output" | tail -n 4
    [[ $(summary) =~ ^[1-9]\ passed,\ 0\ failed ]] || false
    [[ $output != *"# smoke.bats"* && $output == *"8 KiB"* && $output != *"Date in IMF-fixdate"* ]] || false
}
