#!/usr/bin/env bats
# stages: 1 2 3 4 5 6:fork_server 6:thread_server
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
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
    [[ -n $(header Content-Type <<<"$output") ]] || false
    [[ $(header Content-Length <<<"$output") == "$length" ]] || false
    # Nothing follows the empty line that ends the head.
    [[ $(tail -c 4 "$BATS_TEST_TMPDIR/head" | od -An -tx1 | tr -d ' \n') == 0d0a0d0a ]] || false
}

@test "an HTTP/1.0 request is answered with HTTP/1.0 and the connection closed" {
    start_server
    run -0 raw 'GET / HTTP/1.0\r\n\r\n'
    [[ $output == "HTTP/1.0 200 OK"* ]] || false
    [[ $(header Connection <<<"$output") == close ]] || false
}

@test "a request with bare LF line ends is answered" {
    start_server
    run -0 raw 'GET / HTTP/1.1\nHost: x\nConnection: close\n\n'
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
    [[ -n $(body <<<"$output") ]] || false
}

@test "a request arriving in pieces is put together before it is answered" {
    start_server
    run -0 timeout 5 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$0"
        for part in "GE" "T / HT" "TP/1.1\r" "\nHost: x\r\nConnection: cl" "ose\r\n" "\r\n"; do
            printf "%b" "$part" >&5; sleep 0.1
        done
        cat <&5' "$PORT"
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
}

@test "POST and other methods get 501 Not Implemented and the server goes on" {
    start_server
    run -0 http -i -X POST -d 'x=1' "$(url /)"
    [[ $output == "HTTP/1.1 501 Not Implemented"* ]] || false
    [[ $(body <<<"$output") == "501 Not Implemented" ]] || false
    run -0 http -i -X DELETE "$(url /)"
    [[ $output == "HTTP/1.1 501 Not Implemented"* ]] || false
    run -0 http -i "$(url /)"
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
}

@test "garbage and malformed request lines get 400 Bad Request and a close" {
    start_server
    local bad
    for bad in 'hello\r\n\r\n' 'GET /\r\n\r\n' 'GET / HTTP/2.0\r\n\r\n' 'GET  / HTTP/1.1\r\n\r\n' \
        'GET / HTTP/1.1 x\r\n\r\n' 'GET / HTTP/1.1\r\nno colon here\r\n\r\n' \
        'GET / HTTP/1.1\r\n folded: header\r\n\r\n' '\r\n\r\n' 'G\001T / HTTP/1.1\r\n\r\n'; do
        run -0 raw "$bad"
        [[ $output == "HTTP/1.1 400 Bad Request"* ]] || { echo "request: $bad"; false; }
        [[ $(header Connection <<<"$output") == close ]] || false
        [[ $(body <<<"$output") == "400 Bad Request" ]] || false
    done
}

@test "a request head over 8 KiB gets 431 and the server lives on" {
    start_server
    run -0 http -i -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "$(url /)"
    [[ $output == "HTTP/1.1 431 Request Header Fields Too Large"* ]] || false
    [[ $(header Connection <<<"$output") == close ]] || false
    run -0 http -i "$(url /)"
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
}

@test "a request head of just under 8 KiB is still answered" {
    start_server
    # curl's own head lines and ours stay below 8192 bytes in all.
    run -0 http -i -H "X-Big: $(head -c 7900 /dev/zero | tr '\0' a)" "$(url /)"
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
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
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
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
