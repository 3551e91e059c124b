#!/usr/bin/env bats
# stages: tools
# The build: every stage builds on its own, and make's variables change what they say
# (CFLAGS the optimisation, CC the compiler), never the flags the lab needs.

load test_helper

@test "make CFLAGS=-O0 builds every stage, still with the lab's warnings and include path" {
    local copy="$BATS_TEST_TMPDIR/tree" d
    mkdir -p "$copy"
    cp -r "$EVLAB_TREE/common" "$EVLAB_TREE"/stage[1-6]-* "$copy/"
    for d in "$copy"/stage[1-6]-*/; do
        make -s -C "$d" clean >/dev/null
        run -0 make -s -C "$d" CFLAGS=-O0
        [[ $(cat "$d/.build-flags") == *-O0*-Werror*"-I../common"* ]] || { cat "$d/.build-flags"; false; }
    done
    for d in stage1-iterative stage2-select stage3-files stage4-aio stage5-signals; do
        [[ -x $copy/$d/server ]] || { echo "$d/server was not built"; false; }
    done
    [[ -x $copy/stage6-bench/loadgen && -x $copy/stage6-bench/fork_server ]] || false
}
