#!/usr/bin/env bats
# stages: 3 4 5 6:fork_server 6:thread_server 6:epoll_server 6:uring_server
# A dialled slow or failing disk (tests/tools/slowfs, a FUSE mirror): what a slow read
# does to the event loop, and what a failed read does to one answer.

load test_helper

SLOW_MS=1000 # far longer than it takes to start a second curl, even under sanitizers

setup() {
    make_src
    printf '<p>index\n' >"$SRC/index.html"
}

# The request lines of the server's log, in the order their answers finished.
finished() {
    sed -n 's/.*"GET \(\/[^ ]*\) HTTP.*/\1/p' "$SERVER_LOG" | paste -sd ' '
}

# Mount slowfs with flags "$@" (slow.txt slow), ask for /slow.txt and 0.1 s later for
# /fast.txt; both must arrive whole.  $order: the order their answers finished in;
# $fast_ms: how long the fast one took.
slow_then_fast() {
    start_slowfs "$@" -m slow.txt "$SRC"
    start_server -r "$MNT"
    local out="$BATS_TEST_TMPDIR"
    http -w '%{time_total}\n' -o "$out/slow" "$(url /slow.txt)" >"$out/slow.time" 3>&- &
    local slow=$!
    sleep 0.1
    run -0 http -w '%{time_total}\n' -o "$out/fast" "$(url /fast.txt)"
    local fast_time=$output
    wait "$slow"
    echo "${SERVER_BIN:-stage $STAGE}: /slow.txt took $(cat "$out/slow.time") s, /fast.txt (asked 0.1 s later) $fast_time s"
    cmp "$SRC/slow.txt" "$out/slow"
    cmp "$SRC/fast.txt" "$out/fast"
    order=$(finished)
    fast_ms=$(awk -v t="$fast_time" 'BEGIN { printf "%d", t * 1000 }')
    echo "answers finished in this order: $order"
}

@test "a small file asked for during a slow read waits for it in stage 3 (and its epoll twin) only" {
    slow_then_fast -d "$SLOW_MS"
    if ((STAGE == 3)) || [[ ${SERVER_BIN:-} == epoll_server ]]; then
        # One read() blocks the whole loop, whatever tells it what is ready: the fast
        # file is that read's hostage.
        [[ $order == "/slow.txt /fast.txt" ]] || false
    else
        # The slow read is in flight off the loop, which meanwhile serves the fast file.
        [[ $order == "/fast.txt /slow.txt" ]] || false
    fi
}

@test "a small file asked for during a slow open waits for it in every event loop but io_uring's" {
    slow_then_fast -o "$SLOW_MS"
    # (Which answer ends first says nothing here: once the open is done, both reads
    # are quick.  Whether the fast file waited for the open does: it would for 0.9 s.)
    local hostage=$(((SLOW_MS - 100) / 2))
    case ${SERVER_BIN:-} in
    fork_server | thread_server | uring_server)
        # Its own process or thread waits for the open; or the open is one more
        # submitted operation, and the loop serves the fast file meanwhile.
        ((fast_ms < hostage)) || false
        ;;
    *)
        # Stage 4's aio reads the file off the loop, but open() is still made on it,
        # and waits there: the fast file waits with it.
        ((fast_ms >= hostage)) || false
        ;;
    esac
}

# A server that polls for the read's end instead of sleeping until it is told burns a CPU.
@test "a read in flight costs the server no CPU while it waits" {
    start_slowfs -d "$SLOW_MS" -m slow.txt "$SRC"
    start_server -q -r "$MNT"
    local out="$BATS_TEST_TMPDIR" before after
    http -o "$out/slow" "$(url /slow.txt)" 3>&- &
    local slow=$!
    sleep 0.2
    before=$(cpu_ticks)
    sleep 0.6
    after=$(cpu_ticks)
    wait "$slow"
    cmp "$SRC/slow.txt" "$out/slow"
    echo "the server used $((after - before)) ticks of CPU (1/100 s each) in 0.6 s of a 1 s read"
    ((after - before <= 10)) || false
}

@test "a file whose read fails gets 500, and the server goes on serving" {
    start_slowfs -e bad.txt "$SRC"
    printf 'unreadable\n' >"$SRC/bad.txt"
    start_server -r "$MNT"
    run -0 http -o /dev/null -w '%{http_code}\n' "$(url /bad.txt)"
    [[ $output == 500 ]] || false
    run -0 http -i "$(url /bad.txt)"
    [[ $(head -n 1 <<<"$output") == $'HTTP/1.1 500 Internal Server Error\r' ]] || false
    run -0 http "$(url /fast.txt)"
    [[ $output == "fast file" ]] || false
}

@test "a read that fails after the answer began cuts that connection only" {
    head -c $((2 * 1024 * 1024)) /dev/urandom >"$SRC/bad.bin"
    # The first 1.5 MiB read well, then reads fail: whatever size the server reads in
    # (up to that), the head and some of the body have left when a read fails.
    start_slowfs -e bad.bin -E $((1536 * 1024)) "$SRC"
    start_server -r "$MNT"
    local got="$BATS_TEST_TMPDIR/got"
    run --separate-stderr http -o "$got" -w '%{http_code} %{size_download}\n' "$(url /bad.bin)"
    echo "curl: status $status, $output; $stderr"
    # curl 18: the connection closed before Content-Length bytes came.
    ((status == 18)) || false
    [[ $output == "200 "* ]] || false
    local n
    n=$(stat -c %s "$got")
    ((n < 2 * 1024 * 1024)) || false
    cmp -n "$n" "$SRC/bad.bin" "$got"
    run -0 http "$(url /fast.txt)"
    [[ $output == "fast file" ]] || false
}
