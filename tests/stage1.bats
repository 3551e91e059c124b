#!/usr/bin/env bats
# stages: 1
# Stage 1's lesson: an iterative server serves one request per connection and
# makes every other client wait.

load test_helper

@test "every answer closes the connection, even for HTTP/1.1" {
    start_server
    run -0 raw 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n'
    answer_is "HTTP/1.1 200 OK"
    [[ $(header Connection <<<"$output") == close ]] || false
    # One answer only, though two requests were sent.
    [[ $(grep -c '^HTTP/1.1' <<<"$output") == 1 ]] || false
}

@test "a second client waits while the first is connected and silent" {
    start_server -t 5
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    # (Not holding fd 5 too: the server waits for the first client's EOF before the next.)
    http -o "$BATS_TEST_TMPDIR/second" "$(url /)" 3>&- 5>&- &
    local second=$!
    sleep 1
    # The server is busy with the first client, so the second is still waiting.
    kill -0 "$second"
    [[ ! -s $BATS_TEST_TMPDIR/second ]] || false
    # Once the first is served, the second is answered too.
    printf 'GET / HTTP/1.0\r\n\r\n' >&5
    run -0 cat <&5
    exec 5>&-
    answer_is "HTTP/1.0 200 OK"
    wait "$second"
    [[ -s $BATS_TEST_TMPDIR/second ]] || false
}

@test "one process, one thread: 20 clients at once start no thread and no child" {
    start_server -q
    local args=() i
    for ((i = 0; i < 20; i++)); do args+=(-o /dev/null "$(url /)"); done
    run -0 peak_tasks "$SERVER_PID" http --parallel --parallel-immediate --parallel-max 20 -f "${args[@]}"
    echo "threads at most, child processes at most: $output"
    [[ $output == "1 0" ]] || false
}

@test "-t 1 drops a silent client, and the next client is then answered" {
    start_server -t 1
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    local start=$SECONDS
    run -0 http -i "$(url /)"
    answer_is "HTTP/1.1 200 OK"
    # The silent client is closed without an answer.
    run -0 timeout 5 cat <&5
    exec 5>&-
    [[ -z $output ]] || false
    ((SECONDS - start <= 4)) || false
}

@test "a client that keeps its connection after its answer holds up the next for a second at most" {
    start_server -t 10
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >&5
    # The first client has its answer and sits on the connection; the server waits for
    # its end before the next accept(), but not for -t.
    run -0 http -w '%{time_total}' -o /dev/null "$(url /)"
    echo "the next client was answered in $output s"
    awk -v t="$output" 'BEGIN { exit !(t < 3) }'
    exec 5>&-
}
