# test_helper.bash - loaded by every .bats file: start and stop a stage's
# server, and talk to it with curl or with raw bytes.
#
#   start_server -t 1           the server of stage $STAGE on 127.0.0.1, port 0;
#                               sets PORT, SERVER_PID and SERVER_LOG
#   raw "GET / HTTP/1.0\r\n\r\n"   send bytes (printf %b escapes), print the answer
#   stop_servers                (teardown does it) TERM, then KILL, every server started
#   start_slowfs -d 200 SRC     mount tests/tools/slowfs over SRC at $MNT (or skip)
#
# Every test is bounded by BATS_TEST_TIMEOUT.  Servers start with fd 3 closed,
# or bats would wait for them before reporting.

bats_require_minimum_version 1.5.0
[[ -z ${MEMCHECK:-} ]] || : "${BATS_TEST_TIMEOUT:=120}" # valgrind: ~10 times slower
: "${BATS_TEST_TIMEOUT:=30}"
: "${EVLAB_TREE:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"

# Run by hand (bats tests/stage5.bats) rather than by tests/run (make test): take the
# stage from the file when it tests only one, or say what to set; build what is missing.
if [[ -z ${STAGE:-} ]]; then
    evlab_stages=$(sed -n 's/^# stages: *//p' "$BATS_TEST_FILENAME" | head -n 1)
    evlab_file=${BATS_TEST_FILENAME##*/}
    case $evlab_stages in
    tools) STAGE=0 ;;
    [1-6]) STAGE=$evlab_stages ;;
    *)
        echo "tests/$evlab_file tests more than one stage (# stages: $evlab_stages): say which," \
            "e.g. STAGE=${evlab_stages:0:1} bats tests/$evlab_file, or make test STAGE=${evlab_stages:0:1} FILE=${evlab_file%.bats}" \
            "(a program of stage 6: STAGE=6 SERVER_BIN=epoll_server)" >&2
        exit 1
        ;;
    esac
    export STAGE
    if [[ -z ${EVLAB_TOOLS:-} ]]; then
        "$BATS_TEST_DIRNAME/tools/build"
        ((STAGE == 0)) || make -s -C "$(echo "$EVLAB_TREE"/stage"$STAGE"-*)" >&2 ||
            { echo "stage $STAGE does not build (make -C $(echo "$EVLAB_TREE"/stage"$STAGE"-*))" >&2 && exit 1; }
    fi
    unset evlab_stages evlab_file
fi
: "${EVLAB_TOOLS:=$BATS_TEST_DIRNAME/tools}"
export EVLAB_TOOLS

SERVER_PIDS=()
SLOWFS_MOUNTS=()

# The folder of stage $STAGE in the tree under test.
stage_dir() {
    local d
    for d in "$EVLAB_TREE"/stage"$STAGE"-*/; do
        echo "${d%/}"
        return 0
    done
    return 1
}

# The server program under test: the stage's server, or $SERVER_BIN (e.g. fork_server).
server_bin() {
    echo "$(stage_dir)/${SERVER_BIN:-server}"
}

# A document root for file-serving stages, with an index.html: "$BATS_TEST_TMPDIR/root".
make_root() {
    ROOT="$BATS_TEST_TMPDIR/root"
    mkdir -p "$ROOT"
    [[ -e $ROOT/index.html ]] || printf '<!doctype html><title>t</title><p>index\n' >"$ROOT/index.html"
}

# Start the stage's server (or SERVER_BIN, e.g. fork_server) with extra flags "$@";
# wait for its "listening on" line.
# From stage 3 on it serves make_root's folder unless "$@" names a root (-r).
# SERVER_NOFILE=N raises its descriptor limit first; SERVER_AS_NOBODY=1 runs it as
# user nobody when the tests run as root (for whom file permissions do not apply);
# SERVER_PREFIX="strace -f ..." runs it under another command (SERVER_PID is that one's);
# MEMCHECK=1 under valgrind, or the command in $VALGRIND (same PID).
# SHORTIO=path/shortio.so (tests/run's short-I/O run) preloads the shim into the server;
# SERVER_PRELOAD=lib.so preloads another (tests/tools/faults.so).
start_server() {
    local bin args=("$@")
    bin=$(server_bin)
    if [[ ! -x $bin && ${SERVER_BIN:-} == uring_server ]] && ! pkg-config --exists liburing 2>/dev/null; then
        skip "io_uring: uring_server is not built without liburing (apt-get install liburing-dev)"
    fi
    [[ -x $bin ]] || { echo "no server binary: $bin (run make)" >&2; return 1; }
    if ((STAGE >= 3)) && [[ " $* " != *" -r "* ]]; then
        make_root
        args+=(-r "$ROOT")
    fi
    SERVER_LOG="$BATS_TEST_TMPDIR/server${#SERVER_PIDS[@]}.log"
    : >"$SERVER_LOG" # before the server's shell opens it: the loop below may read it first
    local as=() vglog=
    read -ra as <<<"${SERVER_PREFIX:-}"
    if [[ -n ${SERVER_AS_NOBODY:-} && $(id -u) == 0 ]]; then
        as+=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    fi
    if [[ -n ${MEMCHECK:-} ]]; then
        # make memcheck: valgrind reports into a file of its own, which stop_servers reads.
        # User nobody cannot create it in the test's folder: it gets one opened for it.
        local kinds=definite,indirect vg=() log=--log-file="$SERVER_LOG.valgrind"
        read -ra vg <<<"${VALGRIND:-valgrind}"
        if [[ ${as[*]} == *setpriv* ]]; then
            vglog=$SERVER_LOG.valgrind log=--log-fd=9
        fi
        as+=("${vg[@]}" -q --leak-check=full --show-leak-kinds="$kinds"
            --errors-for-leak-kinds="$kinds" "$log")
    fi
    (
        [[ -z ${SERVER_NOFILE:-} ]] || ulimit -n "$SERVER_NOFILE"
        [[ -z $vglog ]] || exec 9>"$vglog"
        local preload=${SERVER_PRELOAD:-}
        if [[ -n ${SHORTIO:-} ]]; then
            preload+=" $SHORTIO"
            export SHORTIO_LOG=$BATS_TEST_TMPDIR/shortio.log SHORTIO_TRACE=$BATS_TEST_TMPDIR/shortio.trace
        fi
        if [[ -n ${preload// /} ]]; then
            # ASan wants to be the first library loaded; a shim in front of it is harmless.
            export LD_PRELOAD=${preload# }
            export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
        fi
        run_watched "${as[@]}" "$bin" -a "${ADDR:-127.0.0.1}" -p 0 "${args[@]}"
    ) 2>"$SERVER_LOG" 3>&- &
    watched_pid "$!"
    # tests/run stops whatever a test killed before its teardown left running.
    [[ -z ${EVLAB_PIDFILE:-} ]] || echo "$SERVER_PID" >>"$EVLAB_PIDFILE"
    local i
    for ((i = 0; i < 100; i++)); do
        PORT=$(sed -n '1s/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$SERVER_LOG")
        [[ -n $PORT ]] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [[ -n ${MEMCHECK:-} ]] && grep -q 'unhandled .* syscall: 437$' "$SERVER_LOG.valgrind" 2>/dev/null; then
        skip "$(${VALGRIND:-valgrind} --version) does not know openat2 (syscall 437), which keeps this server inside its root; give a newer one in VALGRIND (3.24 knows it)"
    fi
    if [[ ${SERVER_BIN:-} == uring_server ]] && grep -q 'io_uring_queue_init' "$SERVER_LOG"; then
        skip "io_uring is not available here: $(grep -m 1 io_uring_queue_init "$SERVER_LOG")"
    fi
    echo "server did not start; its stderr:" >&2
    cat "$SERVER_LOG" >&2
    return 1
}

# Run "$@" (the server, from start_server's subshell, with its stderr the log) watched by
# this subshell, which waits for it and records how it ended in .exit.PID; it says the
# server's PID first, in .pid.$BASHPID. bash would tell a signal's death itself, with the
# lines of this file around it: that is stop_servers' to say, first and in words.
run_watched() {
    trap - ERR DEBUG
    "$@" &
    local pid=$! status=0
    echo "$pid" >"$BATS_TEST_TMPDIR/.pid.$BASHPID"
    exec 2>/dev/null
    wait "$pid" || status=$?
    echo "$status" >"$BATS_TEST_TMPDIR/.exit.$pid"
}

# After starting run_watched in the background as job $1: set SERVER_PID to the server's
# PID (not the watcher's) and keep it in SERVER_PIDS (and tests/run's EVLAB_PIDFILE).
watched_pid() {
    local f=$BATS_TEST_TMPDIR/.pid.$1 i
    for ((i = 0; i < 500; i++)); do
        [[ -s $f ]] && break
        sleep 0.01
    done
    SERVER_PID=$(cat "$f")
    SERVER_PIDS+=("$SERVER_PID")
    echo "${SERVER_LOG:-}" >"$BATS_TEST_TMPDIR/.log.$SERVER_PID"
}

# How process $1 (started by start_server) ended: "" while it runs, else its exit status
# (128 + N: signal N).
exit_status() {
    cat "$BATS_TEST_TMPDIR/.exit.$1" 2>/dev/null || true
}

# Wait up to $2 seconds for server $1 to have exited (its exit status recorded).
exited_within() {
    local i
    for ((i = 0; i < $2 * 50; i++)); do
        [[ -n $(exit_status "$1") ]] && return 0
        sleep 0.02
    done
    [[ -n $(exit_status "$1") ]]
}

# Exit status $1 in words: "exit status 1", or "killed by SIGSEGV (signal 11)".
status_words() {
    if (($1 > 128)); then
        echo "killed by SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo "?") (signal $(($1 - 128)))"
    else
        echo "exit status $1"
    fi
}

# Give process $1 (told to stop) 5 s to exit, then kill it; reap it either way.
await_exit() {
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# Say first (tests/run and tests/grade put "!! " lines right under the test's name) that
# server $1 died by a signal while the test ran: how, and the last request and answer.
report_crash() {
    local pid=$1 log
    log=$(cat "$BATS_TEST_TMPDIR/.log.$pid" 2>/dev/null || true)
    {
        echo "The server (${2:-the server}, PID $pid) crashed during this test: $(status_words "$(exit_status "$pid")")."
        if [[ -f $BATS_TEST_TMPDIR/.sent ]]; then
            echo "The last request before the crash, and what came back:"
            report_exchange | sed 's/^/  /'
        fi
        if [[ -s $log ]]; then
            echo "The end of its stderr ($log):"
            tail -n 5 "$log" | cut -c 1-200 | sed 's/^/  /'
        fi
    } | sed 's/^/!! /'
    touch "$BATS_TEST_TMPDIR/.reported"
}

# Stop every server this test started (by PID) and fail on a crash, or on a sanitizer or
# valgrind report.
stop_servers() {
    local pid log status=0 code
    for pid in "${SERVER_PIDS[@]}"; do
        if kill -TERM "$pid" 2>/dev/null; then
            await_exit "$pid"
            continue
        fi
        # Gone before we asked: by a signal, that is a crash (an exit status is the
        # test's to judge: bad flags, a port in use).
        code=$(exit_status "$pid")
        if [[ -n $code ]] && ((code > 128)); then
            report_crash "$pid" "$(server_bin | sed "s|^$EVLAB_TREE/||")"
            status=1
        fi
    done
    SERVER_PIDS=()
    for log in "$BATS_TEST_TMPDIR"/server*.log; do
        [[ -f $log ]] || continue
        if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
            echo "sanitizer report in $log:" >&2
            cat "$log" >&2
            status=1
        fi
        # valgrind -q writes "==PID== " lines only for what it found (and its warnings).
        if grep -E '^==[0-9]+== ' "$log.valgrind" 2>/dev/null | grep -qv '^==[0-9]*== Warning:'; then
            echo "valgrind report in $log.valgrind:" >&2
            cat "$log.valgrind" >&2
            status=1
        fi
    done
    return "$status"
}

# After start_server failed on ::1: skip if this machine has no IPv6 loopback, else fail.
skip_without_ipv6() {
    if grep -qE 'Cannot assign requested address|Address family not supported' "$SERVER_LOG"; then
        skip "no IPv6 loopback (::1) on this machine"
    fi
    return 1
}

# Send SIGTERM to the server and wait up to ${1:-10} s for it to exit 0; show its log if not.
term_server() {
    local status
    if ! kill -TERM "$SERVER_PID" 2>/dev/null; then
        echo "the server had already exited before this SIGTERM ($(status_words "$(exit_status "$SERVER_PID")")); its stderr:"
        cat "$SERVER_LOG"
        return 1
    fi
    if ! exited_within "$SERVER_PID" "${1:-10}"; then
        echo "the server had not exited ${1:-10} s after SIGTERM; its stderr:"
        cat "$SERVER_LOG"
        return 1
    fi
    status=$(exit_status "$SERVER_PID")
    if ((status != 0)); then
        echo "the server exited after SIGTERM with $(status_words "$status"), not 0; its stderr:"
        cat "$SERVER_LOG"
        return 1
    fi
}

# Mount slowfs (tests/tools/slowfs.c) with flags "${@:1:$#-1}" over the folder "${!#}";
# sets MNT. Skips, naming what is missing, where FUSE cannot be used.
start_slowfs() {
    local bin="${EVLAB_TOOLS:-$BATS_TEST_DIRNAME/tools}/slowfs" i
    [[ -e /dev/fuse ]] || skip "FUSE: /dev/fuse is missing on this machine"
    [[ -x $bin ]] || skip "FUSE: tests/tools/slowfs is not built (it needs libfuse3-dev: apt-get install libfuse3-dev fuse3)"
    command -v fusermount3 >/dev/null || skip "FUSE: fusermount3 is missing (apt-get install fuse3)"
    MNT="$BATS_TEST_TMPDIR/mnt${#SLOWFS_MOUNTS[@]}"
    mkdir -p "$MNT"
    "$bin" "$@" "$MNT" 2>"$MNT.log" 3>&- &
    local pid=$!
    SLOWFS_MOUNTS+=("$pid:$MNT")
    [[ -z ${EVLAB_PIDFILE:-} ]] || echo "$pid $MNT" >>"$EVLAB_PIDFILE"
    for ((i = 0; i < 100; i++)); do
        [[ $(stat -c %d "$MNT") != $(stat -c %d "$BATS_TEST_TMPDIR") ]] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    skip "FUSE: slowfs could not mount here: $(head -c 300 "$MNT.log")"
}

# A folder for slowfs to mirror, "$BATS_TEST_TMPDIR/src" (SRC), holding slow.txt and fast.txt.
make_src() {
    SRC="$BATS_TEST_TMPDIR/src"
    mkdir -p "$SRC"
    printf 'slow file\n' >"$SRC/slow.txt"
    printf 'fast file\n' >"$SRC/fast.txt"
}

# Unmount every slowfs this test mounted (after its servers have let go of the files).
stop_slowfs() {
    local m pid mnt
    for m in "${SLOWFS_MOUNTS[@]}"; do
        pid=${m%%:*} mnt=${m#*:}
        fusermount3 -u "$mnt" || fusermount3 -uz "$mnt" || true
        await_exit "$pid"
    done
    SLOWFS_MOUNTS=()
}

# Process $1's number of threads ("threads"), of io_uring's kernel workers ("iou":
# tasks the kernel runs inside the process for its submitted calls, iou-wrk-PID, which
# run no code of ours), or of child processes ("children").
tasks() {
    if [[ $2 == threads || $2 == iou ]]; then
        local comm
        comm=$(cat /proc/"$1"/task/*/comm 2>/dev/null) || true # (a thread may just end)
        [[ $2 == iou ]] || comm=$(grep -v '^iou-' <<<"$comm") || true
        [[ $2 == threads ]] || comm=$(grep '^iou-' <<<"$comm") || true
        [[ -z $comm ]] && echo 0 || wc -l <<<"$comm"
    else
        local kids=() t
        for t in /proc/"$1"/task/*/children; do
            { read -ra t <"$t"; } 2>/dev/null || continue # a thread that just ended
            kids+=("${t[@]}")
        done
        echo "${#kids[@]}"
    fi
}

# Send signal $1 to process $2 every 2 ms while process $3 runs, at most ${4:-} times;
# print how many were sent.
pelt() {
    local sent=0 tick
    # read -t on a pipe that nobody writes to sleeps without starting a process.
    exec {tick}<> <(:)
    while kill -0 "$3" 2>/dev/null && [[ -z ${4:-} || $sent -lt $4 ]]; do
        kill -"$1" "$2"
        sent=$((sent + 1))
        read -r -t 0.002 -u "$tick" || true
    done
    exec {tick}>&-
    echo "$sent"
}

# How many sockets the server has open, its listening one included.
sockets() {
    find "/proc/$SERVER_PID/fd" -lname 'socket:*' 2>/dev/null | wc -l
}

# Start the server (flags "$@"; stage 3 on, make_root's folder) with its stderr a pipe the
# test reads the first line of ("listening on"), then leaves unread on descriptor 7: once
# it is full (64 KiB, some 900 log lines), a write() to it would wait for ever.
start_server_unread_log() {
    local fifo="$BATS_TEST_TMPDIR/stderr" args=("$@") line
    mkfifo "$fifo"
    ((STAGE < 3)) || { make_root && args+=(-r "$ROOT"); }
    (run_watched "$(server_bin)" -a 127.0.0.1 -p 0 "${args[@]}") 2>"$fifo" 3>&- &
    local job=$!
    exec 7<"$fifo"
    SERVER_LOG="" watched_pid "$job"
    read -r -t 5 line <&7
    PORT=${line##*:}
}

# Stage 5: send SIGUSR1 and print the cache stats line it makes (waits for it: no traffic needed).
cache_stats() {
    local before i
    before=$(grep -c '^cache: ' "$SERVER_LOG" || true)
    kill -USR1 "$SERVER_PID"
    for ((i = 0; i < 100; i++)); do
        (($(grep -c '^cache: ' "$SERVER_LOG" || true) > before)) && break
        sleep 0.02
    done
    grep '^cache: ' "$SERVER_LOG" | tail -n 1
}

# One field of a stats line: stat_field "$line" hits
stat_field() {
    sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"
}

# Wait up to $1 seconds for the server to hold no socket but its listening one; set WAITED
# to how long that took ("1.2 s"). Fails if it still holds more.
only_listening() {
    local i
    for ((i = 0; i < $1 * 10; i++)); do
        (($(sockets) == 1)) && break
        sleep 0.1
    done
    # shellcheck disable=SC2034 # for the caller
    WAITED="$((i / 10)).$((i % 10)) s"
    (($(sockets) == 1))
}

# CPU time the server has used so far, in clock ticks (utime + stime).
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"
}

# Run the server under ulimit -n $1 and connect $2 clients, each sending a request: every
# one must be answered, 200 or (past the limit) 503, while the server, full, sleeps; once
# they go, it lets go of their descriptors, serves 20 new clients, and stops on SIGTERM.
# Sets REPORT to the figures.
out_of_descriptors() {
    local limit=$1 clients=$2 fds=() fd i answer served=0 refused=0 before after
    ulimit -n $((clients + 100)) || skip "cannot raise the descriptor limit (ulimit -n $((clients + 100)))"
    SERVER_NOFILE=$limit start_server -q -t 30
    trap '' PIPE # a refused client's socket is closed: writing to it must not kill the test
    for ((i = 0; i < clients; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
        fds+=("$fd")
        { printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >&"$fd"; } 2>/dev/null || true
    done
    for fd in "${fds[@]}"; do
        answer=
        # (bash's read -t waits in select(), which cannot watch a descriptor past 1023)
        if ((fd < 1024)); then
            read -r -t 5 -N 12 -u "$fd" answer || true
        else
            answer=$(timeout 5 head -c 12 <&"$fd") || true
        fi
        case $answer in
        "HTTP/1.1 200") served=$((served + 1)) ;;
        "HTTP/1.1 503") refused=$((refused + 1)) ;;
        esac
    done
    # Holding its clients and out of descriptors, the server sleeps (10 ticks: 0.1 s).
    before=$(cpu_ticks)
    sleep 1
    after=$(cpu_ticks)
    # shellcheck disable=SC2034 # for the caller
    REPORT="ulimit -n $limit, $clients clients: $served answered 200, $refused refused with 503,"
    REPORT+=" $((clients - served - refused)) nothing;"
    REPORT+=" CPU over 1 s while full: $((after - before)) ticks"
    echo "$REPORT"
    ((served >= limit / 2 && served + refused == clients)) || false
    ((after - before <= 10)) || false
    for fd in "${fds[@]}"; do exec {fd}>&-; done
    only_listening 5 || true
    echo "sockets once they have gone: $(sockets)"
    REPORT+="; sockets left once they had gone: $(sockets)"
    local args=()
    for ((i = 0; i < 20; i++)); do args+=(-o /dev/null "$(url /)"); done
    local codes
    codes=$(http --parallel --parallel-max 20 -w '%{http_code}\n' "${args[@]}")
    [[ $(grep -c '^200$' <<<"$codes") == 20 ]] || { echo "$codes" | sort | uniq -c; false; }
    term_server 2
}

# Run "${@:3}" every 50 ms until it succeeds, for at most $2 seconds. If it never does,
# say what was awaited ($1), for how long, and what the command said last, and fail.
wait_until() {
    local what=$1 secs=$2 out deadline
    shift 2
    deadline=$((${EPOCHREALTIME/./} + secs * 1000000))
    until out=$("$@" 2>&1); do
        if ((${EPOCHREALTIME/./} > deadline)); then
            echo "waited $secs s for $what; it did not come. Last seen: ${out:-nothing}"
            return 1
        fi
        sleep 0.05
    done
}

# The bytes queued on the connection to the server's port (the one client there):
# "UNSENT UNREAD", the server's bytes not yet taken by the client's socket and the
# client's not yet read (/proc/net/tcp's tx_queue and rx_queue, in hex).
queues() {
    local tx rx
    # (awk finds the lines: other tests' connections may make the tables long.)
    read -r tx rx < <(awk -v port=":$(printf '%04X' "$PORT")" '
        $4 == "01" && substr($2, length($2) - 4) == port { split($5, q, ":"); tx = q[1] }
        $4 == "01" && substr($3, length($3) - 4) == port { split($5, q, ":"); rx = q[2] }
        END { print (tx == "" ? 0 : tx), (rx == "" ? 0 : rx) }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
    echo "$((16#${tx:-0})) $((16#${rx:-0}))"
}

# Is the server stuck writing to its one client? The client's socket is full (bytes
# unread, none added over 100 ms) and the server's holds bytes it cannot send, no more
# than before: the server is not writing, because it cannot. Says the queues.
write_stalled() {
    local before after
    before=$(queues)
    sleep 0.1
    after=$(queues)
    echo "unsent by the server, unread by the client: $after bytes (100 ms before: $before)"
    [[ ${after#* } == "${before#* }" && ${after#* } -gt 0 && ${after% *} -gt 0 && ${after% *} -le ${before% *} ]]
}

# Open a connection to the server on descriptor $1 (bash /dev/tcp).
connect() {
    eval "exec $1<>/dev/tcp/127.0.0.1/$PORT"
}

# Under -t 1, a client that drips a header byte every 0.2 s is cut within about -t of its
# head's first byte (slowloris).  (A slow reader stays: files.bats.)
drip_is_cut() {
    start_server -t 1
    connect 5
    trap '' PIPE
    local i rc start=$SECONDS
    printf 'GET / HTTP/1.1\r\nHost: x\r\n' >&5
    # Each byte is a sign of life, but the head never ends.
    for ((i = 0; i < 25; i++)); do
        { printf 'X' >&5; } 2>/dev/null || break
        rc=0
        read -r -t 0.2 -N 1 -u 5 _ || rc=$?
        ((rc > 128)) || break # not a timeout: the server closed the connection
    done
    echo "the dripping client was cut after $((SECONDS - start)) s (-t 1; it dripped for up to 5 s)"
    ((SECONDS - start <= 3)) || false
    exec 5>&-
}

# A first SIGTERM waits (up to -t 30) for the answer under way to a client that sends
# requests and reads nothing; a second one cuts it: the server exits 0 within a second,
# and (stage 3 on, a 64 MiB file) its log shows the cut answer.
second_term_cuts() {
    local request=$'GET / HTTP/1.1\r\nHost: x\r\n\r'
    if ((STAGE >= 3)); then
        make_root
        truncate -s 64M "$ROOT/big.bin"
        request=$'GET /big.bin HTTP/1.1\r\nHost: x\r\n\r'
    fi
    start_server -t 30
    connect 5
    # Once the client's socket and the server's are full, the server waits to write.
    (yes "$request" | timeout 20 cat >&5) 2>/dev/null 3>&- &
    local writer=$!
    wait_until "the server to be stuck writing an answer (its socket full: the client reads nothing)" 10 \
        write_stalled
    kill -TERM "$SERVER_PID"
    # (A stop that does not come is a wait for a state that must not come: half a second.)
    sleep 0.5
    if [[ -n $(exit_status "$SERVER_PID") ]]; then
        echo "the first SIGTERM stopped the server ($(status_words "$(exit_status "$SERVER_PID")")) while an answer was"
        echo "under way (the server's socket held $(queues | cut -d ' ' -f 1) unsent bytes): it must finish it first"
        false
    fi
    local start=$EPOCHREALTIME took
    term_server
    took=$(((${EPOCHREALTIME/./} - ${start/./}) / 1000))
    echo "exited $took ms after the second SIGTERM"
    # At once; 2 s leaves room for a busy machine.
    ((took <= 2000)) || false
    exec 5>&-
    kill "$writer" 2>/dev/null || true
    if ((STAGE >= 3)); then
        grep '/big.bin' "$SERVER_LOG" | tail -n 1
        grep -q '"GET /big.bin HTTP/1.1" 200 ' "$SERVER_LOG"
    fi
}

# VmRSS or VmHWM (its peak) of process $1, in KiB.
vm() {
    awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}

# Run "${@:2}" while looking at process $1 every 10 ms; print the most threads and the
# most child processes it had, "THREADS CHILDREN". Fails if the command fails.
peak_tasks() {
    local pid=$1 job t c most_t=0 most_c=0
    shift
    "$@" 3>&- &
    job=$!
    while kill -0 "$job" 2>/dev/null; do
        t=$(tasks "$pid" threads) c=$(tasks "$pid" children)
        ((t > most_t)) && most_t=$t
        ((c > most_c)) && most_c=$c
        sleep 0.01
    done
    wait "$job" || return
    echo "$most_t $most_c"
}

# Under the short-I/O shim, a failed test says what the shim did: the socket lines of
# SHORTIO_TRACE that show a short write whose rest never followed, else the last few.
explain_shortio() {
    [[ -n ${SHORTIO:-} && -z ${BATS_TEST_COMPLETED:-} ]] || return 0
    local most=${SHORTIO_MAX:-7} one_in=${SHORTIO_EINTR:-8} trace=$BATS_TEST_TMPDIR/shortio.trace
    echo "This test ran with the server under tests/tools/shortio.so: each read() and write() on a"
    echo "socket moved 1 to $most bytes, and about 1 call in $one_in failed with EINTR, as the kernel may do."
    echo "A server that passes without the shim and fails here"
    echo "takes a short write for a whole one (keep the count, send the rest),"
    echo "a short read for a whole request, or EINTR for an error (retry the call)."
    echo "What the shim saw, socket by socket, as each was closed:"
    if [[ ! -s $trace ]]; then
        echo "  (no socket was closed)"
    elif grep -q 'never sent' "$trace"; then
        grep 'never sent' "$trace" | tail -n 3 | sed 's/^shortio: /  /'
    else
        tail -n 3 "$trace" | sed 's/^shortio: /  /'
    fi
}

# shellcheck disable=SC2120 # callers may pass a line count; today's take the default
# Bytes for a person to read: \r, \t and other control bytes escaped, each line ending in
# its \n, at most ${1:-5} lines of at most 160 bytes; then how many bytes there were.
escaped() {
    local f=$BATS_TEST_TMPDIR/.escaped max=${1:-5} n newlines
    cat >"$f"
    n=$(wc -c <"$f") newlines=$(wc -l <"$f")
    if ((n == 0)); then
        echo "nothing (0 bytes)"
        return
    fi
    LC_ALL=C head -n "$max" "$f" | LC_ALL=C sed -e 's/\\/\\\\/g' -e 's/\r/\\r/g' -e 's/\t/\\t/g' \
        -e 's/[^[:print:]]/?/g' -e 's/^\(.\{160\}\).*/\1.../' -e 's/$/\\n/' >"$f.out"
    # The bytes may stop mid-line: then the last line shown has no \n.
    if ((newlines < max)) && [[ $(tail -c 1 "$f" | od -An -tx1 | tr -d ' ') != 0a ]]; then
        sed -i '$ s/\\n$/ (the bytes end here, mid-line)/' "$f.out"
    fi
    cat "$f.out"
    [[ -z $(tail -c 1 "$f.out") ]] || echo # sed keeps a missing last newline missing
    ((newlines < max)) || echo "..."
    echo "($n bytes in all)"
}

# Record what a request sends ($1, as the test wrote it), for the report of a failing test.
note_sent() {
    local what=$1
    ((${#what} <= 300)) || what="${what:0:300}... (${#what} characters)"
    printf '%s\n' "$what" >"$BATS_TEST_TMPDIR/.sent"
}

# What was sent and what came back ($1, or the last request's own bytes), indented.
report_exchange() {
    [[ -f $BATS_TEST_TMPDIR/.sent ]] || return 0
    echo "sent:     $(cat "$BATS_TEST_TMPDIR/.sent")"
    if (($# > 0)); then printf '%s' "$1"; else cat "$BATS_TEST_TMPDIR/.got" 2>/dev/null; fi |
        escaped | sed '1s/^/got:      /; 2,$s/^/          /'
}

# run's $output begins with $1 (e.g. answer_is "HTTP/1.1 200 OK"). When it does not, say
# what was sent, what came back and what was expected, in that order.
answer_is() {
    # shellcheck disable=SC2154 # bats's run sets $output
    [[ $output == "$1"* ]] && return 0
    report_exchange "$output"
    echo "expected: an answer beginning \"$1\""
    touch "$BATS_TEST_TMPDIR/.reported"
    return 1
}

# A failed test that did not say so itself reports its last request and what came back.
report_failure() {
    [[ -z ${BATS_TEST_COMPLETED:-} && ! -e $BATS_TEST_TMPDIR/.reported ]] || return 0
    [[ -f $BATS_TEST_TMPDIR/.sent ]] || return 0
    echo "The last request before the failure:"
    report_exchange
}

# Every test ends here (a file with a teardown of its own calls evlab_teardown from it).
evlab_teardown() {
    local status=0
    stop_servers || status=1
    stop_slowfs
    report_failure
    explain_shortio
    return "$status"
}

teardown() {
    evlab_teardown
}

# Send the bytes "$1" (printf %b escapes) to the server and print all it sends back
# until it closes the connection; give up after ${2:-5} seconds.
raw() {
    note_sent "$1"
    # shellcheck disable=SC2016 # the inner script expands its own arguments
    timeout "${2:-5}" bash -c 'exec 5<>"/dev/tcp/$0/$1" || exit 1
        printf "%b" "$2" >&5
        cat <&5' "${ADDR:-127.0.0.1}" "$PORT" "$1" | tee "$BATS_TEST_TMPDIR/.got"
    return "${PIPESTATUS[0]}"
}

# curl with a bound on time, quiet but showing errors.
http() {
    local a what=curl
    for a in "$@"; do
        ((${#a} <= 60)) || a="${a:0:40}...(${#a} characters)"
        what+=" $a"
    done
    note_sent "$what"
    curl -sS --no-progress-meter --max-time "${CURL_TIME:-10}" "$@" | tee "$BATS_TEST_TMPDIR/.got"
    return "${PIPESTATUS[0]}"
}

# Read one response from descriptor $1 (its head, then Content-Length bytes of body) and
# print its status line; fail if none came within 5 s.
read_answer() {
    local fd=$1 line status len=0
    IFS= read -r -t 5 status <&"$fd" || return 1
    while IFS= read -r -t 5 line <&"$fd"; do
        line=${line%$'\r'}
        [[ -n $line ]] || break
        [[ ${line,,} != content-length:* ]] || len=${line#*: }
    done
    ((len == 0)) || head -c "$len" <&"$fd" >/dev/null
    echo "${status%$'\r'}"
}

# URL of a path on the server under test.
url() {
    echo "http://127.0.0.1:$PORT${1:-/}"
}

# The value of header $1 in the response head given on stdin ("" if absent).
header() {
    tr -d '\r' | sed -n "s/^$1: *//Ip" | head -n 1
}

# The response that starts at byte $2 of file $1, as "STATUS LINE|OFFSET|HEAD BYTES|CONTENT-LENGTH".
response_at() {
    local head
    head=$(tail -c +"$(($2 + 1))" "$1" | LC_ALL=C sed -n '1,/^\r\{0,1\}$/p')
    # $(...) dropped the last newline of the head: add it back to the count.
    printf '%s|%s|%s|%s\n' "$(head -n 1 <<<"$head" | tr -d '\r')" "$2" \
        "$(LC_ALL=C; echo $((${#head} + 1)))" "$(header Content-Length <<<"$head")"
}

# Where the response after response_at's answer $1 starts: "body" if it had one, "nobody" if not (HEAD).
next_response() {
    local status off hlen clen
    IFS='|' read -r status off hlen clen <<<"$1"
    if [[ $2 == body ]]; then echo $((off + hlen + clen)); else echo $((off + hlen)); fi
}

# Everything after the head, of the response given on stdin.
body() {
    sed '1,/^\r\{0,1\}$/d'
}
