#!/usr/bin/env bats
# stages: 2 3 4 5 6:fork_server 6:thread_server 6:nginx_server
# suite: stress
# make stress: each server under loads that a grading test would be too slow for, a few
# minutes in all (never part of make test). Every run checks each response (loadgen: status,
# length, and the bytes themselves where the server serves files); a test fails on any lost
# or wrong response, a crash, or a descriptor still open after its clients have gone.
# The figures go to the TAP output as "# " lines. nginx (stage6-bench/nginx_server), when
# installed, takes the same tests as the reference each figure is read against.

load test_helper

setup() {
    if [[ ${SERVER_BIN:-} == nginx_server ]]; then
        command -v nginx >/dev/null || skip "nginx is not installed (apt-get install nginx-light): no reference figures"
        export NGINX_DIR=$BATS_TEST_TMPDIR/nginx
    fi
    make_root
    head -c 1000 /dev/urandom >"$ROOT/small.bin"
    head -c $((100 * 1024)) /dev/urandom >"$ROOT/medium.bin"
    LOADGEN=$EVLAB_TREE/stage6-bench/loadgen
    [[ -x $LOADGEN ]] || skip "stage6-bench/loadgen is not built (make)"
    # 1000 clients and the server's 1000 sockets: more than the usual 1024 descriptors.
    ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
    (($(ulimit -n) >= 4096)) || skip "needs 4096 descriptors (ulimit -n), the limit here is $(ulimit -n)"
    export SERVER_NOFILE=4096
}

# Report a figure: a "# " line in the TAP output, shown whether the test passes or not.
figure() {
    echo "# $STAGE${SERVER_BIN:+ $SERVER_BIN}: $*" >&3
}

# Run loadgen against the server with flags "$@" (stages 3 on check the bytes of the
# files); set REQUESTS, RPS, P99 (ms), ERRORS and ROW (the whole CSV row).
loadgen() {
    local verify=() paths=(/small.bin /medium.bin)
    ((STAGE < 3)) && paths=(/) || verify=(-V "$ROOT")
    ROW=$("$LOADGEN" -p "$PORT" -o csv -H -T 10 "${verify[@]}" "$@" "${paths[@]}")
    read_row
}

# Set REQUESTS, RPS, P99 and ERRORS from loadgen's CSV row $ROW.
read_row() {
    IFS=, read -r _ _ _ _ _ _ REQUESTS RPS _ _ _ _ P99 _ _ ERRORS _ <<<"$ROW"
}

# The number of descriptors the server (and, for the fork server, its children) holds;
# open_fds socket: of them, the sockets.
open_fds() {
    local n=0 p only=()
    [[ ${1:-} != socket ]] || only=(-lname 'socket:*')
    for p in "$SERVER_PID" $(pgrep -P "$SERVER_PID" || true); do
        n=$((n + $(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 "${only[@]}" 2>/dev/null | wc -l)))
    done
    echo "$n"
}

# After the clients have gone, the server is alive and back to $1 descriptors within
# ${2:-5} s.
settles_to() {
    local i n
    for ((i = 0; i < ${2:-5} * 10; i++)); do
        n=$(open_fds)
        ((n == $1)) && break
        sleep 0.1
    done
    kill -0 "$SERVER_PID" || { echo "the server died; its stderr:"; cat "$SERVER_LOG"; return 1; }
    figure "descriptors before $1, after $n"
    ((n == $1)) || { ls -l "/proc/$SERVER_PID/fd"; return 1; }
}

# nginx, the reference, is measured where its contract is not ours, and not judged by
# ours: after its figure, the test skips saying how it differs ($1).
reference_only() {
    [[ ${SERVER_BIN:-} != nginx_server ]] || skip "nginx, the reference: $1"
}

# Start the server (-t 30, or flags "$@") and take a first request: its descriptors once
# it is warm.
start_warm() {
    start_server -q -t 30 "$@"
    http -o /dev/null "$(url /)" || true
    BASE_FDS=$(open_fds)
}

@test "1000 concurrent clients, 20000 requests: every response right" {
    start_warm
    loadgen -c 1000 -n 20000
    figure "1000 clients: $REQUESTS responses, $RPS requests/s, p99 $P99 ms, $ERRORS errors"
    ((ERRORS == 0 && REQUESTS >= 20000)) || { echo "$ROW"; false; }
    settles_to "$BASE_FDS"
}

@test "900 idle connections beside 10 active clients: the active ones are served" {
    start_warm
    loadgen -c 10 -i 900 -d 3
    local held=${ROW##*,}
    figure "10 active beside $held idle: $RPS requests/s, p99 $P99 ms, $ERRORS errors"
    ((ERRORS == 0 && REQUESTS > 0 && held == 900)) || { echo "$ROW"; false; }
    settles_to "$BASE_FDS"
}

@test "a slow reader of a 64 MiB file beside 50 fast clients: both served whole" {
    ((STAGE >= 3)) || skip "stage $STAGE serves no files"
    head -c $((64 * 1024 * 1024)) /dev/urandom >"$ROOT/large.bin"
    start_warm
    CURL_TIME=60 http --limit-rate 16M -o "$BATS_TEST_TMPDIR/large" "$(url /large.bin)" 3>&- &
    local reader=$!
    loadgen -c 50 -d 3
    wait "$reader"
    figure "50 fast clients beside a 16 MB/s reader: $RPS requests/s, p99 $P99 ms, $ERRORS errors"
    ((ERRORS == 0 && REQUESTS > 0)) || { echo "$ROW"; false; }
    cmp "$ROOT/large.bin" "$BATS_TEST_TMPDIR/large"
    settles_to "$BASE_FDS"
}

@test "300 clients that reset their connection mid-response cost the server nothing" {
    local path=/ i
    if ((STAGE >= 3)); then
        head -c $((8 * 1024 * 1024)) /dev/urandom >"$ROOT/large.bin"
        path=/large.bin
    fi
    start_warm
    # Each client asks for 50 responses and closes after 20 ms with most of them unread:
    # the kernel answers the server's next bytes with a reset (RST).
    local req="GET $path HTTP/1.1\r\nHost: x\r\n\r\n" many=""
    for ((i = 0; i < 50; i++)); do many+=$req; done
    # (wait names its jobs: a bare wait would also wait for bats's own timer.)
    local clients=()
    for ((i = 0; i < 300; i++)); do
        timeout 5 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$0"; printf "%b" "$1" >&5
            read -r -t 0.02 -N 100 <&5; exit 0' "$PORT" "$many" 3>&- &
        clients+=($!)
        if ((${#clients[@]} == 30)); then
            wait "${clients[@]}"
            clients=()
        fi
    done
    loadgen -c 10 -n 1000
    figure "after 300 resets: $REQUESTS responses, $ERRORS errors"
    ((ERRORS == 0)) || { echo "$ROW"; false; }
    settles_to "$BASE_FDS"
}

@test "1000 SIGHUPs during a load: no response lost or wrong" {
    ((STAGE == 5)) || skip "only stage 5 has a cache for SIGHUP to empty"
    start_warm
    "$LOADGEN" -p "$PORT" -o csv -H -T 10 -V "$ROOT" -c 50 -d 6 /small.bin /medium.bin \
        >"$BATS_TEST_TMPDIR/row" 3>&- &
    local load=$! sent
    sent=$(pelt HUP "$SERVER_PID" "$load" 1000)
    wait "$load"
    ROW=$(cat "$BATS_TEST_TMPDIR/row")
    read_row
    figure "$sent SIGHUPs during the load: $REQUESTS responses, $RPS requests/s, p99 $P99 ms, $ERRORS errors"
    ((sent == 1000)) || false
    ((ERRORS == 0 && REQUESTS > 0)) || { echo "$ROW"; false; }
    settles_to "$BASE_FDS"
}

@test "a stop waits for a slow reader at most -t (10 s), then cuts its answer, logged" {
    truncate -s 200M "$ROOT/big.bin"
    start_server -t 10
    # 200 MiB at 64 KiB/s would take 53 minutes, and the reader keeps reading.
    CURL_TIME=60 http --limit-rate 64K -o /dev/null "$(url /big.bin)" 2>/dev/null 3>&- &
    local reader=$! start
    sleep 2
    start=$SECONDS
    term_server 30
    figure "exited $((SECONDS - start)) s after SIGTERM with a 64 KiB/s reader of 200 MiB (-t 10)"
    kill "$reader" 2>/dev/null || true # (the socket buffers alone hold a minute of it)
    wait "$reader" || true
    reference_only "its SIGTERM is a fast stop: answers under way are cut at once, and not logged"
    ((SECONDS - start <= 12)) || false
    ((STAGE < 3)) || grep -q '"GET /big.bin HTTP/1.1" 200 ' "$SERVER_LOG"
}

# Open $1 connections that each send a request line and then a header byte every 2 s,
# never ending the head (slowloris), for at most $2 seconds, in the background; sets
# DRIPPERS (its PID) and waits until they are all connected.
drippers() {
    # shellcheck disable=SC2016 # the inner script expands its own arguments
    timeout "$2" bash -c 'trap "" PIPE
        fds=()
        for ((i = 0; i < $0; i++)); do
            exec {fd}<>"/dev/tcp/127.0.0.1/$1" || continue
            printf "GET / HTTP/1.1\r\nHost: x\r\n" >&"$fd" 2>/dev/null
            fds+=("$fd")
        done
        : >"$2"
        while sleep 2; do
            for fd in "${fds[@]}"; do printf X >&"$fd" 2>/dev/null; done
        done' "$1" "$PORT" "$BATS_TEST_TMPDIR/connected" 2>/dev/null 3>&- &
    DRIPPERS=$!
    local i
    for ((i = 0; i < 200; i++)); do
        [[ -e $BATS_TEST_TMPDIR/connected ]] && break
        sleep 0.05
    done
}

# Tenths of a second since bash's clock read $1 (${EPOCHREALTIME/./}).
tenths_since() {
    local t=$((${EPOCHREALTIME/./} - $1))
    echo "$((t / 1000000)).$((t / 100000 % 10))"
}

@test "slowloris: 900 connections dripping a header byte every 2 s are cut -t (5 s) after their first byte; 10 clients beside are served" {
    start_warm -t 5
    local t0=${EPOCHREALTIME/./} held
    drippers 900 30
    held=$(($(open_fds socket) - 1))
    loadgen -c 10 -d 2
    settles_to "$BASE_FDS" 10
    figure "900 drippers (-t 5): $held connections held, all cut $(tenths_since "$t0") s after they began;" \
        "10 clients beside them meanwhile: $REQUESTS responses, p99 $P99 ms, $ERRORS errors"
    kill "$DRIPPERS" 2>/dev/null || true
    ((ERRORS == 0 && REQUESTS > 0)) || { echo "$ROW"; false; }
}

@test "slowloris past the limit: 1100 drippers; once -t (5 s) has cut them, every client is served again" {
    start_warm -t 5
    local t0=${EPOCHREALTIME/./} held during cut
    drippers 1100 30
    held=$(($(open_fds socket) - 1))
    loadgen -c 10 -d 1
    during="$REQUESTS responses, $ERRORS errors"
    settles_to "$BASE_FDS" 10
    cut=$(tenths_since "$t0")
    loadgen -c 10 -d 1
    figure "1100 drippers (-t 5): $held connections held; 10 clients meanwhile: $during;" \
        "all cut $cut s after they began; 10 clients then: $REQUESTS responses, $ERRORS errors"
    kill "$DRIPPERS" 2>/dev/null || true
    ((ERRORS == 0 && REQUESTS > 0)) || { echo "$ROW"; false; }
}

# Run out_of_descriptors $1 $2 and report its figures; nginx is not judged (no 503).
descriptors_run_out() {
    local status=0
    if [[ ${SERVER_BIN:-} == nginx_server ]]; then
        out_of_descriptors "$@" || status=$?
    else
        out_of_descriptors "$@"
    fi
    figure "$REPORT"
    reference_only "past its limit it answers no 503: those clients wait, or are closed unanswered"
    return "$status"
}

@test "out of descriptors under ulimit -n 64, 200 clients: answered or refused, no spinning, full recovery" {
    descriptors_run_out 64 200
}

@test "out of descriptors under the usual ulimit -n 1024, 1100 clients: the same" {
    descriptors_run_out 1024 1100
}

@test "a log nobody reads: 100 clients, 20000 requests, every one served; the lines lost are counted" {
    start_server_unread_log -t 30
    if [[ ${SERVER_BIN:-} == nginx_server ]]; then
        loadgen -c 100 -d 3
        figure "stderr a pipe never read, 100 clients for 3 s: $REQUESTS responses, $ERRORS errors"
        reference_only "it writes its access log with blocking write()s, and stops once the pipe is full"
    fi
    loadgen -c 100 -n 20000
    timeout 1 cat <&7 >/dev/null || true
    http -o /dev/null "$(url /?after)"
    local said
    said=$(timeout 1 cat <&7 | grep -o '[0-9]* log lines dropped' | head -n 1) || true
    figure "stderr a pipe never read: $REQUESTS responses, $RPS requests/s, p99 $P99 ms," \
        "$ERRORS errors; then the log said: ${said:-nothing of lines dropped}"
    exec 7<&-
    ((ERRORS == 0 && REQUESTS >= 20000)) || { echo "$ROW"; false; }
}

@test "stage 5's cache under attack: 20000 spellings of one file are one entry; 400 cold misses of a 1 MiB file stay near -c" {
    ((STAGE == 5)) || skip "only stage 5 has a cache"
    printf 'hello world!\n' >"$ROOT/x"
    head -c $((1024 * 1024)) /dev/urandom >"$ROOT/one.bin"
    start_warm -c $((2 * 1024 * 1024))
    local before after a b slashes dots='' base entries
    entries=$(stat_field "$(cache_stats)" entries) # start_warm's index.html
    before=$(vm "$SERVER_PID" VmRSS)
    base=$(url "")
    for ((b = 0; b < 200; b++)); do
        slashes=/
        for ((a = 0; a < 100; a++)); do
            printf 'url = "%s"\noutput = /dev/null\n' "$base$slashes${dots}x"
            slashes+=/
        done
        dots+=./
    done >"$BATS_TEST_TMPDIR/spellings"
    http --path-as-is -K "$BATS_TEST_TMPDIR/spellings"
    after=$(vm "$SERVER_PID" VmRSS)
    local line
    line=$(cache_stats)
    figure "20000 spellings of one 13-byte file: $line; RSS $before -> $after KiB"
    [[ $(stat_field "$line" entries) == $((entries + 1)) && $(stat_field "$line" misses) == 2 ]] || false
    before=$(vm "$SERVER_PID" VmRSS)
    ROW=$("$LOADGEN" -p "$PORT" -o csv -H -T 10 -V "$ROOT" -c 400 -n 400 /one.bin)
    read_row
    after=$(vm "$SERVER_PID" VmHWM)
    line=$(cache_stats)
    figure "400 clients at once for a 1 MiB file (-c 2 MiB): $REQUESTS responses, $ERRORS errors;" \
        "peak RSS $before -> $after KiB; $line"
    ((ERRORS == 0 && REQUESTS == 400)) || { echo "$ROW"; false; }
    # The connections' buffers (some 30 KiB each) and one load: not 400 loads.
    ((after - before < 64 * 1024)) || false
    settles_to "$BASE_FDS"
}
