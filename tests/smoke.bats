#!/usr/bin/env bats
# stages: 1 2 3 4 5 6:fork_server 6:thread_server 6:epoll_server 6:uring_server
# The first test of every stage: does the server answer at all? make grade runs it before
# the rest, and when it fails the stage's other tests fail at once with its message
# instead of each waiting out its time limit.

load test_helper

@test "the server starts and answers a plain GET within 5 seconds" {
    start_server
    run raw 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' 5
    if ((status != 0)) && exited_within "$SERVER_PID" 1; then
        echo "The server exited ($(status_words "$(exit_status "$SERVER_PID")")) instead of answering; its stderr:"
        sed 's/^/    /' "$SERVER_LOG"
        false
    fi
    ((status == 0)) || { echo "No answer came within 5 s (the server is running: is its loop answering?)"; false; }
    answer_is "HTTP/1.1 200 OK"
}
