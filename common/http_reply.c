/* http_reply.c - response heads, error answers, the log line, and what to answer
 * for a file: its type, or why it could not be opened (see http.h). */
#include "http.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define ADDR_ROOM 64 /* a peer's "[IPv6]:port", as net.h's ADDR_STRLEN */

const char *
http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/*
 * The time now as RFC 9110's IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", for the
 * Date header.  Every response needs it and the second rarely changes between two, so
 * it is formatted at most once a second; per thread (_Thread_local), because the
 * thread server answers from many threads at once.  Names written out, not strftime's
 * %a and %b, which follow the locale.
 */
static const char *
http_date(void)
{
    static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static _Thread_local char date[40];
    static _Thread_local time_t formatted = -1;
    time_t now = time(NULL);
    struct tm tm;

    if (now != formatted && gmtime_r(&now, &tm) != NULL) {
        snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
        formatted = now;
    }
    return date;
}

size_t
http_head(char *buf, size_t size, const struct http_request *req, int status, const char *type,
          long long length)
{
    int minor = req ? req->minor : 1;
    bool keep = req != NULL && req->keep_alive && status != 503; /* 503: we are full, go */
    int n;

    n = snprintf(buf, size,
                 "HTTP/1.%d %d %s\r\n"
                 "Date: %s\r\n"
                 "Content-Type: %s\r\n"
                 "Content-Length: %lld\r\n"
                 "Connection: %s\r\n"
                 "\r\n",
                 minor, status, http_reason(status), http_date(), type, length,
                 keep ? "keep-alive" : "close");
    if (n < 0)
        return 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}

size_t
http_error(char *buf, size_t size, const struct http_request *req, int status)
{
    char body[64];
    int blen = snprintf(body, sizeof body, "%d %s\n", status, http_reason(status));
    size_t n = http_head(buf, size, req, status, "text/plain", blen);

    if (req && req->head)
        return n;
    n += (size_t)snprintf(buf + n, size - n, "%s", body);
    return n < size ? n : size - 1;
}

size_t
http_redirect_dir(char *buf, size_t size, const struct http_request *req)
{
    static const char body[] = "301 Moved Permanently\n";
    size_t path = strcspn(req->target, "?");
    size_t n = http_head(buf, size, req, 301, "text/plain", (long long)sizeof body - 1);
    int more;

    /* The head ends with its empty line: Location goes just before it.  The target holds
     * printable ASCII only (http_parse saw to it): nothing in it can end the header. */
    if (n < 4)
        return n;
    n -= 2;
    more = snprintf(buf + n, size - n, "Location: %.*s/%s\r\n\r\n%s", (int)path, req->target,
                    req->target + path, req->head ? "" : body);
    if (more < 0)
        return 0;
    n += (size_t)more;
    return n < size ? n : size - 1;
}

/*
 * A log line must never stop the server.  stderr may be a pipe nobody reads (a crashed
 * logger, a terminal scrolled back with Ctrl-S): once it is full, write() would wait, and
 * in an event loop every client with it.  So write a line only when poll() says stderr
 * takes it now (a line of at most PIPE_BUF bytes then goes whole, in one write()), else
 * drop it and count it, and say how many went before the next line that gets through.
 * The lock: the thread server logs from many threads.
 */
void
http_log(const char *peer, const char *line, int status, long long bytes)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static unsigned long dropped;
    struct pollfd err = {.fd = STDERR_FILENO, .events = POLLOUT};
    char buf[HTTP_LOG_LINE + ADDR_ROOM + 64], note[96];
    int n =
        snprintf(buf, sizeof buf, "%s \"%s\" %d %lld\n", peer, line ? line : "-", status, bytes);

    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    pthread_mutex_lock(&lock);
    if (poll(&err, 1, 0) == 1 && (err.revents & POLLOUT) != 0) {
        if (dropped > 0) {
            int k = snprintf(note, sizeof note,
                             "(%lu log lines dropped: stderr was not taking them)\n", dropped);
            if (write(STDERR_FILENO, note, (size_t)k) == k)
                dropped = 0;
        }
        if (write(STDERR_FILENO, buf, (size_t)n) != n)
            dropped++;
    } else {
        dropped++;
    }
    pthread_mutex_unlock(&lock);
}

const char *
http_content_type(const char *name)
{
    static const char *const types[][2] = {
        {"html", "text/html"}, {"htm", "text/html"},      {"txt", "text/plain"},
        {"css", "text/css"},   {"js", "text/javascript"}, {"json", "application/json"},
        {"png", "image/png"},  {"jpg", "image/jpeg"},     {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},  {"svg", "image/svg+xml"},  {"pdf", "application/pdf"},
    };
    const char *dot = strrchr(name, '.');

    if (dot != NULL && strchr(dot, '/') == NULL) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i][0]) == 0)
                return types[i][1];
    }
    return "application/octet-stream";
}

int
http_open_status(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG: return 404;
    case EACCES:
    case EPERM:
    case ENXIO: /* a UNIX socket: nothing to open for reading */
    case EXDEV: /* the path leads out of the root */
    case ELOOP: return 403;
    case EMFILE:
    case ENFILE: return 503;
    default: return 500;
    }
}
