/* http.c - request parsing and response heads for the lab's HTTP subset (see http.h). */
#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

size_t
http_head_len(const char *buf, size_t len)
{
    /* The head ends at an empty line: "\n\n", or "\n\r\n" with CRLF line ends. */
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* RFC 9110 token characters, as allowed in a method or a header name. */
static bool
is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Length of the line at p (without its "\n" or "\r\n"); *next is where the next line starts. */
static size_t
line_len(const char *p, const char *end, const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n;

    if (nl == NULL)
        nl = end;
    *next = nl < end ? nl + 1 : end;
    n = (size_t)(nl - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    return n;
}

/* Does the comma-separated header value v[0..n) list the token tok? */
static bool
has_token(const char *v, size_t n, const char *tok)
{
    size_t toklen = strlen(tok);

    while (n > 0) {
        while (n > 0 && (*v == ' ' || *v == '\t' || *v == ',')) {
            v++;
            n--;
        }
        size_t w = 0;
        while (w < n && v[w] != ',')
            w++;
        size_t t = w;
        while (t > 0 && (v[t - 1] == ' ' || v[t - 1] == '\t'))
            t--;
        if (t == toklen && strncasecmp(v, tok, toklen) == 0)
            return true;
        v += w;
        n -= w;
    }
    return false;
}

/* Copy the request line into req->line for the log, with unprintable bytes made '?'. */
static void
copy_line(struct http_request *req, const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n && i < sizeof req->line - 1; i++) {
        unsigned char c = (unsigned char)p[i];
        req->line[i] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
    }
    req->line[i] = '\0';
}

/* Parse "METHOD SP TARGET SP HTTP/1.x" of length n; 0 or 400. */
static int
parse_request_line(const char *p, size_t n, struct http_request *req)
{
    size_t i = 0, start;

    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= sizeof req->method || i == n || p[i] != ' ')
        return 400;
    memcpy(req->method, p, i);
    req->method[i] = '\0';

    start = ++i;
    while (i < n && (unsigned char)p[i] > ' ' && p[i] != 0x7f)
        i++;
    if (i == start || i == n || p[i] != ' ')
        return 400;
    memcpy(req->target, p + start, i - start);
    req->target[i - start] = '\0';

    i++;
    if (n - i != 8 || memcmp(p + i, "HTTP/1.", 7) != 0 || (p[i + 7] != '0' && p[i + 7] != '1'))
        return 400;
    req->minor = p[i + 7] - '0';
    return 0;
}

int
http_parse(const char *head, size_t len, struct http_request *req)
{
    const char *end = head + len, *p = head, *next;
    bool close = false, keep = false, body = false;
    size_t n;
    int status;

    memset(req, 0, sizeof *req);
    req->minor = 1;
    n = line_len(p, end, &next);
    copy_line(req, p, n);
    status = parse_request_line(p, n, req);
    if (status != 0)
        return status;

    /* Header lines, up to the empty line that ends the head. */
    for (p = next; p < end; p = next) {
        n = line_len(p, end, &next);
        if (n == 0)
            break;
        const char *colon = memchr(p, ':', n);
        size_t name = colon ? (size_t)(colon - p) : 0;
        for (size_t i = 0; i < name; i++)
            if (!is_tchar((unsigned char)p[i]))
                name = 0;
        if (name == 0) /* no colon, an empty name, or a folded line (starts with a space) */
            return 400;
        const char *v = colon + 1;
        size_t vlen = n - name - 1;
        if (name == 10 && strncasecmp(p, "Connection", 10) == 0) {
            close = close || has_token(v, vlen, "close");
            keep = keep || has_token(v, vlen, "keep-alive");
        } else if ((name == 14 && strncasecmp(p, "Content-Length", 14) == 0 &&
                    !has_token(v, vlen, "0")) ||
                   (name == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0)) {
            body = true;
        }
    }

    /* We never read request bodies, so after one we cannot find the next request: close. */
    req->keep_alive = !body && !close && (req->minor == 1 || keep);
    req->head = strcmp(req->method, "HEAD") == 0;
    if (!req->head && strcmp(req->method, "GET") != 0) {
        req->keep_alive = false;
        return 501;
    }
    return 0;
}

const char *
http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

size_t
http_head(char *buf, size_t size, const struct http_request *req, int status, const char *type,
          long long length)
{
    int minor = req ? req->minor : 1;
    bool keep = req ? req->keep_alive : false;
    int n;

    n = snprintf(buf, size,
                 "HTTP/1.%d %d %s\r\n"
                 "Content-Type: %s\r\n"
                 "Content-Length: %lld\r\n"
                 "Connection: %s\r\n"
                 "\r\n",
                 minor, status, http_reason(status), type, length, keep ? "keep-alive" : "close");
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

void
http_log(const char *peer, const char *line, int status, long long bytes)
{
    fprintf(stderr, "%s \"%s\" %d %lld\n", peer, line ? line : "-", status, bytes);
}
