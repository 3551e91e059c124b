#!/usr/bin/env bats
# stages: 6
# The benchmark's tools: loadgen counts what it sees, the fork and thread servers
# clean up after their clients, and the harness runs end to end (SMOKE=1).

load test_helper

LOADGEN="$EVLAB_TREE/stage6-bench/loadgen"

# One loadgen run as CSV; sets ROW to its one data row; COL name gives a column of it.
loadgen_csv() {
    run -0 "$LOADGEN" -p "$PORT" -o csv "$@"
    HEADER=$(head -n 1 <<<"$output")
    ROW=$(tail -n 1 <<<"$output")
}
col() {
    local i
    i=$(tr ',' '\n' <<<"$HEADER" | grep -nx "$1" | cut -d: -f1)
    cut -d, -f"$i" <<<"$ROW"
}

@test "loadgen checks every response: right bytes pass, wrong bytes, statuses and refusals count" {
    SERVER_BIN=thread_server start_server -q
    printf 'the file\n' >"$ROOT/a.txt"
    loadgen_csv -c 4 -n 200 -V "$ROOT" /a.txt
    echo "$HEADER"$'\n'"$ROW"
    [[ $(col requests) == 200 && $(col errors) == 0 ]] || false
    # The same path checked against different bytes: every response is a bytes error.
    mkdir "$BATS_TEST_TMPDIR/other"
    printf 'not the file\n' >"$BATS_TEST_TMPDIR/other/a.txt"
    loadgen_csv -c 4 -n 200 -V "$BATS_TEST_TMPDIR/other" /a.txt
    [[ $(col requests) == 0 && $(col err_bytes) == 200 ]] || false
    loadgen_csv -c 2 -n 50 /missing.txt
    [[ $(col requests) == 0 && $(col err_status) == 50 ]] || false
    # Nobody listening: connect errors, counted, and loadgen still stops by itself.
    local port=$PORT
    stop_servers
    PORT=$port loadgen_csv -c 2 -d 0.5 /a.txt
    [[ $(col requests) == 0 && $(col err_connect) -gt 0 ]] || false
}

@test "loadgen counts one error per failed request, however many ways it failed" {
    command -v python3 >/dev/null || skip "python3 is needed for a server that answers badly"
    # A server that answers 500 with no Content-Length and closes: a wrong status and a
    # missing length, one request.
    python3 -c 'import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept(); c.recv(4096); c.sendall(b"HTTP/1.1 500 Oops\r\nConnection: close\r\n\r\noops"); c.close()' \
        >"$BATS_TEST_TMPDIR/port" 3>&- &
    local fake=$! i
    SERVER_PIDS+=("$fake")
    for ((i = 0; i < 50; i++)); do [[ -s $BATS_TEST_TMPDIR/port ]] && break; sleep 0.1; done
    PORT=$(cat "$BATS_TEST_TMPDIR/port") loadgen_csv -c 1 -n 5 /
    echo "$HEADER"$'\n'"$ROW"
    [[ $(col requests) == 0 && $(col errors) == 5 ]] || false
}

@test "loadgen -n sleeps while its last requests are out (no busy wait)" {
    make_src
    start_slowfs -d 1500 -m slow.txt "$SRC"
    SERVER_BIN=thread_server start_server -q -r "$MNT"
    # Two clients, a new connection each time: one waits 1.5 s for slow.txt, while the
    # other is done at once and has nothing left to do but wait.
    local cpu
    cpu=$( { TIMEFORMAT='%U %S'; time "$LOADGEN" -p "$PORT" -o csv -C -c 2 -n 2 /slow.txt /fast.txt >/dev/null; } 2>&1)
    echo "loadgen's CPU time, user and system: $cpu s"
    awk -v u="${cpu% *}" -v s="${cpu#* }" 'BEGIN { exit !(u + s < 0.5) }'
}

@test "loadgen -n stops after that many responses, -d after that long" {
    SERVER_BIN=thread_server start_server -q
    loadgen_csv -c 7 -n 1000 /index.html
    [[ $(col requests) == 1000 ]] || false
    loadgen_csv -c 7 -d 0.5 /index.html
    [[ $(col secs) == 0.5* && $(col requests) -gt 0 ]] || false
}

# (Not under valgrind: a server under it takes more than the second to accept them all.)
# bats test_tags=nomemcheck
@test "loadgen holds 900 idle clients beside 100 busy ones in one process" {
    ulimit -n 4096 || skip "cannot raise the descriptor limit (ulimit -n 4096)"
    SERVER_NOFILE=4096 SERVER_BIN=thread_server start_server -q
    loadgen_csv -c 100 -i 900 -d 1 -V "$ROOT" /index.html
    echo "$ROW"
    [[ $(col idle_held) == 900 && $(col errors) == 0 && $(col requests) -gt 100 ]] || false
}

@test "loadgen's slow clients send a byte at a time and are answered" {
    SERVER_BIN=thread_server start_server -q
    loadgen_csv -c 1 -s 2 -S 2 -d 1.5 /index.html
    echo "$ROW"
    # A request of about 70 bytes at a byte every 2 ms: a few per slow client, each slow.
    [[ $(col slow_requests) -ge 2 && $(col errors) == 0 ]] || false
    awk -v p="$(col slow_p99_ms)" 'BEGIN { exit !(p >= 100) }'
}

@test "usage errors exit 2 with a reason" {
    run -2 "$LOADGEN" -c -1 /x
    [[ $output == *"-c"* ]] || false
    run -2 "$LOADGEN" -p 1
    [[ $output == *"no PATH"* ]] || false
    run -2 "$LOADGEN" -p 1 nopath
    run -2 "$LOADGEN" -I 100 /x
}

@test "the fork server leaves no zombie behind" {
    SERVER_BIN=fork_server start_server -q
    loadgen_csv -c 5 -n 300 -C /index.html
    echo "$ROW"
    [[ $(col requests) == 300 ]] || false
    local i zombies
    for ((i = 0; i < 50; i++)); do
        zombies=$(ps --ppid "$SERVER_PID" -o stat= | grep -c '^Z' || true)
        ((zombies == 0)) && break
        sleep 0.1
    done
    echo "zombie children: $zombies; children: $(ps --ppid "$SERVER_PID" -o pid= | wc -l)"
    ((zombies == 0)) || false
}

@test "the thread server's threads go away with their clients" {
    SERVER_BIN=thread_server start_server -q
    loadgen_csv -c 50 -d 1 /index.html
    [[ $(col errors) == 0 ]] || false
    local i threads
    for ((i = 0; i < 50; i++)); do
        threads=$(awk '/^Threads:/ { print $2 }' "/proc/$SERVER_PID/status")
        ((threads == 1)) && break
        sleep 0.1
    done
    echo "threads after the load: $threads"
    ((threads == 1)) || false
}

# Stop server $1 (fork_server or thread_server) holding a kept-alive client between two
# requests, and another in the middle of sending one: it must exit 0 within about a
# second, every child process gone too, and not wait for -t (10 s).
stops_promptly() {
    SERVER_BIN=$1 start_server -q -t 10
    exec 5<>"/dev/tcp/127.0.0.1/$PORT" 6<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >&5
    run -0 timeout 5 head -n 1 <&5
    answer_is "HTTP/1.1 200 OK"
    printf 'GET / HTTP/1.1\r\nHo' >&6
    sleep 0.2
    local kids start=$SECONDS
    kids=$(ps --ppid "$SERVER_PID" -o pid= | tr -d ' ' | paste -sd ' ')
    echo "children before the stop: ${kids:-none}"
    term_server
    echo "exited after $((SECONDS - start)) s"
    ((SECONDS - start <= 2)) || false
    local kid
    for kid in $kids; do
        ! kill -0 "$kid" 2>/dev/null || { echo "child $kid outlived the server"; false; }
    done
    exec 5>&- 6>&-
}

@test "the fork server stops within a second, its children too, with clients connected" {
    stops_promptly fork_server
}

@test "the thread server stops within a second with clients connected" {
    stops_promptly thread_server
}

@test "the thread server out of descriptors (ulimit -n 64, 100 clients): answered or refused, no spinning, full recovery" {
    SERVER_BIN=thread_server out_of_descriptors 64 100
}

@test "the fork server with 100 clients under ulimit -n 64: answered or refused, full recovery" {
    SERVER_BIN=fork_server out_of_descriptors 64 100
}

@test "the fork server cuts a client dripping its head within -t (slowloris)" {
    SERVER_BIN=fork_server drip_is_cut
}

@test "the thread server cuts a client dripping its head within -t (slowloris)" {
    SERVER_BIN=thread_server drip_is_cut
}

@test "the fork server stops at once on a second SIGTERM, cutting an answer under way" {
    SERVER_BIN=fork_server second_term_cuts
}

@test "the thread server stops at once on a second SIGTERM, cutting an answer under way" {
    SERVER_BIN=thread_server second_term_cuts
}

@test "evict drops a file from the page cache" {
    command -v fincore >/dev/null || skip "fincore (util-linux) is not installed"
    head -c $((1024 * 1024)) /dev/urandom >"$BATS_TEST_TMPDIR/f"
    cat "$BATS_TEST_TMPDIR/f" >/dev/null
    run -0 fincore -nb -o RES "$BATS_TEST_TMPDIR/f"
    ((output > 0)) || skip "this file system keeps no page cache for the file"
    run -0 "$EVLAB_TREE/stage6-bench/evict" "$BATS_TEST_TMPDIR/f"
    run -0 fincore -nb -o RES "$BATS_TEST_TMPDIR/f"
    ((output == 0)) || false
}
