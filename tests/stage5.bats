#!/usr/bin/env bats
# stages: 5
# Stage 5: the file cache, and the signals that steer it.

load test_helper

setup() {
    make_root
}

@test "SIGUSR1 prints one well-formed stats line at once, even to an idle server" {
    start_server
    run -0 cache_stats
    [[ $output =~ ^cache:\ entries=[0-9]+\ bytes=[0-9]+\ hits=[0-9]+\ misses=[0-9]+\ requests=[0-9]+$ ]] || false
    [[ $(grep -c '^cache: ' "$SERVER_LOG") == 1 ]] || false
}

@test "the first request is a miss, the second a hit" {
    printf 'cached\n' >"$ROOT/a.txt"
    start_server
    run -0 http "$(url /a.txt)"
    run -0 http "$(url /a.txt)"
    [[ $output == cached ]] || false
    local line
    line=$(cache_stats)
    echo "$line"
    [[ $(stat_field "$line" misses) == 1 && $(stat_field "$line" hits) == 1 ]] || false
    [[ $(stat_field "$line" entries) == 1 && $(stat_field "$line" requests) == 2 ]] || false
    # bytes: what the entry costs, the file's 7 bytes and its bookkeeping (not a KiB more).
    (($(stat_field "$line" bytes) > 7 && $(stat_field "$line" bytes) < 7 + 1024)) || false
}

@test "a changed file is served from the cache until SIGHUP, from disk after" {
    printf 'old bytes\n' >"$ROOT/f.txt"
    start_server
    run -0 http "$(url /f.txt)"
    [[ $output == "old bytes" ]] || false
    printf 'new bytes\n' >"$ROOT/f.txt"
    run -0 http "$(url /f.txt)"
    [[ $output == "old bytes" ]] || false
    kill -HUP "$SERVER_PID"
    # The stats line comes after the flush: the loop handles signals in one place.
    [[ $(stat_field "$(cache_stats)" entries) == 0 ]] || false
    run -0 http "$(url /f.txt)"
    [[ $output == "new bytes" ]] || false
}

@test "-c 0 never caches" {
    printf 'x\n' >"$ROOT/x.txt"
    start_server -c 0
    http -o /dev/null "$(url /x.txt)"
    http -o /dev/null "$(url /x.txt)"
    local line
    line=$(cache_stats)
    [[ $(stat_field "$line" hits) == 0 && $(stat_field "$line" entries) == 0 && $(stat_field "$line" misses) == 2 ]] || false
}

# (A cached 1 MiB file may leave in one writev(); an 8 MiB one, too large to cache, is
# streamed a buffer at a time.)
@test "requests counts answers, not writes: 8 MiB streamed in many writes, and 1 MiB missed then hit, are three" {
    head -c $((1024 * 1024)) /dev/urandom >"$ROOT/big.bin"
    head -c $((8 * 1024 * 1024)) /dev/urandom >"$ROOT/huge.bin"
    start_server -q
    run -0 http -o /dev/null "$(url /huge.bin)" -o /dev/null "$(url /big.bin)" -o /dev/null "$(url /big.bin)"
    local line
    line=$(cache_stats)
    echo "$line"
    [[ $(stat_field "$line" requests) == 3 && $(stat_field "$line" hits) == 1 ]] || false
}

@test "after a SIGHUP the cache fills again: a miss, then hits" {
    printf 'cached\n' >"$ROOT/a.txt"
    start_server -q
    run -0 http "$(url /a.txt)"
    kill -HUP "$SERVER_PID"
    sleep 0.2
    run -0 http "$(url /a.txt)" "$(url /a.txt)" "$(url /a.txt)"
    local line
    line=$(cache_stats)
    echo "$line"
    [[ $(stat_field "$line" misses) == 2 && $(stat_field "$line" hits) == 2 ]] || false
    [[ $(stat_field "$line" entries) == 1 ]] || false
}

# A hit holds a reference to its entry until the last byte is out: SIGHUP, which drops
# the entry from the cache, must not free the bytes under the response. The short-I/O
# shim (a few bytes a write) keeps the server reading from the entry for a second or two,
# long enough for the SIGHUP and the next load to land mid-response.
# bats test_tags=noshim
@test "SIGHUP while a cached 1 MB file is being sent: the answer stays byte-exact" {
    head -c $((1000 * 1000)) /dev/urandom >"$ROOT/one.bin" # under the 1 MiB an entry may hold
    head -c $((1000 * 1000)) /dev/urandom >"$ROOT/other.bin"
    SHORTIO_EINTR=0 SERVER_PRELOAD="${EVLAB_TOOLS:-$BATS_TEST_DIRNAME/tools}/shortio.so" start_server -q
    CURL_TIME=30 run -0 http -o /dev/null "$(url /one.bin)" # loaded, and cached once loaded
    CURL_TIME=30 http -o "$BATS_TEST_TMPDIR/hit" "$(url /one.bin)" 3>&- &
    local reader=$!
    sleep 0.3
    kill -HUP "$SERVER_PID"
    # Another file of that size loads at once: memory freed too early would now hold it.
    CURL_TIME=30 run -0 http -o /dev/null "$(url /other.bin)"
    wait "$reader" || { echo "the hit's download failed (curl status $?)"; false; }
    cmp "$ROOT/one.bin" "$BATS_TEST_TMPDIR/hit"
    kill -0 "$SERVER_PID"
}

@test "capacity is respected under eviction, least recently used first" {
    local i
    for i in a b c d e f g h; do head -c 30000 /dev/urandom >"$ROOT/$i.bin"; done
    start_server -c 100000
    for i in a b c; do http -o /dev/null "$(url "/$i.bin")"; done
    http -o /dev/null "$(url /a.bin)" # a is now the most recent; b the least
    http -o /dev/null "$(url /d.bin)" # evicts b
    local line
    line=$(cache_stats)
    [[ $(stat_field "$line" entries) == 3 && $(stat_field "$line" hits) == 1 && $(stat_field "$line" misses) == 4 ]] || false
    http -o /dev/null "$(url /a.bin)"
    [[ $(stat_field "$(cache_stats)" hits) == 2 ]] || false # a stayed
    http -o /dev/null "$(url /b.bin)"
    [[ $(stat_field "$(cache_stats)" misses) == 5 ]] || false # b was evicted
    for i in e f g h a b c d; do
        http -o /dev/null "$(url "/$i.bin")"
        line=$(cache_stats)
        (($(stat_field "$line" bytes) <= 100000)) || { echo "$line"; false; }
    done
}

@test "a file larger than the entry cap is streamed and not cached" {
    head -c $((3 * 1024 * 1024)) /dev/urandom >"$ROOT/big.bin"
    start_server
    http -o "$BATS_TEST_TMPDIR/big" "$(url /big.bin)"
    http -o "$BATS_TEST_TMPDIR/big" "$(url /big.bin)"
    cmp "$ROOT/big.bin" "$BATS_TEST_TMPDIR/big"
    local line
    line=$(cache_stats)
    [[ $(stat_field "$line" entries) == 0 && $(stat_field "$line" misses) == 2 ]] || false
}

@test "SIGHUP while 100 clients download cached files: every download byte-exact" {
    head -c $((1000 * 1000)) /dev/urandom >"$ROOT/one.bin"
    head -c 5000 /dev/urandom >"$ROOT/small.bin"
    start_server -q
    http -o /dev/null "$(url /one.bin)"
    http -o /dev/null "$(url /small.bin)"
    local args=() i
    for ((i = 0; i < 100; i++)); do
        if ((i % 2)); then args+=(-o "$BATS_TEST_TMPDIR/d$i" "$(url /one.bin)"); else args+=(-o "$BATS_TEST_TMPDIR/d$i" "$(url /small.bin)"); fi
    done
    CURL_TIME=60 http --parallel --parallel-immediate --parallel-max 100 --limit-rate 2M -f "${args[@]}" 3>&- &
    local load=$!
    for ((i = 0; i < 20; i++)); do kill -HUP "$SERVER_PID"; sleep 0.05; done
    wait "$load"
    for ((i = 0; i < 100; i++)); do
        if ((i % 2)); then cmp "$ROOT/one.bin" "$BATS_TEST_TMPDIR/d$i"; else cmp "$ROOT/small.bin" "$BATS_TEST_TMPDIR/d$i"; fi
    done
}

@test "SIGHUP every 2 ms during a load of 20000 requests: no request fails" {
    local i
    for i in 0 1 2 3 4 5 6 7 8 9; do head -c $((i * 1000 + 100)) /dev/urandom >"$ROOT/f$i.bin"; done
    start_server -q
    # curl's globbing makes the 20000 URLs (the server ignores the query string).
    CURL_TIME=120 http --parallel --parallel-max 20 -f -o /dev/null -w '%{http_code} %{size_download}\n' \
        "$(url)f[0-9].bin?n=[1-2000]" >"$BATS_TEST_TMPDIR/results" 3>&- &
    local load=$! sent
    # A signal interrupts whatever the server is doing (pselect, or a read or write while
    # the signals are blocked waits for the next pselect): every request meets some.
    sent=$(pelt HUP "$SERVER_PID" "$load")
    wait "$load"
    echo "SIGHUPs sent during the load: $sent"
    ((sent >= 100)) || false # (about 400 on an idle machine; fewer when it is busy)
    [[ $(grep -c '^200 ' "$BATS_TEST_TMPDIR/results") == 20000 ]] || false
    # Every size is one of the ten files' sizes.
    run -1 grep -vE '^200 ([0-9]?100)$' "$BATS_TEST_TMPDIR/results"
    kill -0 "$SERVER_PID"
}

@test "SIGHUP to an idle server empties the cache at once: no request needed to wake it" {
    printf 'old bytes\n' >"$ROOT/f.txt"
    start_server
    run -0 http "$(url /f.txt)"
    printf 'new bytes\n' >"$ROOT/f.txt"
    kill -HUP "$SERVER_PID"
    sleep 0.3
    # A loop that slept through the signal would wake for this request and answer it from
    # the cache before it looked at the flag the handler set.
    run -0 http "$(url /f.txt)"
    [[ $output == "new bytes" ]] || false
}

@test "SIGTERM mid-download: the download completes and the server exits 0" {
    head -c $((20 * 1024 * 1024)) /dev/urandom >"$ROOT/twenty.bin"
    start_server -q
    CURL_TIME=60 http --limit-rate 10M -o "$BATS_TEST_TMPDIR/twenty" "$(url /twenty.bin)" 3>&- &
    local download=$!
    sleep 0.5
    term_server 30
    wait "$download"
    cmp "$ROOT/twenty.bin" "$BATS_TEST_TMPDIR/twenty"
}

@test "-c takes a byte count; anything else is a usage error" {
    run -2 --separate-stderr "$(stage_dir)/server" -c lots
    [[ $stderr == *"-c lots"*usage:* ]] || false
    run -2 --separate-stderr "$(stage_dir)/server" -c -1
    [[ $stderr == *usage:* ]] || false
}

@test "SIGHUP during a load: the file as it was is not cached, and later clients get the new one" {
    SRC="$BATS_TEST_TMPDIR/src"
    mkdir -p "$SRC"
    printf 'old bytes\n' >"$SRC/f.txt"
    start_slowfs -d 1000 -m f.txt "$SRC"
    start_server -r "$MNT"
    # The first client's miss reads the file for 1 s...
    http -o "$BATS_TEST_TMPDIR/first" "$(url /f.txt)" 3>&- &
    local first=$!
    sleep 0.3
    # ...while the file is replaced (renamed over, as editors and deploys do) and the
    # cache flushed. The load under way still reads the old file: it must not be kept.
    printf 'new bytes\n' >"$SRC/f.txt.new"
    mv "$SRC/f.txt.new" "$SRC/f.txt"
    kill -HUP "$SERVER_PID"
    wait "$first"
    [[ $(cat "$BATS_TEST_TMPDIR/first") == "old bytes" ]] || false # it asked before the change
    run -0 http "$(url /f.txt)"
    [[ $output == "new bytes" ]] || { echo "after the SIGHUP the cache served: $output"; false; }
    run -0 http "$(url /f.txt)"
    [[ $output == "new bytes" ]] || false
}

# (Not under valgrind: its own memory would swamp the figure.)
# bats test_tags=nomemcheck
@test "-c bounds memory, loads included: 100 clients at once for a 1 MiB file load it once" {
    head -c $((1024 * 1024)) /dev/urandom >"$ROOT/one.bin"
    start_server -q -c $((2 * 1024 * 1024))
    http -o /dev/null "$(url /missing)" # a first request (404: nothing to cache)
    local before peak args=() i
    before=$(vm "$SERVER_PID" VmRSS)
    # At 4 MB/s each download takes a quarter of a second: the 100 misses overlap.
    for ((i = 0; i < 100; i++)); do args+=(-o "$BATS_TEST_TMPDIR/d$i" "$(url /one.bin)"); done
    CURL_TIME=60 run -0 http --parallel --parallel-immediate --parallel-max 100 --limit-rate 4M \
        -f "${args[@]}"
    for ((i = 0; i < 100; i++)); do cmp "$ROOT/one.bin" "$BATS_TEST_TMPDIR/d$i"; done
    peak=$(vm "$SERVER_PID" VmHWM)
    echo "RSS before: $before KiB, peak: $peak KiB (one 1 MiB load, 100 connections' buffers)"
    ((peak - before < 24 * 1024)) || false
    # Loaded once, and kept.
    local line
    line=$(cache_stats)
    echo "$line"
    [[ $(stat_field "$line" entries) == 1 ]] || false
    run -0 http -o /dev/null -w '%{http_code}' "$(url /one.bin)"
    [[ $(stat_field "$(cache_stats)" hits) -ge 1 ]] || false
}

@test "/x, //x and /./x are one file, and one cache entry" {
    printf 'one file\n' >"$ROOT/x.txt"
    start_server
    local t
    for t in /x.txt //x.txt /./x.txt /x.txt; do
        run -0 http --path-as-is "$(url "$t")"
        [[ $output == "one file" ]] || false
    done
    local line
    line=$(cache_stats)
    echo "$line"
    [[ $(stat_field "$line" entries) == 1 && $(stat_field "$line" misses) == 1 && $(stat_field "$line" hits) == 3 ]] || false
}

@test "every spelling of a file's path is one cache entry: escapes, dots, slashes, queries, its folder" {
    mkdir -p "$ROOT/d"
    printf 'one file\n' >"$ROOT/d/index.html"
    start_server -q
    local spellings=(/d/index.html /d/ /d// //d/ /./d/ /d/./ /%64/ /d/%69ndex.html /d/index%2ehtml
        /%2e/d/index.html /d/index.html?a=1 /d/?b=2 /.//d/.//index.html /%2F/d/index.html) args=() t
    for t in "${spellings[@]}"; do args+=(-o /dev/null -w '%{http_code} ' "$(url "$t")"); done
    run -0 http --path-as-is "${args[@]}"
    echo "statuses: $output"
    [[ $output == "$(printf '200 %.0s' "${spellings[@]}")" ]] || false
    local line
    line=$(cache_stats)
    echo "$line (${#spellings[@]} spellings)"
    [[ $(stat_field "$line" entries) == 1 && $(stat_field "$line" misses) == 1 ]] || false
}

@test "-c counts what an entry costs, not only the file's bytes: 2000 one-byte files with long names" {
    local name
    name=$(printf 'n%.0s' {1..200})
    # In bulk: a loop of 2000 steps in bats's shell takes seconds of the test's time.
    awk -v f="$ROOT/$name" 'BEGIN { for (i = 0; i < 2000; i++) { printf "x" >(f i); close(f i) } }'
    start_server -q -c 100000
    # One curl, one connection, 2000 requests: curl's URL glob.
    http -f "$(url "/$name")[0-1999]" >/dev/null
    local line
    line=$(cache_stats)
    echo "$line (-c 100000; each entry holds a name of over 200 bytes)"
    # Each entry holds its name: 2000 of them cannot fit in 100000 bytes.
    (($(stat_field "$line" entries) * 200 <= 100000)) || false
    (($(stat_field "$line" bytes) <= 100000)) || false
}
