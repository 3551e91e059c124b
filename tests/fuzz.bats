#!/usr/bin/env bats
# stages: tools
# The fuzzers' kept inputs (seeds, and every input that once crashed) replay clean: the
# HTTP parser answers 0, 400, 501 or 505 and never reads a body as a request, and no
# target opens a file outside the root.

load test_helper

@test "the fuzz corpus replays without a crash or an escape from the root" {
    command -v clang >/dev/null || skip "clang is not installed (libFuzzer comes with it)"
    local probe="$BATS_TEST_TMPDIR/probe"
    printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$probe.c"
    clang -fsanitize=fuzzer "$probe.c" -o "$probe" 2>/dev/null ||
        skip "clang has no libFuzzer here (Debian: libclang-rt-14-dev)"
    run -0 make -s -C "$BATS_TEST_DIRNAME/fuzz" regress
    echo "$output"
    [[ $(grep -c '^Done' <<<"$output") == 2 ]] || false
}
