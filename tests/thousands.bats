#!/usr/bin/env bats
# stages: 6:epoll_server 6:uring_server
# The servers past select() (stage6-bench/epoll_server.c, uring_server.c) have no
# FD_SETSIZE: they hold thousands of clients, and find the ones whose time runs out
# without a scan per turn. The rest of their behaviour is stage 3's, tested by the same
# files (files, protocol, slowdisk, eventloop, signals).

load test_helper

# Open $1 connections to the server, silent, into the array CONNS.
open_many() {
    local fd i
    CONNS=()
    for ((i = 0; i < $1; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
        CONNS+=("$fd")
    done
}

# Ask on connection $1 (a descriptor) for / and print the status line it gets (5 s).
ask_on() {
    printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&"$1"
    timeout 5 head -n 1 <&"$1" | tr -d '\r'
}

@test "2000 simultaneous connections are all held and answered: there is no FD_SETSIZE" {
    ulimit -n 4096 || skip "cannot raise the descriptor limit (ulimit -n 4096)"
    SERVER_NOFILE=4096 start_server -q -t 60
    open_many 2000
    # The first, the 1024th (select()'s limit) and the last are all served.
    local k
    for k in 0 1023 1999; do
        run -0 ask_on "${CONNS[k]}"
        [[ $output == "HTTP/1.1 200 OK" ]] || { echo "connection $((k + 1)) got: ${output:-nothing}"; false; }
    done
    # None was refused: a connection the server closed is in CLOSE_WAIT (08 in
    # /proc/net/tcp), and only the three answered ones may be.
    local closed
    closed=$(awk -v port="$(printf '%04X' "$PORT")" '$3 ~ ":" port "$" && $4 == "08"' /proc/net/tcp | wc -l)
    echo "connections the server closed: $closed"
    ((closed <= 3)) || false
    for k in "${CONNS[@]}"; do exec {k}>&-; done
}

@test "-t 1 lets 2000 idle connections go within 2 seconds, and a new client is served" {
    ulimit -n 4096 || skip "cannot raise the descriptor limit (ulimit -n 4096)"
    SERVER_NOFILE=4096 start_server -q -t 1
    open_many 2000
    # Their deadlines come in the order they were opened, and the loop sleeps until the
    # first (epoll_server keeps them in that order; uring_server notes the earliest). All
    # gone by 1 s after the last was opened, give or take a turn.
    local closed k
    sleep 2
    closed=$(awk -v port="$(printf '%04X' "$PORT")" '$3 ~ ":" port "$" && $4 == "08"' /proc/net/tcp | wc -l)
    echo "connections the server closed after -t 1 and 2 s: $closed of 2000"
    ((closed == 2000)) || false
    # and a new client is served as ever.
    run -0 http -i "$(url /)"
    answer_is "HTTP/1.1 200 OK"
    for k in "${CONNS[@]}"; do exec {k}>&-; done
}
