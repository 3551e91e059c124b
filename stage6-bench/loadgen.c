/*
 * loadgen: the lab's HTTP load generator, itself an event loop (epoll).
 *
 * -c connections each send a request, wait for the whole response, check it and
 * send the next (a closed loop), for -d seconds or until -n responses came back.
 * Beside them, -s slow clients send their requests a byte every -S milliseconds,
 * and -i idle clients connect and send nothing: the two ways a client can hurt a
 * server without sending much.  Every response is checked (status 200, a
 * Content-Length, that many body bytes, and with -V the bytes themselves); every
 * failure is counted by kind and printed, never dropped.  Latency runs from the
 * moment a request is issued (its connect(), for a new connection) to the last
 * byte of its response, in a histogram with 1.6% wide buckets.
 *
 * One process holds thousands of connections: nothing here blocks, and epoll,
 * unlike select(), costs nothing per idle connection.  That is what lets it load
 * a server harder than the server loads it back.
 */
#define _GNU_SOURCE /* memmem */
#include "err.h"
#include "net.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define USAGE                                                                                      \
    "[-a ADDR] [-p PORT] [-c CONNS] [-d SECS | -n REQUESTS] [-C] [-V DIR] [-s SLOW]\n"             \
    "       [-S MS] [-i IDLE] [-T SECS] [-I MS -w FILE] [-L LABEL] [-o table|csv] [-H] PATH..."
#define MAX_CONNS 60000     /* all kinds together; the kernel's port range is ~28,000 a peer */
#define MAX_FILE (64 << 20) /* -V keeps each expected file in memory */
#define HEAD_MAX 1024       /* a response head longer than this is an error */
#define SCAN_NS 100000000LL /* timeouts are checked every 100 ms (other timers when due) */
#define RETRY_NS 10000000LL /* after a failure a connection waits 10 ms, so a dead server */
                            /* costs counted errors, not a spinning CPU */
#define SUB_BITS 6          /* histogram: 64 buckets per power of two, 1.6% wide */
#define HIST_SIZE (128 + 40 * 64)

enum kind { KIND_LOAD, KIND_SLOW, KIND_IDLE };

enum conn_state {
    CONN_WAITING,    /* no socket: (re)connect at due_ns */
    CONN_CONNECTING, /* connect() in progress */
    CONN_SENDING,    /* writing the request (a slow client: one byte at due_ns) */
    CONN_RECEIVING,  /* reading the response */
    CONN_HOLDING,    /* an idle client, connected, saying nothing */
};

enum error { ERR_CONNECT, ERR_CLOSED, ERR_STATUS, ERR_LENGTH, ERR_BYTES, ERR_TIMEOUT, N_ERR };
static const char *const error_names[N_ERR] = {"connect", "closed", "status",
                                               "length",  "bytes",  "timeout"};

struct target {
    const char *path;
    char *expect; /* -V: the file's bytes */
    long long size;
};

struct hist {
    long long count[HIST_SIZE];
    long long n, max_us;
    double sum_us;
};

struct conn {
    int fd;
    enum kind kind;
    enum conn_state state;
    bool reused;            /* a request was answered on this socket already */
    const struct target *t; /* what the current request asks for */
    size_t reqlen, reqpos;
    char req[512];
    char head[HEAD_MAX];
    size_t headlen;
    bool in_body, close_after;
    bool failed; /* an error is counted for the current request already: one per request */
    long long clen, got;
    long long start_ns, due_ns; /* request issued; next slow byte or retry */
};

static struct {
    struct sockaddr_storage sa;
    socklen_t salen;
    char host[ADDR_STRLEN];
    long conns, slow, idle, slow_ms, interval_ms;
    long long requests; /* -n, or 0 for a timed run */
    double secs, timeout_secs;
    bool new_conn, csv, no_header;
    const char *label, *verify, *series;
} opt = {.conns = 10, .slow_ms = 10, .secs = 5, .timeout_secs = 10, .label = "run"};

static struct target *targets;
static int n_targets, next_target;
static int ep = -1;
static struct conn *conns;
static int n_conns;
static long long next_scan; /* when scan_timers must run next */

static struct {
    struct hist load, slow, tick;
    long long ok, issued, bytes, slow_ok, idle_closed;
    long long errors[N_ERR], tick_errors;
} st;

/* Ask for scan_timers to run by time t, when c's timer is due. */
static void
set_due(struct conn *c, long long t)
{
    c->due_ns = t;
    if (t < next_scan)
        next_scan = t;
}

static long long
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Histogram bucket of a latency in microseconds: exact below 128, then 64 per octave. */
static int
hist_index(long long us)
{
    int e;

    if (us < 128)
        return (int)(us < 0 ? 0 : us);
    e = 63 - __builtin_clzll((unsigned long long)us); /* floor(log2(us)), at least 7 */
    if (e > 46)
        return HIST_SIZE - 1;
    return 128 + (e - 7) * 64 + (int)((us >> (e - SUB_BITS)) - 64);
}

/* The middle of bucket i, in microseconds. */
static double
hist_value(int i)
{
    int e, m;

    if (i < 128)
        return i;
    e = 7 + (i - 128) / 64;
    m = 64 + (i - 128) % 64;
    return ((double)m + 0.5) * (double)(1LL << (e - SUB_BITS));
}

static void
hist_add(struct hist *h, long long ns)
{
    long long us = ns / 1000;

    h->count[hist_index(us)]++;
    h->n++;
    h->sum_us += (double)us;
    if (us > h->max_us)
        h->max_us = us;
}

/* The latency (ms) below which a fraction p of the samples lie; 0 with no samples. */
static double
hist_ms(const struct hist *h, double p)
{
    long long want = (long long)ceil(p * (double)h->n), seen = 0;

    if (h->n == 0)
        return 0;
    if (want < 1)
        want = 1;
    for (int i = 0; i < HIST_SIZE; i++) {
        seen += h->count[i];
        if (seen >= want) {
            double v = hist_value(i);
            return (v > (double)h->max_us ? (double)h->max_us : v) / 1000;
        }
    }
    return (double)h->max_us / 1000;
}

/* Count error e against c's current request, unless one is counted already (a 500 with
 * no Content-Length is one failed request, not two). */
static void
count_error(struct conn *c, enum error e)
{
    if (c->failed)
        return;
    c->failed = true;
    st.errors[e]++;
    st.tick_errors++;
}

static void
watch(struct conn *c, int op, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};

    if (epoll_ctl(ep, op, c->fd, &ev) < 0)
        die_sys("epoll_ctl");
}

/* Drop the socket; connect again now (after a response with Connection: close) or later. */
static void
conn_reset(struct conn *c, long long retry_ns)
{
    if (c->fd >= 0)
        close(c->fd); /* also takes it out of the epoll set */
    c->fd = -1;
    c->state = CONN_WAITING;
    c->reused = false;
    set_due(c, now_ns() + retry_ns);
}

/* A request failed: count why, and start over on a new connection a little later. */
static void
conn_fail(struct conn *c, enum error e)
{
    if (c->kind != KIND_IDLE)
        count_error(c, e);
    conn_reset(c, RETRY_NS);
}

static bool
may_issue(void)
{
    return opt.requests == 0 || st.issued < opt.requests;
}

/* Write the next request into c->req and start sending it. */
static void
conn_request(struct conn *c)
{
    int n;

    c->t = &targets[next_target++ % n_targets];
    n = snprintf(c->req, sizeof c->req,
                 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: evlab-loadgen\r\n%s\r\n", c->t->path,
                 opt.host, opt.new_conn ? "Connection: close\r\n" : "");
    c->reqlen = (size_t)n < sizeof c->req ? (size_t)n : sizeof c->req - 1;
    c->reqpos = c->headlen = 0;
    c->in_body = c->close_after = c->failed = false;
    c->clen = -1;
    c->got = 0;
    c->state = CONN_SENDING;
    set_due(c, now_ns());
    if (c->kind == KIND_LOAD && c->reused)
        st.issued++; /* (on a new connection, conn_connect counted it) */
    /* A slow client's bytes go out on the timer; the others' as soon as there is room. */
    watch(c, EPOLL_CTL_MOD, c->kind == KIND_SLOW ? EPOLLIN : EPOLLOUT);
}

/* Open a non-blocking socket and start connecting. */
static void
conn_connect(struct conn *c)
{
    int one = 1;

    if (c->kind == KIND_LOAD && !may_issue()) {
        c->due_ns = LLONG_MAX; /* -n reached: nothing left to do, so no timer to wake for */
        return;
    }
    if (c->kind == KIND_LOAD)
        st.issued++; /* a request begins with its connection */
    c->failed = false;
    c->start_ns = now_ns();
    c->fd = socket(opt.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        conn_fail(c, ERR_CONNECT);
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&opt.sa, opt.salen) < 0 && errno != EINPROGRESS) {
        conn_fail(c, ERR_CONNECT); /* ECONNREFUSED, EADDRNOTAVAIL (ports used up) */
        return;
    }
    c->state = CONN_CONNECTING;
    watch(c, EPOLL_CTL_ADD, EPOLLOUT);
}

/* The connection is up: idle clients hold it, the others send a request. */
static void
conn_connected(struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
        conn_fail(c, ERR_CONNECT);
        return;
    }
    if (c->kind == KIND_IDLE) {
        c->state = CONN_HOLDING;
        watch(c, EPOLL_CTL_MOD, EPOLLIN); /* to notice the server closing it */
        return;
    }
    long long started = c->start_ns;
    conn_request(c);
    c->start_ns = started; /* a new connection's request began with its connect() */
}

/* Send what the socket takes of the request (a slow client: one byte). */
static void
conn_send(struct conn *c)
{
    size_t want = c->kind == KIND_SLOW ? 1 : c->reqlen - c->reqpos;
    ssize_t n = write(c->fd, c->req + c->reqpos, want);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) {
        conn_fail(c, ERR_CLOSED);
        return;
    }
    if (c->reqpos == 0 && c->reused)
        c->start_ns = now_ns();
    c->reqpos += (size_t)n;
    if (c->reqpos < c->reqlen) {
        set_due(c, now_ns() + opt.slow_ms * 1000000LL);
        return;
    }
    c->state = CONN_RECEIVING;
    watch(c, EPOLL_CTL_MOD, EPOLLIN);
}

/* The head is complete in c->head[0..len): check the status, find the length. */
static void
parse_head(struct conn *c, size_t len)
{
    const char *p = c->head, *end = c->head + len;
    int status = 0;

    if (len < 12 || strncmp(p, "HTTP/1.", 7) != 0 || sscanf(p + 9, "%3d", &status) != 1)
        status = -1;
    if (status != 200)
        count_error(c, ERR_STATUS);
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL && ++p < end) {
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            c->clen = strtoll(p + 15, NULL, 10);
        else if (strncasecmp(p, "Connection:", 11) == 0)
            c->close_after = strncasecmp(p + 11 + strspn(p + 11, " \t"), "close", 5) == 0;
    }
    c->in_body = true;
    if (status != 200)
        c->t = NULL; /* its body is an error text: count it, do not compare it */
}

/* One response is complete: record it and go on. */
static void
conn_done(struct conn *c)
{
    long long now = now_ns();

    if (!c->failed) {
        if (c->kind == KIND_LOAD) {
            st.ok++;
            st.bytes += c->got;
            hist_add(&st.load, now - c->start_ns);
            hist_add(&st.tick, now - c->start_ns);
        } else {
            st.slow_ok++;
            hist_add(&st.slow, now - c->start_ns);
        }
    }
    c->reused = true;
    if (c->close_after || opt.new_conn) {
        conn_reset(c, 0);
        conn_connect(c);
    } else if (c->kind == KIND_LOAD && !may_issue()) {
        conn_reset(c, 1000000000LL * 3600); /* -n reached: this one is done */
    } else {
        conn_request(c);
    }
}

/* Take what the server sent: the head, then Content-Length bytes of body. */
static void
conn_receive(struct conn *c)
{
    char buf[65536];
    ssize_t n = read(c->fd, buf, sizeof buf);
    size_t used = 0;

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (c->state == CONN_HOLDING) {
        /* An idle client hears only the server giving up on it (or a 503). */
        st.idle_closed++;
        conn_reset(c, RETRY_NS);
        return;
    }
    if (n <= 0 || c->state != CONN_RECEIVING) {
        conn_fail(c, ERR_CLOSED); /* closed or reset before the response was complete */
        return;
    }
    while (used < (size_t)n) {
        if (!c->in_body) {
            size_t take = (size_t)n - used, room = sizeof c->head - c->headlen;
            char *stop;
            if (take > room)
                take = room;
            memcpy(c->head + c->headlen, buf + used, take);
            c->headlen += take;
            stop = memmem(c->head, c->headlen, "\r\n\r\n", 4);
            if (stop == NULL) {
                if (c->headlen == sizeof c->head) {
                    conn_fail(c, ERR_LENGTH);
                    return;
                }
                return;
            }
            size_t headlen = (size_t)(stop + 4 - c->head);
            used += take - (c->headlen - headlen); /* the rest of buf is body */
            c->headlen = headlen;
            parse_head(c, headlen);
            if (c->clen < 0) {
                conn_fail(c, ERR_LENGTH); /* the lab's servers always send one */
                return;
            }
        } else {
            size_t take = (size_t)n - used;
            if ((long long)take > c->clen - c->got) {
                conn_fail(c, ERR_LENGTH); /* more than Content-Length, or unasked-for bytes */
                return;
            }
            if (c->t != NULL && c->t->expect != NULL &&
                (c->clen != c->t->size || memcmp(buf + used, c->t->expect + c->got, take) != 0)) {
                count_error(c, ERR_BYTES);
                c->t = NULL; /* compare no more of it */
            }
            c->got += (long long)take;
            used += take;
        }
    }
    if (c->in_body && c->got == c->clen)
        conn_done(c);
}

/*
 * Timers: slow clients' next byte, reconnects after a failure, responses that never
 * come.  Returns when the next one is due, so the loop sleeps no longer than that.
 */
static long long
scan_timers(long long now)
{
    long long limit = (long long)(opt.timeout_secs * 1e9), next = now + SCAN_NS;

    for (int i = 0; i < n_conns; i++) {
        struct conn *c = &conns[i];
        if (c->state == CONN_WAITING && now >= c->due_ns)
            conn_connect(c);
        else if (c->state == CONN_SENDING && c->kind == KIND_SLOW && now >= c->due_ns)
            conn_send(c);
        else if ((c->state == CONN_CONNECTING || c->state == CONN_SENDING ||
                  c->state == CONN_RECEIVING) &&
                 now - c->start_ns > limit)
            conn_fail(c, ERR_TIMEOUT);
        if ((c->state == CONN_WAITING || (c->state == CONN_SENDING && c->kind == KIND_SLOW)) &&
            c->due_ns < next)
            next = c->due_ns;
    }
    return next;
}

static void
on_event(struct conn *c, uint32_t events)
{
    if (c->fd < 0)
        return; /* closed earlier in this same batch of events */
    switch (c->state) {
    case CONN_CONNECTING: conn_connected(c); break;
    case CONN_SENDING:
        if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
            conn_receive(c); /* an answer (say a 400, or a close) before we finished */
        else
            conn_send(c);
        break;
    case CONN_RECEIVING:
    case CONN_HOLDING: conn_receive(c); break;
    case CONN_WAITING: break;
    }
}

/* Read DIR/PATH (without a query string) for -V. */
static void
load_expected(struct target *t)
{
    char name[4096];
    struct stat sb;
    FILE *f;
    int n = snprintf(name, sizeof name, "%s/%.*s", opt.verify, (int)strcspn(t->path, "?"), t->path);

    if (n < 0 || (size_t)n >= sizeof name)
        die("-V: path too long: %s", t->path);
    if ((f = fopen(name, "rb")) == NULL || fstat(fileno(f), &sb) < 0)
        die_sys("-V: %s", name);
    if (S_ISDIR(sb.st_mode) || sb.st_size > MAX_FILE)
        die("-V: %s: a directory, or larger than %d MiB", name, MAX_FILE >> 20);
    t->size = sb.st_size;
    if ((t->expect = malloc((size_t)sb.st_size + 1)) == NULL)
        die_sys("malloc");
    if (fread(t->expect, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size)
        die("-V: %s: short read", name);
    fclose(f);
}

static long long
total_errors(void)
{
    long long n = 0;

    for (int e = 0; e < N_ERR; e++)
        n += st.errors[e];
    return n;
}

static void
report(double secs)
{
    const struct hist *h = &st.load;
    long long errors = total_errors();
    long idle_held = 0;

    for (int i = 0; i < n_conns; i++)
        idle_held += conns[i].kind == KIND_IDLE && conns[i].state == CONN_HOLDING;
    if (opt.csv) {
        if (!opt.no_header)
            printf("label,conns,new_conn,slow,idle,secs,requests,rps,mib_s,mean_ms,p50_ms,"
                   "p90_ms,p99_ms,p999_ms,max_ms,errors,err_connect,err_closed,err_status,"
                   "err_length,err_bytes,err_timeout,slow_requests,slow_p99_ms,idle_held\n");
        printf("%s,%ld,%d,%ld,%ld,%.3f,%lld,%.1f,%.2f", opt.label, opt.conns, opt.new_conn,
               opt.slow, opt.idle, secs, st.ok, (double)st.ok / secs,
               (double)st.bytes / secs / 1048576);
        /* No response, no latency: empty fields, not a zero that reads as "fast". */
        if (h->n > 0)
            printf(",%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%lld", h->sum_us / (double)h->n / 1000,
                   hist_ms(h, 0.5), hist_ms(h, 0.9), hist_ms(h, 0.99), hist_ms(h, 0.999),
                   (double)h->max_us / 1000, errors);
        else
            printf(",,,,,,,%lld", errors);
        for (int e = 0; e < N_ERR; e++)
            printf(",%lld", st.errors[e]);
        if (st.slow.n > 0)
            printf(",%lld,%.3f,%ld\n", st.slow_ok, hist_ms(&st.slow, 0.99), idle_held);
        else
            printf(",%lld,,%ld\n", st.slow_ok, idle_held);
        return;
    }
    printf("%s: %ld connection%s (%s), %.2f s\n", opt.label, opt.conns, opt.conns == 1 ? "" : "s",
           opt.new_conn ? "a new one per request" : "keep-alive", secs);
    printf("  requests  %lld, %.1f/s, %.2f MiB/s\n", st.ok, (double)st.ok / secs,
           (double)st.bytes / secs / 1048576);
    if (h->n > 0)
        printf("  latency   p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms\n",
               hist_ms(h, 0.5), hist_ms(h, 0.9), hist_ms(h, 0.99), hist_ms(h, 0.999),
               (double)h->max_us / 1000);
    else
        printf("  latency   (no response came back)\n");
    printf("  errors    %lld", errors);
    for (int e = 0; e < N_ERR; e++)
        printf("%s%s %lld", e == 0 ? " (" : ", ", error_names[e], st.errors[e]);
    printf(")\n");
    if (opt.slow > 0)
        printf("  slow      %ld clients (a byte every %ld ms): %lld requests, p99 %.3f ms\n",
               opt.slow, opt.slow_ms, st.slow_ok, hist_ms(&st.slow, 0.99));
    if (opt.idle > 0)
        printf("  idle      %ld clients: %ld connected at the end, %lld closed by the server\n",
               opt.idle, idle_held, st.idle_closed);
}

/* Parse a decimal number of seconds (fractions allowed) in (0, max]. */
static double
arg_secs(const char *flag, const char *arg, double max)
{
    char *end;
    double v = strtod(arg, &end);

    if (end == arg || *end != '\0' || !(v > 0 && v <= max))
        die_usage("%s: not a number of seconds from 0 to %g: %s", flag, max, arg);
    return v;
}

int
main(int argc, char *argv[])
{
    const char *addr = "127.0.0.1";
    long port = 8080;
    FILE *series = NULL;
    int o;

    err_init(argv[0], USAGE);
    while ((o = getopt(argc, argv, "a:p:c:d:n:CV:s:S:i:T:I:w:L:o:Hh")) != -1) {
        switch (o) {
        case 'a': addr = optarg; break;
        case 'p': port = arg_long("-p", optarg, 1, 65535); break;
        case 'c': opt.conns = arg_long("-c", optarg, 0, MAX_CONNS); break;
        case 'd': opt.secs = arg_secs("-d", optarg, 3600); break;
        case 'n': opt.requests = arg_long("-n", optarg, 1, 1000000000); break;
        case 'C': opt.new_conn = true; break;
        case 'V': opt.verify = optarg; break;
        case 's': opt.slow = arg_long("-s", optarg, 0, MAX_CONNS); break;
        case 'S': opt.slow_ms = arg_long("-S", optarg, 1, 10000); break;
        case 'i': opt.idle = arg_long("-i", optarg, 0, MAX_CONNS); break;
        case 'T': opt.timeout_secs = arg_secs("-T", optarg, 3600); break;
        case 'I': opt.interval_ms = arg_long("-I", optarg, 10, 60000); break;
        case 'w': opt.series = optarg; break;
        case 'L': opt.label = optarg; break;
        case 'o':
            if (strcmp(optarg, "csv") != 0 && strcmp(optarg, "table") != 0)
                die_usage("-o: table or csv, not %s", optarg);
            opt.csv = strcmp(optarg, "csv") == 0;
            break;
        case 'H': opt.no_header = true; break;
        case 'h': print_usage(); return 0;
        default: die_usage("unknown flag or missing argument");
        }
    }
    if (optind == argc && opt.conns + opt.slow > 0)
        die_usage("no PATH to request");
    if (opt.conns + opt.slow + opt.idle == 0 || opt.conns + opt.slow + opt.idle > MAX_CONNS)
        die_usage("-c, -s and -i together: 1 to %d connections", MAX_CONNS);
    if ((opt.interval_ms > 0) != (opt.series != NULL))
        die_usage("-I and -w go together");
    if (addr_parse(addr, (int)port, &opt.sa, &opt.salen) < 0)
        die_usage("-a %s: not an IPv4 or IPv6 address", addr);
    addr_format(&opt.sa, opt.host, sizeof opt.host);

    n_targets = argc - optind;
    if (n_targets > 0 && (targets = calloc((size_t)n_targets, sizeof *targets)) == NULL)
        die_sys("calloc");
    for (int i = 0; i < n_targets; i++) {
        targets[i].path = argv[optind + i];
        if (targets[i].path[0] != '/' || strpbrk(targets[i].path, " \r\n") != NULL)
            die_usage("PATH must start with / and hold no spaces: %s", targets[i].path);
        if (opt.verify != NULL)
            load_expected(&targets[i]);
    }
    if (opt.series != NULL && (series = fopen(opt.series, "w")) == NULL)
        die_sys("-w %s", opt.series);
    if (series != NULL)
        fprintf(series, "t_s,requests,rps,errors,p50_ms,p99_ms,max_ms\n");

    signal(SIGPIPE, SIG_IGN); /* a server that hangs up costs a counted error, not loadgen */
    if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        die_sys("epoll_create1");
    n_conns = (int)(opt.conns + opt.slow + opt.idle);
    if ((conns = calloc((size_t)n_conns, sizeof *conns)) == NULL)
        die_sys("calloc");
    next_scan = now_ns();
    /* Idle clients first, so that the load meets them already in place. */
    for (int i = 0; i < n_conns; i++) {
        conns[i].fd = -1;
        conns[i].kind = i < opt.idle ? KIND_IDLE : i < opt.idle + opt.slow ? KIND_SLOW : KIND_LOAD;
        conn_connect(&conns[i]);
    }

    long long start = now_ns(), now = start, next_tick = start;
    long long end =
        opt.requests ? start + 3600 * 1000000000LL : start + (long long)(opt.secs * 1e9);
    long long tick_ok = 0;
    struct epoll_event events[256];
    if (opt.interval_ms > 0)
        next_tick = start + opt.interval_ms * 1000000LL;
    while (now < end && (opt.requests == 0 || st.ok + total_errors() < opt.requests)) {
        long long wake = next_scan < end ? next_scan : end;
        if (opt.interval_ms > 0 && next_tick < wake)
            wake = next_tick;
        int ms = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
        int n = epoll_wait(ep, events, 256, ms);
        if (n < 0 && errno != EINTR)
            die_sys("epoll_wait");
        for (int i = 0; i < n; i++)
            on_event(events[i].data.ptr, events[i].events);
        now = now_ns();
        if (now >= next_scan)
            next_scan = scan_timers(now);
        if (series != NULL && now >= next_tick) {
            double t = (double)(now - start) / 1e9, dt = opt.interval_ms / 1000.0;
            fprintf(series, "%.3f,%lld,%.1f,%lld,%.3f,%.3f,%.3f\n", t, st.ok - tick_ok,
                    (double)(st.ok - tick_ok) / dt, st.tick_errors, hist_ms(&st.tick, 0.5),
                    hist_ms(&st.tick, 0.99), (double)st.tick.max_us / 1000);
            memset(&st.tick, 0, sizeof st.tick);
            st.tick_errors = 0;
            tick_ok = st.ok;
            next_tick += opt.interval_ms * 1000000LL;
        }
    }
    /* Requests still in flight at the end are neither successes nor errors. */
    report((double)(now - start) / 1e9);
    if (series != NULL)
        fclose(series);
    for (int i = 0; i < n_conns; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    for (int i = 0; i < n_targets; i++)
        free(targets[i].expect);
    free(targets);
    free(conns);
    close(ep);
    return 0;
}
