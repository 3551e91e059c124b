#!/usr/bin/env bats
# stages: 2 3 4 5 6:fork_server 6:thread_server 6:epoll_server 6:uring_server
# Signal handlers do only what is safe in a handler. tests/tools/sigsafe.so wraps every
# handler the server installs and reports a call, made while one runs, to a function
# that is not async-signal-safe (malloc, free, the printf family, stdio, exit, ...).

BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-60}
load test_helper

# The sanitizers and valgrind own malloc: the checker cannot stand in front of them.
sigsafe_possible() {
    [[ -z ${MEMCHECK:-} ]] || skip "under valgrind, which replaces malloc itself (make test runs this)"
    ! ldd "$(server_bin)" 2>/dev/null | grep -q 'lib[at]san' ||
        skip "a sanitizer build owns malloc: sigsafe.so runs in the gcc and clang builds"
    [[ -f $EVLAB_TOOLS/sigsafe.so ]] || { echo "tests/tools/sigsafe.so is missing (tests/tools/build)"; false; }
}

# bats test_tags=nomemcheck
@test "signal handlers call nothing that is unsafe in a handler (sigsafe.so), however often they run" {
    sigsafe_possible
    local report=$BATS_TEST_TMPDIR/sigsafe.log turn # (not i: bats's run sets an i of its own)
    if ((STAGE >= 3)); then
        make_root
        head -c $((256 * 1024)) /dev/urandom >"$ROOT/big.bin"
    fi
    SIGSAFE_LOG=$report SERVER_PRELOAD=$EVLAB_TOOLS/sigsafe.so start_server -q
    # Every handler the stage has, many times, while requests are served: stage 4 and 5's
    # completion signal with each read, stage 5's SIGHUP and SIGUSR1 by hand.
    for ((turn = 0; turn < 20; turn++)); do
        if ((STAGE >= 3)); then
            run -0 http -o /dev/null -o /dev/null "$(url /big.bin)" "$(url /index.html)"
        else
            run -0 http -o /dev/null "$(url /)"
        fi
        if ((STAGE == 5)); then
            kill -HUP "$SERVER_PID"
            kill -USR1 "$SERVER_PID"
        fi
    done
    term_server
    # The checker was at work: it wrapped the server's handlers (SIGTERM's at least).
    grep -q 'watching the handler of signal 15 ' "$report" ||
        { echo "sigsafe.so never saw the server install a handler:"; cat "$report" 2>/dev/null; false; }
    if grep -q 'called in the handler' "$report"; then
        echo "A signal handler called functions that are not async-signal-safe (man 7"
        echo "signal-safety): a handler may interrupt the program inside malloc or printf, whose"
        echo "state is then half changed. Set a volatile sig_atomic_t flag, and act on it in the loop."
        grep 'called in the handler' "$report" | sed 's/pid [0-9]*: //' | sort | uniq -c | head -n 10
        false
    fi
}
