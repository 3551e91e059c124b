#!/usr/bin/env bats
# stages: 2 3 4 5 6:epoll_server 6:uring_server
# shortio: yes
# The select() event loop: many clients at once, keep-alive, pipelining,
# timeouts, running out of descriptors, and a graceful stop.
# The load tests carry the tag visibility:after_published: on Gradescope (make grade),
# their output, the grading machine's own figures, shows once grades are published.

load test_helper

@test "200 concurrent clients are all answered correctly" {
    start_server -q
    local args=() i base
    base=$(url /)
    for ((i = 0; i < 200; i++)); do args+=(-o /dev/null "$base?client=$i"); done
    run -0 --separate-stderr http --parallel --parallel-immediate --parallel-max 200 \
        -w '%{http_code} %{size_download} %{num_connects}\n' "${args[@]}"
    [[ $(grep -c '^200 [1-9][0-9]* 1$' <<<"$output") == 200 ]] || { echo "$output" | sort | uniq -c; false; }
}

@test "a silent client does not delay another client's answer" {
    start_server
    connect 5
    # Stage 1 would make this wait -t (10) seconds.
    CURL_TIME=1 run -0 http -i "$(url /)"
    answer_is "HTTP/1.1 200 OK"
    exec 5>&-
}

@test "a request sent one byte at a time is answered" {
    start_server
    run -0 timeout 10 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$0"
        req=$'"'"'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'"'"'
        for ((i = 0; i < ${#req}; i++)); do printf "%s" "${req:i:1}" >&5; sleep 0.01; done
        cat <&5' "$PORT"
    answer_is "HTTP/1.1 200 OK"
}

@test "three pipelined requests are answered in order" {
    start_server
    # GET (1.1, a body), HEAD (no body), GET as 1.0: its default is to close after.
    raw 'GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.0\r\n\r\n' \
        >"$BATS_TEST_TMPDIR/out"
    local first second third
    first=$(response_at "$BATS_TEST_TMPDIR/out" 0)
    [[ $first == "HTTP/1.1 200 OK"* ]] || false
    second=$(response_at "$BATS_TEST_TMPDIR/out" "$(next_response "$first" body)")
    [[ $second == "HTTP/1.1 200 OK"* ]] || false
    third=$(response_at "$BATS_TEST_TMPDIR/out" "$(next_response "$second" nobody)")
    [[ $third == "HTTP/1.0 200 OK"* ]] || false
    # And nothing after the third answer's body.
    [[ $(next_response "$third" body) == $(wc -c <"$BATS_TEST_TMPDIR/out") ]] || false
}

@test "two sequential requests share one kept-alive connection" {
    start_server
    run -0 http -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' "$(url /)" "$(url "/?again")"
    [[ ${lines[0]} == "200 1" && ${lines[1]} == "200 0" ]] || false
}

@test "Connection: close is honoured" {
    start_server
    run -0 raw 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' 3
    answer_is "HTTP/1.1 200 OK"
    [[ $(header Connection <<<"$output") == close ]] || false
}

@test "HTTP/1.0 closes by default and stays open with Connection: keep-alive" {
    start_server
    run -0 raw 'GET / HTTP/1.0\r\n\r\n' 3
    [[ $(header Connection <<<"$output") == close ]] || false
    # With keep-alive the server waits for another request: raw times out (124).
    run -124 raw 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' 0.5
    answer_is "HTTP/1.0 200 OK"
    [[ $(header Connection <<<"$output") == keep-alive ]] || false
}

@test "-t 1 closes an idle connection, before and after a request" {
    start_server -t 1
    # At the same time: a client kept alive after its answer, then idle, is closed too
    # (raw fails unless the server closes it within 5 s).
    raw 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' 5 >"$BATS_TEST_TMPDIR/kept" &
    local kept=$!
    connect 5
    run -0 timeout 5 cat <&5
    [[ -z $output ]] || false
    exec 5>&-
    wait "$kept" || { echo "the kept-alive client was not closed"; false; }
    [[ $(<"$BATS_TEST_TMPDIR/kept") == "HTTP/1.1 200 OK"* ]] || false
}

# (epoll_server and uring_server have no FD_SETSIZE: tests/thousands.bats holds 2000.)
# bats test_tags=visibility:after_published,not-epoll_server,not-uring_server
@test "1100 simultaneous connections: the excess is refused and the server goes on" {
    ulimit -n 4096 || skip "cannot raise the descriptor limit (ulimit -n 4096)"
    SERVER_NOFILE=4096 start_server -q -t 60 # this test is slow to set up: keep the first clients
    local fds=() fd i refused
    for ((i = 0; i < 1100; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
        fds+=("$fd")
    done
    # The server answers a connection it cannot watch with 503 and closes it; the others
    # it holds, silent. The last clients are among the refused: once the very last has its
    # answer (give it 5 s), the server has seen them all. (bash's read -t uses select(),
    # which cannot look past descriptor 1023: dd reads without waiting instead.)
    local answers=() answer
    for ((i = 0; i < 50; i++)); do
        answer=$(dd iflag=nonblock bs=64 count=1 status=none <&"${fds[-1]}" 2>/dev/null || true)
        [[ -n $answer ]] && break
        sleep 0.1
    done
    answers+=("$answer")
    for fd in "${fds[@]: -3:2}"; do
        answers+=("$(dd iflag=nonblock bs=64 count=1 status=none <&"$fd" 2>/dev/null || true)")
    done
    local which=("connection 1100" "connection 1098" "connection 1099") k
    for k in "${!answers[@]}"; do
        answer=${answers[k]}
        [[ $answer == "HTTP/1.1 503 Service Unavailable"* ]] && continue
        echo "sent:     nothing: ${which[k]} was opened and left silent"
        printf '%s' "$answer" | escaped | sed '1s/^/got:      /; 2,$s/^/          /'
        [[ -n $answer ]] || echo "          (in 5 s: no answer, and the connection still open)"
        echo "expected: an answer beginning \"HTTP/1.1 503 Service Unavailable\" (the server"
        echo "          cannot watch a descriptor at or past FD_SETSIZE, 1024: it refuses it)"
        false
    done
    # A client socket the server has closed is in CLOSE_WAIT (state 08 in /proc/net/tcp,
    # whose ports are hex).
    refused=$(awk -v port="$(printf '%04X' "$PORT")" '$3 ~ ":" port "$" && $4 == "08"' /proc/net/tcp | wc -l)
    echo "connections the server closed: $refused"
    ((refused >= 1 && refused <= 200)) || false
    # A connection it holds is served normally...
    printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&"${fds[0]}"
    run -0 timeout 5 head -n 1 <&"${fds[0]}"
    answer_is "HTTP/1.1 200 OK"
    # ...and once they all go, new clients are served.
    for fd in "${fds[@]}"; do exec {fd}>&-; done
    # (a client may get a 503 until the server has seen them go: give it 5 s)
    for ((i = 0; i < 50; i++)); do
        run http -i "$(url /)"
        [[ $output == "HTTP/1.1 200 OK"* ]] && break
        sleep 0.1
    done
    answer_is "HTTP/1.1 200 OK"
    kill -0 "$SERVER_PID"
}

# (Not under the short-I/O shim: 700 responses a few bytes per write() take too long.)
# bats test_tags=noshim,visibility:after_published
@test "700 clients in the middle of their responses are all served: files do not crowd out sockets" {
    ulimit -n 4096 || skip "cannot raise the descriptor limit (ulimit -n 4096)"
    local path=/
    if ((STAGE >= 3)); then
        # Far more than the socket buffers hold: each response keeps its file open.
        make_root
        truncate -s 64M "$ROOT/big.bin"
        path=/big.bin
    fi
    # The usual limits of a desktop (soft 1024, hard higher): the server itself makes
    # room above FD_SETSIZE for its files, as far as the hard limit allows.
    ulimit -S -n 1024
    start_server -q -t 60
    local fds=() fd i answer served=0 refused=0
    trap '' PIPE # a refused client's socket is closed: writing to it must not kill the test
    for ((i = 0; i < 700; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
        fds+=("$fd")
        { printf 'GET %s HTTP/1.1\r\nHost: x\r\n\r\n' "$path" >&"$fd"; } 2>/dev/null || true # refused: closed
    done
    # select() takes sockets below FD_SETSIZE (1024) only; a file never goes to select(),
    # so with room above it (the limit is 4096) a file must not take a number below it.
    for fd in "${fds[@]}"; do
        answer=
        read -r -t 5 -N 12 -u "$fd" answer || true
        case $answer in
        "HTTP/1.1 200") served=$((served + 1)) ;;
        "HTTP/1.1 503") refused=$((refused + 1)) ;;
        esac
    done
    for fd in "${fds[@]}"; do exec {fd}>&-; done
    echo "of 700 clients: $served answered 200, $refused refused with 503"
    ((served == 700)) || false
}

# Start the server with -t 10 and a client on descriptor 5 that has its answer (the
# server closes after it) but keeps the connection open.
answered_client() {
    start_server -t 10
    connect 5
    printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&5
    run -0 timeout 5 head -n 1 <&5
    answer_is "HTTP/1.1 200 OK"
}

@test "a client that has its answer but never closes is let go after about a second, not -t" {
    answered_client
    # The server has shut down its side and waits for the client's end (so that closing
    # cannot reset the connection under the answer), but only for about a second.
    local status=0
    only_listening 3 || status=$?
    echo "the server's sockets after $WAITED: $(sockets) (the listening one and the client's)"
    ((status == 0)) || false
    exec 5>&-
}

@test "SIGTERM with a client that has its answer but has not closed: the server exits at once" {
    answered_client
    # Nothing is in flight: a stop must not wait for this client (nor for -t).
    local start=$SECONDS
    term_server
    echo "exited after $((SECONDS - start)) s"
    ((SECONDS - start <= 2)) || false
    exec 5>&-
}

# bats test_tags=visibility:after_published
@test "out of descriptors (ulimit -n 64, 100 clients): answered or refused, no spinning, full recovery" {
    out_of_descriptors 64 100
}

# (Not under the short-I/O shim: 1100 answers a few bytes per write() take too long.)
# bats test_tags=noshim,visibility:after_published
@test "out of descriptors at the usual default (ulimit -n 1024, 1100 clients): the same" {
    out_of_descriptors 1024 1100
}

@test "-t bounds a whole request head from its first byte: a client dripping bytes is cut (slowloris)" {
    drip_is_cut
}

@test "a client that resets mid-request costs the server nothing but that connection" {
    start_server
    # Leave the first answer unread and a second request half sent, then close: the
    # client's kernel answers the server's data with a reset.
    timeout 5 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$0"
        printf "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HT" >&5; sleep 0.3; exec 5>&-' "$PORT"
    timeout 5 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$0"; printf "GET / HTTP/1.1\r\nHo" >&5' "$PORT"
    run -0 http -i "$(url /)"
    answer_is "HTTP/1.1 200 OK"
    kill -0 "$SERVER_PID"
}

@test "SIGTERM with connections open: the server exits 0" {
    start_server
    connect 5
    connect 6
    printf 'GET / HTTP/1.1\r\nHo' >&6
    connect 7
    printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >&7
    sleep 0.2
    term_server 5
    # The answer already under way was delivered whole.
    run -0 timeout 2 cat <&7
    answer_is "HTTP/1.1 200 OK"
    exec 5>&- 6>&- 7>&-
}

@test "SIGTERM reaches a server that is never idle (a client pipelining without pause)" {
    start_server -t 30
    connect 5
    # Requests without pause, answers read as they come: some socket is ready on every
    # turn, so pselect() never waits (under the short-I/O shim not for a moment).
    (yes $'GET / HTTP/1.1\r\nHost: x\r\n\r' | timeout 20 cat >&5) 2>/dev/null 3>&- &
    local writer=$!
    timeout 20 cat <&5 >/dev/null 3>&- &
    local reader=$!
    sleep 1
    local start=$SECONDS
    term_server
    echo "exited $((SECONDS - start)) s after SIGTERM"
    ((SECONDS - start <= 3)) || false
    exec 5>&-
    kill "$writer" "$reader" 2>/dev/null || true
}

# (Not under the short-I/O shim: a few bytes per write() never fill the client's socket.)
# bats test_tags=noshim
@test "a second SIGTERM stops the server at once, with a client that never reads its answers" {
    second_term_cuts
}

# (Not under the short-I/O shim: it counts threads, which the shim neither starts nor stops;
# nor under valgrind, whose threads are its own.)
# bats test_tags=noshim,nomemcheck
@test "one thread runs the loop: no child process, and other threads only glibc's aio helpers, gone when idle" {
    local path=/
    if ((STAGE >= 3)); then
        make_root
        # Over stage 5's cache entry cap (1 MiB), so that every request reads the disk.
        head -c $((2 * 1024 * 1024)) /dev/urandom >"$ROOT/two.bin"
        path=/two.bin
    fi
    start_server -q
    local args=() i base
    base=$(url "$path")
    for ((i = 0; i < 40; i++)); do args+=(-o /dev/null "$base"); done
    run -0 peak_tasks "$SERVER_PID" http --parallel --parallel-immediate --parallel-max 40 -f "${args[@]}"
    local threads=${output% *} children=${output#* }
    echo "during 40 downloads: $threads threads at most, $children child processes"
    ((children == 0)) || false
    if [[ ${SERVER_BIN:-} == uring_server ]]; then
        # The kernel's io-wq workers wait for the opens and reads in its stead; they are
        # not threads of ours (tasks leaves them out), and one stays for the next call.
        echo "io_uring's kernel workers now: $(tasks "$SERVER_PID" iou)"
    fi
    if ((STAGE != 4 && STAGE != 5)); then
        ((threads == 1)) || false
    else
        # glibc runs each aio_read() on a helper thread of its own: at most 20 of them
        # at work (struct aioinit's default aio_threads), each ending after 1 s without
        # work (aio_idle_time). Ones that have just given up may still be exiting while
        # new ones start (26 seen on a busy machine), so allow some: still far fewer than
        # the 41 a thread per client would make.
        ((threads <= 30)) || false
        for ((i = 0; i < 40; i++)); do
            (($(tasks "$SERVER_PID" threads) == 1)) && break
            sleep 0.1
        done
        echo "threads 4 s after the load: $(tasks "$SERVER_PID" threads)"
        (($(tasks "$SERVER_PID" threads) == 1)) || false
    fi
}

@test "SIGTERM to an idle server: it exits 0 within a second, no traffic needed to wake it" {
    start_server
    connect 5
    sleep 0.3
    # Nothing to do and no -t running out soon (10 s): select() waits for ever, unless the
    # signal interrupts it.
    local start=$EPOCHREALTIME
    term_server 5
    local took=$(((${EPOCHREALTIME//[!0-9]/} - ${start//[!0-9]/}) / 1000))
    echo "exited after $took ms"
    ((took < 1000)) || false
    exec 5>&-
}

# (Not under the short-I/O shim: an idle server makes no socket calls for it to cut.)
# bats test_tags=noshim
@test "an idle server sleeps: under 5% of a CPU over a second" {
    start_server
    connect 5
    connect 6
    sleep 0.2
    local before after
    before=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
    sleep 1
    after=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
    # Clock ticks (usually 100 a second): a loop that spins would use about 100.
    echo "CPU ticks used: $((after - before))"
    ((after - before <= 5)) || false
    exec 5>&- 6>&-
}

@test "-t 2 runs from the last byte moved, not from accept: a client asking once a second keeps its connection, a silent one is let go" {
    trap '' PIPE # a write to a connection the server closed fails, and says so
    start_server -t 2
    connect 5
    local turn start took
    # Five requests a second apart on one connection: 4 s, more than -t, never silent for -t.
    for ((turn = 0; turn < 5; turn++)); do
        ((turn == 0)) || sleep 1
        printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >&5 2>/dev/null ||
            { echo "request $((turn + 1)): the server had closed the connection, $turn s after it opened"; false; }
        run -0 read_answer 5
        [[ $output == "HTTP/1.1 200 OK" ]] || { echo "request $((turn + 1)), $turn s after connecting: $output"; false; }
    done
    # Then silence, from the last answer: the server closes the connection about -t later
    # (2 s; not before 1, and 5 leaves room for a busy machine).
    start=$EPOCHREALTIME
    run -0 timeout 8 cat <&5
    took=$(((${EPOCHREALTIME/./} - ${start/./}) / 1000))
    echo "closed $took ms into the silence (-t 2)"
    ((took >= 1000 && took <= 5000)) || false
    exec 5>&-
}
