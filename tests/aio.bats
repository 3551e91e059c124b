#!/usr/bin/env bats
# stages: 4 5
# Asynchronous file reads: they happen off the event loop, many at once, and a
# client that leaves while its read is in flight frees nothing too early.

load test_helper

# (Not under valgrind: it reads files of its own, from the loop's thread.)
# bats test_tags=nomemcheck
@test "file reads happen on another thread than the one in select (strace)" {
    command -v strace >/dev/null || skip "strace is not installed (apt-get install strace)"
    make_root
    head -c $((1024 * 1024)) /dev/urandom >"$ROOT/one.bin"
    local trace="$BATS_TEST_TMPDIR/strace.log"
    ASAN_OPTIONS=detect_leaks=0 SERVER_PREFIX="strace -f -qq -e trace=pread64,pselect6 -o $trace" \
        start_server -q || skip "strace cannot trace here (ptrace not permitted?)"
    # The server itself is strace's child: the teardown stops it first (killing strace
    # alone would leave it running, untraced), and so does tests/run after a timeout.
    local server
    server=$(pgrep -P "$SERVER_PID")
    SERVER_PIDS=("$server" "${SERVER_PIDS[@]}")
    [[ -z ${EVLAB_PIDFILE:-} ]] || echo "$server" >>"$EVLAB_PIDFILE"
    run -0 http "$(url /one.bin)" -o "$BATS_TEST_TMPDIR/one"
    cmp "$ROOT/one.bin" "$BATS_TEST_TMPDIR/one"
    # Stop the server so that strace finishes its log.
    kill -TERM "$server"
    run -0 timeout 5 bash -c 'while kill -0 "$0" 2>/dev/null; do sleep 0.05; done' "$SERVER_PID"
    # Threads that waited in pselect6, and threads that read the file (after the first
    # pselect6: earlier preads are the dynamic loader's).
    local loop readers
    loop=$(awk '$2 ~ /^pselect6\(/ { print $1 }' "$trace" | sort -u)
    readers=$(awk '$2 ~ /^pselect6\(/ { on = 1 } on && $2 ~ /^pread64\(/ { print $1 }' "$trace" | sort -u)
    echo "loop thread: $loop; reading threads: $readers"
    [[ -n $loop && -n $readers ]] || false
    [[ $(wc -l <<<"$loop") == 1 ]] || false
    [[ $'\n'$readers$'\n' != *$'\n'$loop$'\n'* ]] || false
    # Every byte of the file came through pread64 on those threads, in pieces of any
    # size (a call strace saw cut in two ends in "<... pread64 resumed> ... = N").
    local bytes
    bytes=$(awk '$2 ~ /^pselect6\(/ { on = 1 }
        on && /pread64/ && $NF ~ /^[0-9]+$/ && $(NF - 1) == "=" { n += $NF }
        END { print n + 0 }' "$trace")
    echo "bytes read by pread64 after the loop began: $bytes"
    ((bytes >= 1024 * 1024)) || false
}

@test "50 concurrent downloads of a 4 MiB file are byte-exact" {
    make_root
    head -c $((4 * 1024 * 1024)) /dev/urandom >"$ROOT/four.bin"
    start_server -q
    local args=() i want
    for ((i = 0; i < 50; i++)); do args+=(-o "$BATS_TEST_TMPDIR/d$i" "$(url /four.bin)"); done
    CURL_TIME=120 run -0 http --parallel --parallel-immediate --parallel-max 50 -f "${args[@]}"
    want=$(sha256sum <"$ROOT/four.bin")
    for ((i = 0; i < 50; i++)); do
        [[ $(sha256sum <"$BATS_TEST_TMPDIR/d$i") == "$want" ]] || { echo "download $i differs"; false; }
    done
}

@test "clients that leave while their reads are in flight: nothing freed early, clean exit" {
    make_root
    head -c $((4 * 1024 * 1024)) /dev/urandom >"$ROOT/four.bin"
    start_server -q
    local i clients=()
    # Send a request and hang up at once: the read is in flight when the client is gone.
    for ((i = 0; i < 100; i++)); do
        timeout 5 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$0"
            printf "GET /four.bin HTTP/1.1\r\nHost: x\r\n\r\n" >&5' "$PORT" &
        clients+=($!)
    done
    # And some that read a little, slowly, then give up mid-file.
    for ((i = 0; i < 20; i++)); do
        CURL_TIME=0.5 http --limit-rate 1M -o /dev/null "$(url /four.bin)" 2>/dev/null 3>&- &
        clients+=($!)
    done
    wait "${clients[@]}" || true
    # The server lives on, serves the file whole, and exits 0 on SIGTERM with no
    # sanitizer report (stop_servers checks its log).
    run -0 http "$(url /four.bin)" -o "$BATS_TEST_TMPDIR/four"
    cmp "$ROOT/four.bin" "$BATS_TEST_TMPDIR/four"
    term_server
}

# An aio_read that glibc cannot start fails with EAGAIN (no helper thread to be had):
# tests/tools/faults.so makes the first one fail.
@test "an aio_read that cannot start gets 500, and the connection goes on as a fresh one" {
    make_root
    local faults="${EVLAB_TOOLS:-$BATS_TEST_DIRNAME/tools}/faults.so"
    [[ -f $faults ]] || { echo "tests/tools/faults.so is not built (tests/tools/build)"; false; }
    printf 'small file\n' >"$ROOT/small.txt"
    head -c $((1024 * 1024)) /dev/urandom >"$ROOT/big.bin"
    # Stage 5: a cache of 16 KiB takes small.txt, never big.bin.
    local flags=()
    ((STAGE != 5)) || flags=(-c 16384)
    FAULT_AIO_READ=1 FAULT_LOG="$BATS_TEST_TMPDIR/faults.log" SERVER_PRELOAD=$faults \
        start_server "${flags[@]}"
    # One connection: the failed small file, then a big one, then the small one again.
    run -0 http -w '%{http_code} %{num_connects}\n' -o /dev/null "$(url /small.txt)" \
        -o "$BATS_TEST_TMPDIR/big" "$(url /big.bin)" -o "$BATS_TEST_TMPDIR/small" "$(url /small.txt)"
    grep -q "faults: pid .* aio_read 1" "$BATS_TEST_TMPDIR/faults.log"
    [[ ${lines[0]} == "500 1" ]] || { echo "the failed read: $output"; false; }
    [[ ${lines[1]} == "200 0" && ${lines[2]} == "200 0" ]] || { echo "$output"; false; }
    cmp "$ROOT/big.bin" "$BATS_TEST_TMPDIR/big"
    cmp "$ROOT/small.txt" "$BATS_TEST_TMPDIR/small"
    # And again, now that stage 5 may answer from its cache.
    run -0 http -o "$BATS_TEST_TMPDIR/small2" "$(url /small.txt)"
    cmp "$ROOT/small.txt" "$BATS_TEST_TMPDIR/small2"
    term_server
}

# bats test_tags=nomemcheck
@test "a read that outlasts -t: the client is dropped at -t and the loop never waits for the disk" {
    make_src
    start_slowfs -d 3000 -m slow.txt "$SRC"
    start_server -t 1 -r "$MNT"
    # The slow file's read takes 3 s; at 1 s the server gives up on its client.
    CURL_TIME=10 http -o /dev/null -w '%{http_code}' "$(url /slow.txt)" >"$BATS_TEST_TMPDIR/slow" 2>&1 3>&- &
    local slow=$! start=$SECONDS
    sleep 1.5
    # The loop is free: a file on the same root, asked for while that read is still in
    # flight, comes at once (a loop that waited for the read would answer at about 3 s).
    run -0 http -w '%{time_total}' -o "$BATS_TEST_TMPDIR/fast" "$(url /fast.txt)"
    echo "/fast.txt took $output s, asked 1.5 s after /slow.txt, whose read takes 3 s"
    cmp "$SRC/fast.txt" "$BATS_TEST_TMPDIR/fast"
    awk -v t="$output" 'BEGIN { exit !(t < 1) }'
    # The slow client was dropped without an answer when its -t ran out.
    wait "$slow" || true
    echo "the slow client got: $(cat "$BATS_TEST_TMPDIR/slow")"
    [[ $(cat "$BATS_TEST_TMPDIR/slow") == *000 ]] || false
    ((SECONDS - start < 3)) || false
    # Once its read is done the server lets go of it (ASan and the descriptor count see
    # that), and goes on serving.
    sleep 2
    run -0 http "$(url /fast.txt)"
    [[ $output == "fast file" ]] || false
    term_server
}

# A read that outlives its connection still writes into that connection's buffer: were
# it freed and handed to the next client, the dead read's bytes would land in the next
# answer. A connection is closed under its read when its time runs out (-t 1 here, and
# the read takes 1.5 s).
@test "a connection closed under its slow read: the next answer is byte-exact, and the orphan is freed when the read ends" {
    make_src
    head -c $((16 * 1024)) /dev/urandom >"$SRC/slow.bin"
    head -c $((4 * 1024 * 1024)) /dev/urandom >"$SRC/next.bin"
    start_slowfs -d 1500 -m slow.bin "$SRC"
    start_server -q -t 1 -r "$MNT"
    # The first client asks for the slow file; -t cuts it while the read is under way.
    connect 5
    printf 'GET /slow.bin HTTP/1.1\r\nHost: x\r\n\r\n' >&5
    run -0 timeout 5 cat <&5
    exec 5>&-
    # The next one (likely given the same memory) reads slowly past the moment that read ends.
    run -0 http --limit-rate 2M -o "$BATS_TEST_TMPDIR/next" "$(url /next.bin)"
    cmp "$SRC/next.bin" "$BATS_TEST_TMPDIR/next"
    run -0 http -o /dev/null -w '%{http_code}' "$(url /next.bin)"
    [[ $output == 200 ]] || false
    # The orphaned read has finished (give a busy machine's slowfs 5 s more): its
    # connection is freed, its file closed.
    only_listening 2 || true
    local turn
    for ((turn = 0; turn < 50; turn++)); do
        run -0 bash -c 'ls -l "/proc/$0/fd" | grep -F "$1/" || true' "$SERVER_PID" "$MNT"
        [[ -n $output ]] || break
        sleep 0.1
    done
    [[ -z $output ]] || { echo "files the server still holds open, with no client left:"; echo "$output"; false; }
}

# The completion signal stays blocked except inside pselect(), which unblocks it and
# sleeps in one step. Left unblocked, a read that ends just before pselect runs its
# handler there, and pselect then sleeps through that wake-up (until -t, here 10 s).
# tests/tools/faults.so widens that window from microseconds to 20 ms, so a lost
# wake-up shows on every read, not once in a thousand.
@test "a read that ends just before pselect() is not a lost wake-up (the window widened to 20 ms)" {
    local faults="${EVLAB_TOOLS:-$BATS_TEST_DIRNAME/tools}/faults.so"
    [[ -f $faults ]] || { echo "tests/tools/faults.so is not built (tests/tools/build)"; false; }
    make_root
    head -c $((256 * 1024)) /dev/urandom >"$ROOT/chunks.bin" # 16 reads of 16 KiB
    FAULT_PSELECT_DELAY_MS=20 FAULT_LOG="$BATS_TEST_TMPDIR/faults.log" SERVER_PRELOAD=$faults \
        start_server -q -t 10
    SECONDS=0
    CURL_TIME=8 run -0 http -o "$BATS_TEST_TMPDIR/chunks" "$(url /chunks.bin)"
    echo "16 reads took $SECONDS s (each turn of the loop 20 ms longer)"
    cmp "$ROOT/chunks.bin" "$BATS_TEST_TMPDIR/chunks"
    grep -q 'faults: pid .* pselect 1' "$BATS_TEST_TMPDIR/faults.log"
}
