#!/usr/bin/env bats
# stages: 1 2
# shortio: yes
# Stages 1 and 2 answer every GET with the time of day.

load test_helper

@test "GET answers 200 with the time of day as one line of text/plain" {
    start_server
    run -0 http -i "$(url /any/path)"
    local head=${output%%$'\r\n\r\n'*} text
    [[ $head == "HTTP/1.1 200 OK"* ]] || false
    [[ $(header Content-Type <<<"$head") == text/plain ]] || false
    text=$(body <<<"$output")
    [[ $text =~ ^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\ [A-Z][a-z]{2}\ [\ 1-3][0-9]\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ [0-9]{4}$ ]] || false
    # The body is a newline-terminated line, counted exactly by Content-Length.
    [[ $(header Content-Length <<<"$head") == $((${#text} + 1)) ]] || false
    # And it is the time now (local time, as date(1) reads it), give or take a few seconds.
    local sent now
    sent=$(date -d "$text" +%s)
    now=$(date +%s)
    ((now - sent < 5 && sent - now < 5)) || false
}
