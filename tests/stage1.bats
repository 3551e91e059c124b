#!/usr/bin/env bats
# stages: 1
# Stage 1: the iterative time-of-day server, its flags and its one lesson.

load test_helper

@test "GET answers 200 with the time of day as text/plain" {
    start_server
    run -0 http -i "$(url /)"
    head=${output%%$'\r\n\r\n'*}
    [[ $head == "HTTP/1.1 200 OK"* ]] || false
    [[ $(header Content-Type <<<"$head") == text/plain ]] || false
    [[ $(header Connection <<<"$head") == close ]] || false
    body=$(body <<<"$output")
    [[ $body =~ ^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\ [A-Z][a-z]{2}\ [\ 1-3][0-9]\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ [0-9]{4}$ ]] || false
    # The body is a newline-terminated line, counted exactly by Content-Length.
    [[ $(header Content-Length <<<"$head") == $((${#body} + 1)) ]] || false
    # And it is the time now (local time, as date(1) reads it), give or take a few seconds.
    local then now
    then=$(date -d "$body" +%s)
    now=$(date +%s)
    ((now - then < 5 && then - now < 5)) || false
}

@test "HEAD answers the same head as GET and no body" {
    start_server
    raw 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n' >"$BATS_TEST_TMPDIR/head"
    run -0 cat "$BATS_TEST_TMPDIR/head"
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
    [[ $(header Content-Type <<<"$output") == text/plain ]] || false
    [[ $(header Content-Length <<<"$output") == 25 ]] || false
    # Nothing follows the empty line that ends the head.
    [[ $(tail -c 4 "$BATS_TEST_TMPDIR/head" | od -An -tx1 | tr -d ' \n') == 0d0a0d0a ]] || false
}

@test "an HTTP/1.0 request is answered with HTTP/1.0" {
    start_server
    run -0 raw 'GET / HTTP/1.0\r\n\r\n'
    [[ $output == "HTTP/1.0 200 OK"* ]] || false
}

@test "a request with bare LF line ends is answered" {
    start_server
    run -0 raw 'GET / HTTP/1.1\nHost: x\n\n'
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
    [[ $(body <<<"$output") =~ [0-9]{2}:[0-9]{2}:[0-9]{2} ]] || false
}

@test "a request arriving in pieces is put together before it is answered" {
    start_server
    run -0 timeout 5 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$0"
        for part in "GE" "T / HT" "TP/1.1\r" "\nHost: x\r\n" "\r\n"; do
            printf "%b" "$part" >&5; sleep 0.1
        done
        cat <&5' "$PORT"
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
}

@test "POST gets 501 Not Implemented and the server goes on" {
    start_server
    run -0 http -i -X POST -d 'x=1' "$(url /)"
    [[ $output == "HTTP/1.1 501 Not Implemented"* ]] || false
    run -0 http -i -X DELETE "$(url /)"
    [[ $output == "HTTP/1.1 501 Not Implemented"* ]] || false
    run -0 http -i "$(url /)"
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
}

@test "garbage and malformed request lines get 400 Bad Request" {
    start_server
    local bad
    for bad in 'hello\r\n\r\n' 'GET /\r\n\r\n' 'GET / HTTP/2.0\r\n\r\n' 'GET  / HTTP/1.1\r\n\r\n' \
        'GET / HTTP/1.1 x\r\n\r\n' 'GET / HTTP/1.1\r\nno colon here\r\n\r\n' \
        'GET / HTTP/1.1\r\n folded: header\r\n\r\n' '\r\n\r\n'; do
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
    run -0 http -i "$(url /)"
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
}

@test "a request head of just under 8 KiB is still answered" {
    start_server
    # curl's own head lines and ours stay below 8192 bytes in all.
    run -0 http -i -H "X-Big: $(head -c 7900 /dev/zero | tr '\0' a)" "$(url /)"
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
}

@test "a second client waits while the first is connected and silent" {
    start_server -t 5
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    http -o "$BATS_TEST_TMPDIR/second" "$(url /)" 3>&- &
    local second=$!
    sleep 1
    # The server is busy with the first client, so the second is still waiting.
    kill -0 "$second"
    [[ ! -s $BATS_TEST_TMPDIR/second ]] || false
    # Once the first is served, the second is answered too.
    printf 'GET / HTTP/1.0\r\n\r\n' >&5
    run -0 cat <&5
    exec 5>&-
    [[ $output == "HTTP/1.0 200 OK"* ]] || false
    wait "$second"
    [[ -s $BATS_TEST_TMPDIR/second ]] || false
}

@test "-t 1 drops a silent client, and the next client is then answered" {
    start_server -t 1
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    local start=$SECONDS
    run -0 http -i "$(url /)"
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
    # The silent client is closed without an answer.
    run -0 timeout 5 cat <&5
    exec 5>&-
    [[ -z $output ]] || false
    ((SECONDS - start <= 4)) || false
}

@test "-h prints the usage and exits 0" {
    run -0 --separate-stderr "$(stage_dir)/server" -h
    [[ $output == usage:*-p\ PORT* ]] || false
}

@test "an unknown flag exits 2 with a reason and the usage" {
    run -2 --separate-stderr "$(stage_dir)/server" -x
    [[ $stderr == *usage:* ]] || false
    run -2 --separate-stderr "$(stage_dir)/server" -p 70000
    [[ $stderr == *"-p 70000"*usage:* ]] || false
    run -2 --separate-stderr "$(stage_dir)/server" -a localhost
    [[ $stderr == *"-a localhost"*usage:* ]] || false
    run -2 --separate-stderr "$(stage_dir)/server" -t
    [[ $stderr == *usage:* ]] || false
}

@test "a port in use exits 1 with a message naming the cause" {
    start_server
    run -1 --separate-stderr timeout 5 "$(stage_dir)/server" -p "$PORT"
    [[ $stderr == *"Address already in use"* ]] || false
}

@test "-a ::1 listens on IPv6" {
    ADDR=::1 start_server || skip_without_ipv6
    grep -q "^listening on \[::1\]:$PORT\$" "$SERVER_LOG"
    run -0 http -i "http://[::1]:$PORT/"
    [[ $output == "HTTP/1.1 200 OK"* ]] || false
}

@test "each request is logged with client, request line, status and bytes; -q silences it" {
    start_server
    http -o /dev/null "$(url /log-me)"
    run -0 cat "$SERVER_LOG"
    [[ $output == *"127.0.0.1:"*' "GET /log-me HTTP/1.1" 200 '[0-9]* ]] || false
    stop_servers
    start_server -q
    http -o /dev/null "$(url /log-me)"
    run -0 cat "$SERVER_LOG"
    [[ $output != *log-me* ]] || false
}
