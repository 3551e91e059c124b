#!/usr/bin/env bats
# stages: 3 4 5 6:fork_server 6:thread_server 6:epoll_server 6:uring_server
# shortio: yes
# Serving files: byte-exact, streamed in bounded memory, and never from outside the root.

load test_helper

setup() {
    make_root
    printf 'TOP SECRET\n' >"$BATS_TEST_TMPDIR/secret.txt"
    printf 'hello, file\n' >"$ROOT/hello.txt"
    mkdir -p "$ROOT/sub" "$ROOT/empty"
    printf '<p>sub index\n' >"$ROOT/sub/index.html"
}

teardown() {
    [[ -z ${PUBLIC_DIR:-} ]] || rm -rf "$PUBLIC_DIR"
    evlab_teardown
}

@test "files are served byte-exact, small and large (20 MiB; 128 KiB under the short-I/O shim), many at once" {
    local big=$((20 * 1024 * 1024))
    # A few bytes per write() serve some 400 KB/s: 20 MiB would take a minute.
    [[ -z ${SHORTIO:-} ]] || big=$((128 * 1024))
    head -c "$big" /dev/urandom >"$ROOT/big.bin"
    head -c 3000 /dev/urandom >"$ROOT/small.bin"
    start_server -q
    local args=() i
    for ((i = 0; i < 8; i++)); do args+=(-o "$BATS_TEST_TMPDIR/big$i" "$(url /big.bin)"); done
    for ((i = 0; i < 24; i++)); do args+=(-o "$BATS_TEST_TMPDIR/small$i" "$(url /small.bin)"); done
    CURL_TIME=120 run -0 http --parallel --parallel-immediate --parallel-max 32 -f "${args[@]}"
    for ((i = 0; i < 8; i++)); do cmp "$ROOT/big.bin" "$BATS_TEST_TMPDIR/big$i"; done
    for ((i = 0; i < 24; i++)); do cmp "$ROOT/small.bin" "$BATS_TEST_TMPDIR/small$i"; done
}

@test "an empty file is served with Content-Length 0" {
    : >"$ROOT/empty.txt"
    start_server
    run -0 http -i "$(url /empty.txt)"
    answer_is "HTTP/1.1 200 OK"
    [[ $(header Content-Length <<<"$output") == 0 ]] || false
}

# bats test_tags=points:3
@test "traversal attempts get 400 and never a byte from outside the root" {
    start_server
    local target expect
    while read -r expect target; do
        run -0 raw "GET $target HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        answer_is "HTTP/1.1 $expect " || { echo "(target: $target)"; false; }
        [[ $output != *"TOP SECRET"* && $output != *root:* ]] || { echo "$target leaked"; false; }
    done <<'TARGETS'
400 /../secret.txt
400 /..
400 /%2e%2e/secret.txt
400 /%2E%2E/secret.txt
400 /..%2fsecret.txt
400 /%2e%2e%2fsecret.txt
400 /sub/../../secret.txt
400 /sub/%2e%2e/%2e%2e/secret.txt
400 /../../../../../../etc/passwd
400 /hello.txt%00
400 /%00/../secret.txt
400 /%zz
400 /%2
400 http://127.0.0.1/../secret.txt
200 http://127.0.0.1/hello.txt
400 http://127.0.0.1/%2e%2e/secret.txt
400 http://user@127.0.0.1/../secret.txt
400 *
404 //etc/passwd
404 /etc/passwd
404 ///..secret.txt
TARGETS
}

# bats test_tags=points:2
@test "a symlink pointing outside the root gets 403; one pointing inside is served" {
    ln -s ../secret.txt "$ROOT/outside"
    ln -s /etc/passwd "$ROOT/absolute"
    ln -s .. "$ROOT/up"
    ln -s hello.txt "$ROOT/inside"
    ln -s sub "$ROOT/subdir"
    start_server
    local target
    for target in /outside /absolute /up/secret.txt /up/root/hello.txt; do
        run -0 http -i "$(url "$target")"
        answer_is "HTTP/1.1 403 Forbidden" || { echo "(target: $target)"; false; }
        [[ $output != *"TOP SECRET"* && $output != *root:* ]] || false
    done
    run -0 http "$(url /inside)"
    [[ $output == "hello, file" ]] || false
    run -0 http "$(url /subdir/)"
    [[ $output == "<p>sub index" ]] || false
}

@test "a FIFO in the root gets 403 at once, and the server goes on" {
    mkfifo "$ROOT/fifo"
    start_server
    CURL_TIME=3 run -0 http -i "$(url /fifo)"
    answer_is "HTTP/1.1 403 Forbidden"
    run -0 http "$(url /hello.txt)"
    [[ $output == "hello, file" ]] || false
}

@test "an unreadable file gets 403" {
    # Permissions do not bind root, so as root the server runs as nobody, from a
    # folder nobody can enter.
    PUBLIC_DIR=$(mktemp -d)
    chmod 755 "$PUBLIC_DIR"
    printf 'x\n' >"$PUBLIC_DIR/locked.txt"
    printf 'y\n' >"$PUBLIC_DIR/open.txt"
    chmod 000 "$PUBLIC_DIR/locked.txt"
    chmod 644 "$PUBLIC_DIR/open.txt"
    if [[ -n ${SHORTIO:-} ]]; then
        # nobody may not reach the shim inside this tree (a clone in a 0700 folder)
        cp "$SHORTIO" "$PUBLIC_DIR/shortio.so"
        SHORTIO=$PUBLIC_DIR/shortio.so
    fi
    SERVER_AS_NOBODY=1 start_server -r "$PUBLIC_DIR" ||
        skip "cannot run the server as user nobody (setpriv, or a tree nobody can read)"
    run -0 http -i "$(url /locked.txt)"
    answer_is "HTTP/1.1 403 Forbidden"
    run -0 http "$(url /open.txt)"
    [[ $output == y ]] || false
}

@test "a missing file gets 404 with a short text body" {
    start_server
    run -0 http -i "$(url /no/such/file.txt)"
    answer_is "HTTP/1.1 404 Not Found"
    [[ $(body <<<"$output") == "404 Not Found" ]] || false
    # and the connection stays usable: 404 is not a reason to close
    [[ $(header Connection <<<"$output") == keep-alive ]] || false
}

@test "a directory serves its index.html, or 403 without one" {
    start_server
    run -0 http -i "$(url /sub/)"
    answer_is "HTTP/1.1 200 OK"
    [[ $(header Content-Type <<<"$output") == text/html ]] || false
    [[ $(body <<<"$output") == "<p>sub index" ]] || false
    run -0 http "$(url /)"
    [[ $output == *index* ]] || false
    run -0 http -i "$(url /empty/)"
    answer_is "HTTP/1.1 403 Forbidden"
}

@test "a folder named without its slash gets 301 to the same path with one, query kept" {
    start_server
    run -0 http -i "$(url /sub)"
    answer_is "HTTP/1.1 301 Moved Permanently"
    [[ $(header Location <<<"$output") == /sub/ ]] || false
    run -0 http -i "$(url '/sub?a=1&b')"
    [[ $(header Location <<<"$output") == "/sub/?a=1&b" ]] || false
    # A page's relative links then resolve in its folder: curl -L follows to the index.
    run -0 http -L "$(url /sub)"
    [[ $output == "<p>sub index" ]] || false
    # HEAD: the same head, no body; and the connection goes on (one connection for both).
    run -0 http -I -w '%{num_connects}\n' "$(url /empty)" "$(url /hello.txt)"
    [[ $output == "HTTP/1.1 301 "* && $(tail -n 1 <<<"$output") == 0 ]] || { echo "$output"; false; }
}

@test "a folder's index.html may be a symlink within the root" {
    mkdir -p "$ROOT/docs"
    ln -s ../index.html "$ROOT/docs/index.html"
    start_server
    run -0 http -i "$(url /docs/)"
    answer_is "HTTP/1.1 200 OK"
    [[ $(body <<<"$output") == "$(cat "$ROOT/index.html")" ]] || false
    # One that leads out of the root is still refused.
    mkdir -p "$ROOT/out"
    ln -s ../../secret.txt "$ROOT/out/index.html"
    run -0 http -i "$(url /out/)"
    answer_is "HTTP/1.1 403 Forbidden"
}

@test "a UNIX socket in the root gets 403, like a FIFO" {
    command -v python3 >/dev/null || skip "python3 is needed to make a UNIX socket"
    python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$ROOT/sock"
    start_server
    run -0 http -i "$(url /sock)"
    answer_is "HTTP/1.1 403 Forbidden"
}

@test "files are found through valid escapes: %20, %2e and %2E, UTF-8 (%C3%A9), a needless %61" {
    start_server
    printf 'spaced\n' >"$ROOT/a b.txt"
    printf 'dotted\n' >"$ROOT/x.y.txt"
    printf 'accented\n' >"$ROOT/café.txt"
    printf 'plain\n' >"$ROOT/a.txt"
    local target want
    while read -r target want; do
        run -0 raw "GET $target HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        answer_is "HTTP/1.1 200 OK" || { echo "(target: $target)"; false; }
        [[ $(body <<<"$output") == "$want" ]] || { echo "$target: $(body <<<"$output")"; false; }
    done <<'TARGETS'
/a%20b.txt spaced
/x%2ey.txt dotted
/x%2Ey.txt dotted
/caf%C3%A9.txt accented
/caf%c3%a9.txt accented
/%61.txt plain
/sub%2Findex.html <p>sub index
TARGETS
}

# A descriptor lost per request is a server that stops, some thousands of requests on.
@test "200 requests for folders and 200 for files leave the server with the descriptors it had" {
    start_server -q
    local before args=() k
    run -0 http -o /dev/null "$(url /hello.txt)"
    only_listening 2 || true
    before=$(ls "/proc/$SERVER_PID/fd" | wc -l)
    for ((k = 0; k < 200; k++)); do args+=(-o /dev/null "$(url /sub/)" -o /dev/null "$(url /hello.txt)"); done
    run -0 http "${args[@]}"
    only_listening 5 || true
    run -0 ls -l "/proc/$SERVER_PID/fd"
    [[ $(wc -l <<<"$output") -le $((before + 1)) ]] || { echo "before: $before descriptors; now:"; echo "$output"; false; }
}

# bats test_tags=noshim
@test "a slow reader whose socket is full costs the server no CPU: it waits for select(), not in a loop" {
    head -c $((16 * 1024 * 1024)) /dev/urandom >"$ROOT/big.bin"
    start_server -q
    # Ask for 16 MiB and read nothing: the socket buffers fill, and the server must wait.
    connect 5
    printf 'GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n' >&5
    sleep 1
    local before after
    before=$(cpu_ticks)
    sleep 2
    after=$(cpu_ticks)
    echo "the server used $((after - before)) ticks of CPU (1/100 s each) in 2 s with the socket full"
    ((after - before <= 20)) || false
    exec 5>&-
}

@test "HEAD of a file gives its length and no body" {
    head -c 123457 /dev/urandom >"$ROOT/blob.bin"
    start_server
    raw 'HEAD /blob.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$BATS_TEST_TMPDIR/head"
    run -0 cat "$BATS_TEST_TMPDIR/head"
    answer_is "HTTP/1.1 200 OK"
    [[ $(header Content-Length <<<"$output") == 123457 ]] || false
    [[ $(tail -c 4 "$BATS_TEST_TMPDIR/head" | od -An -tx1 | tr -d ' \n') == 0d0a0d0a ]] || false
}

@test "Content-Type follows the extension; the query string is ignored" {
    local types='html text/html
txt text/plain
css text/css
js text/javascript
json application/json
png image/png
jpg image/jpeg
jpeg image/jpeg
gif image/gif
svg image/svg+xml
pdf application/pdf
bin application/octet-stream' ext type
    while read -r ext type; do printf 'x' >"$ROOT/f.$ext"; done <<<"$types"
    printf 'x' >"$ROOT/noext"
    start_server
    while read -r ext type; do
        run -0 http -o /dev/null -w '%{content_type}' "$(url "/f.$ext?v=1&x=../..")"
        [[ $output == "$type" ]] || { echo "$ext: $output"; false; }
    done <<<"$types"
    run -0 http -o /dev/null -w '%{content_type}' "$(url /noext)"
    [[ $output == application/octet-stream ]] || false
}

# (Not under the short-I/O shim: at a few bytes per write(), 100 MiB would take minutes.)
# bats test_tags=noshim
@test "memory stays bounded (under 8 MiB of growth) while a 100 MiB file goes to a slow reader" {
    truncate -s 100M "$ROOT/huge.bin"
    start_server -q
    http -o /dev/null "$(url /hello.txt)"
    local before peak
    before=$(vm "$SERVER_PID" VmRSS)
    # About 2 s at 50 MB/s: the socket is full most of the time, the file is not in memory.
    CURL_TIME=60 http --limit-rate 50M -o "$BATS_TEST_TMPDIR/huge" "$(url /huge.bin)" 3>&- &
    local reader=$!
    sleep 1
    # A client that reads slowly stalls nobody else.
    CURL_TIME=2 run -0 http "$(url /hello.txt)"
    [[ $output == "hello, file" ]] || false
    wait "$reader"
    [[ $(stat -c %s "$BATS_TEST_TMPDIR/huge") == $((100 * 1024 * 1024)) ]] || false
    peak=$(vm "$SERVER_PID" VmHWM)
    echo "RSS before: $before KiB, peak: $peak KiB"
    ((peak - before < 8192)) || false
}

# (Not under the short-I/O shim: a few bytes per write() never fill the client's socket.)
# bats test_tags=noshim
@test "-t 2 bounds silence, not a response: a reader that keeps reading stays; one that stops is cut" {
    head -c $((8 * 1024 * 1024)) /dev/urandom >"$ROOT/eight.bin"
    start_server -q -t 2
    # 4 MiB at once, then 128 KiB every 0.1 s: the answer takes some 4 s, more than the
    # socket buffers hold, so the server waits to write again and again, never for -t.
    local start=$SECONDS
    # shellcheck disable=SC2016 # the inner script expands its own arguments
    timeout 20 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$0"
        printf "GET /eight.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&5
        head -c $((4 * 1024 * 1024)) <&5 >"$1"
        size=0
        while (($(stat -c %s "$1") > size)); do
            size=$(stat -c %s "$1")
            sleep 0.1
            head -c $((128 * 1024)) <&5 >>"$1"
        done' "$PORT" "$BATS_TEST_TMPDIR/answer" 3>&-
    echo "the slow reader was done after $((SECONDS - start)) s; it got $(stat -c %s "$BATS_TEST_TMPDIR/answer") bytes"
    body <"$BATS_TEST_TMPDIR/answer" | cmp "$ROOT/eight.bin" -
    # A client that asks for it and reads nothing is let go about -t after its socket filled.
    connect 5
    printf 'GET /eight.bin HTTP/1.1\r\nHost: x\r\n\r\n' >&5
    # Once the server holds it (before that, the listener alone is no sign of a cut).
    local status=0 tick
    for ((tick = 0; tick < 20; tick++)); do (($(sockets) >= 2)) && break; sleep 0.1; done
    only_listening 5 || status=$?
    echo "the server's sockets $WAITED after a request never read: $(sockets)"
    ((status == 0)) || false
    exec 5>&-
}

# A file may shrink while it is sent: the answer then stops short (and the connection
# closes), but never carries a byte the file did not hold.
# bats test_tags=noshim
@test "a file truncated mid-download: the client gets a true prefix of it, then the connection closes" {
    head -c $((8 * 1024 * 1024)) /dev/urandom >"$ROOT/shrinks.bin"
    cp "$ROOT/shrinks.bin" "$BATS_TEST_TMPDIR/original"
    # (-t 2: a server that answers something else, say 404, lets the client go soon.)
    start_server -q -t 2
    # Read 1 MiB, truncate the file to 2 MiB, then read the rest.
    # shellcheck disable=SC2016 # the inner script expands its own arguments
    timeout 20 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$0"
        printf "GET /shrinks.bin HTTP/1.1\r\nHost: x\r\n\r\n" >&5
        head -c $((1024 * 1024)) <&5 >"$1"
        truncate -s $((2 * 1024 * 1024)) "$2"
        cat <&5 >>"$1"' "$PORT" "$BATS_TEST_TMPDIR/answer" "$ROOT/shrinks.bin" 3>&-
    local got
    body <"$BATS_TEST_TMPDIR/answer" >"$BATS_TEST_TMPDIR/got"
    got=$(stat -c %s "$BATS_TEST_TMPDIR/got")
    echo "the client got $got body bytes of the 8 MiB the head promised"
    ((got < 8 * 1024 * 1024)) || false
    cmp -n "$got" "$BATS_TEST_TMPDIR/original" "$BATS_TEST_TMPDIR/got"
}

@test "a client that disconnects mid-download frees everything" {
    truncate -s 200M "$ROOT/huge.bin"
    start_server -q
    http -o /dev/null "$(url /hello.txt)"
    # Count the descriptors once the server has seen that client go too (only the
    # listening socket left), or a slow server's count would include its socket.
    local fds i
    only_listening 2 || true
    fds=$(ls "/proc/$SERVER_PID/fd" | wc -l)
    CURL_TIME=0.3 http --limit-rate 10M -o /dev/null "$(url /huge.bin)" || true
    # Its socket and its file are closed (give it 2 s), and the server serves on.
    for ((i = 0; i < 20; i++)); do
        [[ $(ls "/proc/$SERVER_PID/fd" | wc -l) == "$fds" ]] && break
        sleep 0.1
    done
    [[ $(ls "/proc/$SERVER_PID/fd" | wc -l) == "$fds" ]] || { ls -l "/proc/$SERVER_PID/fd"; false; }
    run -0 http "$(url /hello.txt)"
    [[ $output == "hello, file" ]] || false
}

@test "a root that cannot be opened exits 1 naming it" {
    run -1 --separate-stderr "$(server_bin)" -p 0 -r "$BATS_TEST_TMPDIR/no-such-dir"
    [[ $stderr == *no-such-dir*"No such file or directory"* ]] || false
    run -1 --separate-stderr "$(server_bin)" -p 0 -r "$ROOT/hello.txt"
    [[ $stderr == *hello.txt*"Not a directory"* ]] || false
}
