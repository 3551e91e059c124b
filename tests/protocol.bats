#!/usr/bin/env bats
# stages: 1 2 3 4 5 6:fork_server 6:thread_server 6:epoll_server 6:uring_server
# shortio: yes
# The protocol and command line that every server stage shares.

load test_helper

# tests/run's short-I/O run proves that its shim was at work (a server linked statically,
# or a preloaded library that lost to the sanitizer's, would pass unshortened).
# bats test_tags=shimonly
@test "under the short-I/O shim the server's socket calls are cut short, and it answers whole" {
    start_server
    run -0 http -i "$(url /)"
    [[ $output == "HTTP/1."?" 200 OK"* ]] || false
    run -0 cat "$BATS_TEST_TMPDIR/shortio.log"
    [[ $output == *"shortio: pid "* ]] || false
}

@test "HEAD answers the same head as GET and no body" {
    start_server
    run -0 http -s -o /dev/null -w '%{size_download}' "$(url /)"
    local length=$output
    raw 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$BATS_TEST_TMPDIR/head"
    run -0 cat "$BATS_TEST_TMPDIR/head"
    answer_is "HTTP/1.1 200 OK"
    [[ -n $(header Content-Type <<<"$output") ]] || false
    [[ $(header Content-Length <<<"$output") == "$length" ]] || false
    # Nothing follows the empty line that ends the head.
    [[ $(tail -c 4 "$BATS_TEST_TMPDIR/head" | od -An -tx1 | tr -d ' \n') == 0d0a0d0a ]] || false
}

@test "an HTTP/1.0 request is answered with HTTP/1.0 and the connection closed" {
    start_server
    run -0 raw 'GET / HTTP/1.0\r\n\r\n'
    answer_is "HTTP/1.0 200 OK"
    [[ $(header Connection <<<"$output") == close ]] || false
}

@test "a request with bare LF line ends is answered" {
    start_server
    run -0 raw 'GET / HTTP/1.1\nHost: x\nConnection: close\n\n'
    answer_is "HTTP/1.1 200 OK"
    [[ -n $(body <<<"$output") ]] || false
}

@test "a request arriving in pieces is put together before it is answered" {
    start_server
    run -0 timeout 5 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$0"
        for part in "GE" "T / HT" "TP/1.1\r" "\nHost: x\r\nConnection: cl" "ose\r\n" "\r\n"; do
            printf "%b" "$part" >&5; sleep 0.1
        done
        cat <&5' "$PORT"
    answer_is "HTTP/1.1 200 OK"
}

@test "POST and other methods get 501 Not Implemented and the server goes on" {
    start_server
    run -0 http -i -X POST -d 'x=1' "$(url /)"
    answer_is "HTTP/1.1 501 Not Implemented"
    [[ $(body <<<"$output") == "501 Not Implemented" ]] || false
    run -0 http -i -X DELETE "$(url /)"
    answer_is "HTTP/1.1 501 Not Implemented"
    run -0 http -i "$(url /)"
    answer_is "HTTP/1.1 200 OK"
}

# Send the request "$2" (printf %b escapes) and after it, on the same connection, a
# well-formed request for /next; check that the first answer has status $1. A 400, 501 or
# 505, or "$3" = close (a request that declared a body), must end the connection: it
# says "Connection: close" and nothing after it is answered, so no byte the server did not
# parse as a request head is ever read as one. After any other answer, a server that keeps
# connections alive (stage 2 on) answers /next too.
answers() {
    local want=$1 sent=$2 out status n
    out=$(raw "$sent"'GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n') || true
    status=$(head -n 1 <<<"$out" | tr -d '\r')
    n=$(grep -c '^HTTP/1\.[01] [0-9][0-9][0-9] ' <<<"$out" || true)
    if [[ $status != "HTTP/1."[01]" $want "* ]]; then
        printf 'sent: %s\nexpected %s, got: %s\n' "$sent" "$want" "${status:-nothing}"
        return 1
    fi
    if [[ $want == @(400|501|505) || ${3:-} == close ]]; then
        if [[ $(header Connection <<<"$out") != close || $n != 1 ]]; then
            printf 'sent: %s\nthe %s should close the connection, but it said "Connection: %s" and %s answers came:\n%s\n' \
                "$sent" "$want" "$(header Connection <<<"$out")" "$n" "$(grep '^HTTP/1' <<<"$out")"
            return 1
        fi
    elif ((STAGE != 1)) && ((n != 2)); then
        printf 'sent: %s\nthe connection should stay open for the next request, but %s answers came:\n%s\n' \
            "$sent" "$n" "$(grep '^HTTP/1' <<<"$out")"
        return 1
    fi
}

# Every case on stdin, a line "STATUS REQUEST", through answers().
answers_all() {
    local want sent
    while read -r want sent; do
        answers "$want" "$sent"
    done
}

@test "garbage and malformed request lines get 400 Bad Request and a close" {
    start_server
    answers_all <<'CASES'
400 hello\r\n\r\n
400 GET /\r\n\r\n
400 GET  / HTTP/1.1\r\nHost: x\r\n\r\n
400 GET / HTTP/1.1 x\r\nHost: x\r\n\r\n
400 GET / HTTP/1.1\r\nno colon here\r\n\r\n
400 G\001T / HTTP/1.1\r\nHost: x\r\n\r\n
400 GET / HTTP/1.1\r \r\nHost: x\r\n\r\n
CASES
    run -0 raw 'hello\r\n\r\n'
    [[ $(body <<<"$output") == "400 Bad Request" ]] || false
}

@test "empty lines before the request line are skipped" {
    start_server
    answers_all <<'CASES'
200 \r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n
200 \r\n\r\n\nGET / HTTP/1.1\r\nHost: x\r\n\r\n
200 \nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n
CASES
}

@test "the version: 1.0 and 1.1 as sent, another 1.x as 1.1, another major 505, anything else 400" {
    start_server
    answers_all <<'CASES'
200 GET / HTTP/1.1\r\nHost: x\r\n\r\n
200 GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n
200 GET / HTTP/1.2\r\nHost: x\r\n\r\n
200 GET / HTTP/1.9\r\nHost: x\r\n\r\n
505 GET / HTTP/2.0\r\nHost: x\r\n\r\n
505 GET / HTTP/0.9\r\nHost: x\r\n\r\n
505 GET / HTTP/3.1\r\nHost: x\r\n\r\n
400 GET / HTTP/1.10\r\nHost: x\r\n\r\n
400 GET / HTTP/11.1\r\nHost: x\r\n\r\n
400 GET / HTTP/1\r\nHost: x\r\n\r\n
400 GET / HTTP/1.\r\nHost: x\r\n\r\n
400 GET / http/1.1\r\nHost: x\r\n\r\n
400 GET / HTTP/1.x\r\nHost: x\r\n\r\n
400 GET / HTTP/a.1\r\nHost: x\r\n\r\n
400 GET / XTTP/1.1\r\nHost: x\r\n\r\n
CASES
    run -0 raw 'GET / HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n'
    answer_is "HTTP/1.1 200 OK"
    run -0 raw 'GET / HTTP/2.0\r\nHost: x\r\n\r\n'
    answer_is "HTTP/1.1 505 HTTP Version Not Supported"
}

@test "targets: origin-form and absolute-form (its path used) are answered; others, or bytes outside printable ASCII, 400" {
    start_server
    answers_all <<'CASES'
200 GET /?c=d&e=%20f HTTP/1.1\r\nHost: x\r\n\r\n
200 GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n
200 GET http://127.0.0.1:8080/?q HTTP/1.1\r\nHost: x\r\n\r\n
200 GET HTTP://[::1]:80 HTTP/1.1\r\nHost: x\r\n\r\n
200 HEAD https://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n
400 GET * HTTP/1.1\r\nHost: x\r\n\r\n
400 GET x/y HTTP/1.1\r\nHost: x\r\n\r\n
400 GET example.com:80 HTTP/1.1\r\nHost: x\r\n\r\n
400 GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n
400 GET http:/x HTTP/1.1\r\nHost: x\r\n\r\n
400 GET http:// HTTP/1.1\r\nHost: x\r\n\r\n
400 GET http:///x HTTP/1.1\r\nHost: x\r\n\r\n
400 GET http://user@x/ HTTP/1.1\r\nHost: x\r\n\r\n
400 GET http://x:8o/ HTTP/1.1\r\nHost: x\r\n\r\n
400 GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n
400 GET /\x80 HTTP/1.1\r\nHost: x\r\n\r\n
400 GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n
400 GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n
CASES
    if ((STAGE >= 3)); then
        # The path of an absolute-form target names the file.
        answers 404 'GET http://x/no-such-file HTTP/1.1\r\nHost: x\r\n\r\n'
        run -0 raw 'GET http://x/index.html?q HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
        answer_is "HTTP/1.1 200 OK"
        [[ $(body <<<"$output") == "$(cat "$ROOT/index.html")" ]] || false
    fi
}

@test "an HTTP/1.1 request carries exactly one Host with a valid host[:port], else 400" {
    start_server
    answers_all <<'CASES'
200 GET / HTTP/1.1\r\nHost: example.com\r\n\r\n
200 GET / HTTP/1.1\r\nhost:example.com:8080 \r\n\r\n
200 GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n
200 GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n
200 GET / HTTP/1.1\r\nHost: [2001:db8::7]\r\n\r\n
200 GET / HTTP/1.1\r\nHost: xn--caf-dma.example\r\n\r\n
200 GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n
400 GET / HTTP/1.1\r\n\r\n
400 GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n
400 GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n
400 GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n
400 GET / HTTP/1.1\r\nHost:\r\n\r\n
400 GET / HTTP/1.1\r\nHost:  \r\n\r\n
400 GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n
400 GET / HTTP/1.1\r\nHost: example.com/path\r\n\r\n
400 GET / HTTP/1.1\r\nHost: example.com:80x\r\n\r\n
400 GET / HTTP/1.1\r\nHost: example.com:123456\r\n\r\n
400 GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n
400 GET / HTTP/1.1\r\nHost: a,b\r\n\r\n
400 GET / HTTP/1.1\r\nHost: :80\r\n\r\n
400 GET / HTTP/1.1\r\nHost: [::1\r\n\r\n
400 GET / HTTP/1.1\r\nHost: [nonsense]\r\n\r\n
400 GET / HTTP/1.1\r\nHost: ::1\r\n\r\n
400 GET / HTTP/1.1\r\nHost: caf\xc3\xa9.example\r\n\r\n
CASES
}

@test "header names are tokens, values hold no control byte but tab; else 400 (folded lines too)" {
    start_server
    answers_all <<'CASES'
200 GET / HTTP/1.1\r\nHost: x\r\nX-Tab: a\tb\r\n\r\n
200 GET / HTTP/1.1\r\nHost: x\r\nX-Obs-Text: caf\xc3\xa9 \xff\r\n\r\n
200 GET / HTTP/1.1\r\nHost: x\r\nX-Empty:\r\n\r\n
200 GET / HTTP/1.1\r\nHost: x\r\nX-Odd!#$%&'*+.^_`|~: v\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nX-A\t: b\r\n\r\n
400 GET / HTTP/1.1\r\nHost : x\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nX(A): b\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nX-\xc3\xa9: b\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n  folded\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\tfolded\r\n\r\n
400 GET / HTTP/1.1\r\n Host: x\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nX-A: a\000b\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nX-A: ab\r\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nX-A: a\001b\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nX-A: a\033b\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nX-A: a\177b\r\n\r\n
CASES
}

@test "Content-Length is one decimal number in one line: a list, repeat, sign, space, empty value or overflow gets 400" {
    start_server
    answers_all <<'CASES'
200 GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n
200 GET / HTTP/1.1\r\nHost: x\r\ncontent-length:  000 \r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 0\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0,0\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +0\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 0\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nContent-Length:  \r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 9223372036854775808\r\n\r\n
400 POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc
CASES
}

@test "Transfer-Encoding gets 501 and a close, or 400 beside a Content-Length" {
    start_server
    answers_all <<'CASES'
501 GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n
501 POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n
501 GET / HTTP/1.0\r\nTransfer-Encoding: identity\r\n\r\n
400 GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n
400 POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n
CASES
}

# A second request hidden in the body: the server must never answer it.
hidden='GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'
hidden_len=$(printf '%b' "$hidden" | wc -c)

# Fail if the server's log shows that it answered the hidden request.
not_smuggled() {
    if grep -q smuggled "$SERVER_LOG"; then
        echo "the request hidden in the body was answered; the server's log:"
        cat "$SERVER_LOG"
        return 1
    fi
}

@test "a request with a body is answered, then the connection closed: no body byte is read as a request" {
    start_server
    answers 200 "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: $hidden_len\r\n\r\n$hidden" close
    answers 200 "HEAD / HTTP/1.1\r\nHost: x\r\nContent-Length: $hidden_len\r\n\r\n$hidden" close
    answers 501 "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: $hidden_len\r\n\r\n$hidden"
    answers 501 "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n$(printf %x "$hidden_len")\r\n$hidden\r\n0\r\n\r\n"
    not_smuggled
}

@test "request smuggling: Content-Length lists (41, 0 and 0, 41) get 400 and the hidden request is never answered" {
    start_server
    answers 400 "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: $hidden_len, 0\r\n\r\n$hidden"
    answers 400 "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0, $hidden_len\r\n\r\n$hidden"
    answers 400 "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: $hidden_len\r\n\r\n$hidden"
    answers 400 "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: $hidden_len\r\nContent-Length: 0\r\n\r\n$hidden"
    answers 400 "GET / HTTP/1.1\r\nHost: x\r\nContent-Length : $hidden_len\r\n\r\n$hidden"
    answers 400 "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +$hidden_len\r\n\r\n$hidden"
    not_smuggled
}

# The IMF-fixdate of RFC 9110: "Sun, 06 Nov 1994 08:49:37 GMT".
IMF_FIXDATE='^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT$'

# Check that the response on stdin has a Date in IMF-fixdate within 2 s of the clock.
dated_now() {
    local date now
    date=$(header Date)
    now=$(date +%s)
    [[ $date =~ $IMF_FIXDATE ]] || { echo "Date: '$date' is not an IMF-fixdate"; return 1; }
    date=$(date -d "$date" +%s)
    ((date - now <= 2 && now - date <= 2)) || { echo "Date is $((date - now)) s away from the clock"; return 1; }
}

@test "every response carries a Date in IMF-fixdate, and it is the time now" {
    start_server
    run -0 http -i "$(url /)"
    dated_now <<<"$output"
    run -0 raw 'GET / HTTP/1.1\r\n\r\n'
    answer_is "HTTP/1.1 400 "
    dated_now <<<"$output"
    # A server that formats the date once a second must still move on with the clock.
    sleep 1.5
    run -0 http -i "$(url /)"
    dated_now <<<"$output"
}

@test "a request head over 8 KiB gets 431 and the server lives on" {
    start_server
    run -0 http -i -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "$(url /)"
    answer_is "HTTP/1.1 431 Request Header Fields Too Large"
    [[ $(header Connection <<<"$output") == close ]] || false
    run -0 http -i "$(url /)"
    answer_is "HTTP/1.1 200 OK"
}

@test "a request head of just under 8 KiB is still answered" {
    start_server
    # curl's own head lines and ours stay below 8192 bytes in all.
    run -0 http -i -H "X-Big: $(head -c 7900 /dev/zero | tr '\0' a)" "$(url /)"
    answer_is "HTTP/1.1 200 OK"
}

# Its kernel answers the server's first bytes with a reset; the next write() fails with
# EPIPE, and raises SIGPIPE, which kills a server that does not ignore it. (A small
# answer goes out in one write: the short-I/O run, a few bytes a write, is where this
# bites.)
@test "a client that hangs up before its answer is out costs the server nothing" {
    start_server
    timeout 5 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$0"
        printf "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&5; exec 5>&-' "$PORT"
    sleep 0.5
    kill -0 "$SERVER_PID" || { echo "the server died; its stderr:"; cat "$SERVER_LOG"; false; }
    run -0 http -i "$(url /)"
    answer_is "HTTP/1.1 200 OK"
}

@test "the 8 KiB head limit is exact: heads of 8191 and 8192 bytes are answered, 8193 gets 431" {
    start_server
    local size pad expect
    for size in 8191 8192 8193; do
        # 55 bytes of request line, headers and the blank line, and a header to fill up.
        pad=$(head -c $((size - 55)) /dev/zero | tr '\0' a)
        expect="HTTP/1.1 200 OK"
        ((size <= 8192)) || expect="HTTP/1.1 431 Request Header Fields Too Large"
        run -0 raw "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: $pad\r\n\r\n"
        answer_is "$expect" || { echo "(a head of $size bytes)"; false; }
    done
}

# Linux hands a network error pending on a new connection (EPROTO, ENETDOWN, ...) to
# accept() itself: tests/tools/faults.so makes the first accept() fail so.
# (faults.so wraps accept() in libc; uring_server accepts through io_uring, unseen.)
# bats test_tags=not-uring_server
@test "a connection whose accept() fails (EPROTO) costs that client only" {
    local faults="${EVLAB_TOOLS:-$BATS_TEST_DIRNAME/tools}/faults.so"
    [[ -f $faults ]] || { echo "tests/tools/faults.so is not built (tests/tools/build)"; false; }
    FAULT_ACCEPT=1 FAULT_LOG="$BATS_TEST_TMPDIR/faults.log" SERVER_PRELOAD=$faults start_server
    run http -i "$(url /)" # the connection the fault takes: dropped
    grep -q "faults: pid .* accept4\{0,1\} 1" "$BATS_TEST_TMPDIR/faults.log"
    # The server is still there, answers the next client, and does not sleep on it.
    kill -0 "$SERVER_PID"
    run -0 http -i -w '%{time_total}' "$(url /)"
    answer_is "HTTP/1.1 200 OK"
    echo "answered in ${output##*$'\n'} s"
    awk -v t="${output##*$'\n'}" 'BEGIN { exit !(t < 0.5) }'
}

# (Not under the short-I/O shim: 3000 answers a few bytes per write() take too long, and
# the log is not a socket.)
# bats test_tags=noshim
@test "a log nobody reads never stops the server: lines are dropped, counted and the count said" {
    start_server_unread_log
    # 3000 requests (one connection, curl globbing; stage 1 answers one a connection).
    run -0 timeout 20 curl -sS --max-time 20 -o /dev/null -w '%{http_code}\n' "$(url "/?n=[1-3000]")"
    [[ $(grep -c '^200$' <<<"$output") == 3000 ]] || { echo "$output" | sort | uniq -c; false; }
    # Read what the pipe holds now (cat ends at its time limit: the server keeps the pipe
    # open); the next line logged first says how many were lost.
    timeout 1 cat <&7 >/dev/null || true
    http -o /dev/null "$(url /?after)"
    run timeout 1 cat <&7
    echo "$output"
    [[ $output == *'"GET /?after HTTP/1.1" 200'* ]] || false
    # (A fork server's child counts its own lines, and the count ends with it.)
    [[ ${SERVER_BIN:-} == fork_server || $output == *"log lines dropped"*'"GET /?after'* ]] || false
    exec 7<&-
}

@test "-h prints the usage and exits 0" {
    run -0 --separate-stderr "$(server_bin)" -h
    [[ $output == usage:*-p\ PORT* ]] || false
}

@test "bad flags exit 2 with a reason and the usage" {
    run -2 --separate-stderr "$(server_bin)" -x
    [[ $stderr == *usage:* ]] || false
    run -2 --separate-stderr "$(server_bin)" -p 70000
    [[ $stderr == *"-p 70000"*usage:* ]] || false
    run -2 --separate-stderr "$(server_bin)" -p 80x
    [[ $stderr == *"-p 80x"*usage:* ]] || false
    run -2 --separate-stderr "$(server_bin)" -a localhost
    [[ $stderr == *"-a localhost"*usage:* ]] || false
    run -2 --separate-stderr "$(server_bin)" -t
    [[ $stderr == *usage:* ]] || false
    run -2 --separate-stderr "$(server_bin)" -t 0
    [[ $stderr == *"-t 0"*usage:* ]] || false
    run -2 --separate-stderr "$(server_bin)" extra
    [[ $stderr == *extra*usage:* ]] || false
}

@test "a port in use exits 1 with a message naming the cause" {
    start_server
    run -1 --separate-stderr timeout 5 "$(server_bin)" -p "$PORT"
    [[ $stderr == *"127.0.0.1:$PORT"*"Address already in use"* ]] || false
}

@test "-a ::1 listens on IPv6" {
    ADDR=::1 start_server || skip_without_ipv6
    grep -q "^listening on \[::1\]:$PORT\$" "$SERVER_LOG"
    run -0 http -i "http://[::1]:$PORT/"
    answer_is "HTTP/1.1 200 OK"
}

@test "each request is logged with client, request line, status and bytes; -q silences it" {
    start_server
    http -o /dev/null "$(url /?log-me)"
    http -o /dev/null -X POST "$(url /?log-me)"
    run -0 cat "$SERVER_LOG"
    [[ $output == *"127.0.0.1:"*' "GET /?log-me HTTP/1.1" 200 '[1-9]* ]] || false
    [[ $output == *"127.0.0.1:"*' "POST /?log-me HTTP/1.1" 501 '[1-9]* ]] || false
    stop_servers
    start_server -q
    http -o /dev/null "$(url /?log-me)"
    run -0 cat "$SERVER_LOG"
    [[ $output != *log-me* ]] || false
}
