/*
 * http.c - request framing for the lab's HTTP subset (see http.h), by RFC 9112.
 *
 * Strict on purpose: a server and whatever sits in front of it (a proxy, a cache)
 * must agree on where each request ends, or a client can hide a second request
 * inside the first (request smuggling).  So anything the RFC calls invalid is
 * refused with 400 and a close, never guessed at.
 */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

/* The parts of the head that decide how the request is framed and answered. */
struct fields {
    int hosts;        /* Host lines seen */
    bool host_ok;     /* the (last) Host value is a valid host[:port] */
    int lengths;      /* Content-Length lines seen */
    long long length; /* the value of the one Content-Length, or -1 if invalid */
    bool chunked;     /* a Transfer-Encoding line was seen (any coding) */
    bool close, keep; /* Connection lists "close", "keep-alive" */
};

/* Length of the empty lines (CRLF or LF) at the start of buf: clients may send some
 * between requests, and RFC 9112 2.2 asks us to skip them. */
static size_t
empty_lines(const char *buf, size_t len)
{
    size_t i = 0;

    for (;;) {
        if (i < len && buf[i] == '\n')
            i += 1;
        else if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
            i += 2;
        else
            return i;
    }
}

size_t
http_head_len(const char *buf, size_t len)
{
    /* The head ends at an empty line: "\n\n", or "\n\r\n" with CRLF line ends. */
    for (size_t i = empty_lines(buf, len); i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* A letter or a digit of ASCII (isalnum() would follow the locale). */
static bool
is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 9110 token characters, as allowed in a method or a header name. */
static bool
is_tchar(unsigned char c)
{
    return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
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

/* Is v[0..n) a host[:port] (RFC 3986): [IPv6], or a reg-name (IPv4 is one), then up to
 * five digits of port?  No user info, no path, not empty; and no comma, which RFC 3986
 * would allow, but which is how two Host values read when joined into one. */
static bool
valid_authority(const char *v, size_t n)
{
    size_t i = 0;

    if (n > 0 && v[0] == '[') {
        char ip[INET6_ADDRSTRLEN];
        struct in6_addr a;
        const char *close = memchr(v, ']', n);
        size_t iplen = close ? (size_t)(close - v) - 1 : 0;
        if (iplen == 0 || iplen >= sizeof ip)
            return false;
        memcpy(ip, v + 1, iplen);
        ip[iplen] = '\0';
        if (inet_pton(AF_INET6, ip, &a) != 1)
            return false;
        i = iplen + 2;
    } else {
        /* reg-name: unreserved, sub-delims (but ',') and %XX escapes. */
        while (i < n && v[i] != ':') {
            unsigned char c = (unsigned char)v[i];
            if (c == '%' && i + 2 < n && isxdigit((unsigned char)v[i + 1]) &&
                isxdigit((unsigned char)v[i + 2]))
                i += 3;
            else if (is_alnum(c) || (c != '\0' && strchr("-._~!$&'()*+;=", c) != NULL))
                i++;
            else
                return false;
        }
        if (i == 0)
            return false;
    }
    if (i == n)
        return true;
    if (v[i] != ':' || n - i - 1 > 5)
        return false;
    for (i++; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return true;
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

/* Parse "METHOD SP TARGET SP HTTP/D.D" of length n; 0, 400, or 505 (another major version). */
static int
parse_request_line(const char *p, size_t n, struct http_request *req)
{
    size_t i = 0, start;

    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i == n || p[i] != ' ')
        return 400;
    /* A method too long for req->method is none we implement: keep enough to say so. */
    memcpy(req->method, p, i < sizeof req->method ? i : sizeof req->method - 1);
    req->head = strcmp(req->method, "HEAD") == 0; /* even an error answers HEAD with no body */

    /* The target: printable ASCII only (RFC 9112 3.2; a byte above 0x7e is not). */
    start = ++i;
    while (i < n && (unsigned char)p[i] > ' ' && (unsigned char)p[i] < 0x7f)
        i++;
    if (i == start || i == n || p[i] != ' ')
        return 400;
    memcpy(req->target, p + start, i - start);
    req->target[i - start] = '\0';

    /* HTTP-version = "HTTP/" DIGIT "." DIGIT: 1.0 and 1.1 as sent, a later 1.x as 1.1. */
    p += i + 1;
    n -= i + 1;
    if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || !isdigit((unsigned char)p[5]) || p[6] != '.' ||
        !isdigit((unsigned char)p[7]))
        return 400;
    if (p[5] != '1')
        return 505;
    req->minor = p[7] == '0' ? 0 : 1;
    return 0;
}

/* Turn an absolute-form target ("http://host:port/path?q") into its origin form
 * ("/path?q"), as RFC 9112 3.2.2 has a server use it; 0, or 400 if it is neither. */
static int
origin_form(char *target)
{
    size_t scheme, auth;
    char *rest;

    if (target[0] == '/')
        return 0;
    if (strncasecmp(target, "http://", 7) == 0)
        scheme = 7;
    else if (strncasecmp(target, "https://", 8) == 0)
        scheme = 8;
    else
        return 400; /* "*", "host:port", another scheme: not for GET or HEAD */
    auth = strcspn(target + scheme, "/?");
    if (!valid_authority(target + scheme, auth))
        return 400;
    rest = target + scheme + auth;
    if (*rest == '/') {
        memmove(target, rest, strlen(rest) + 1);
    } else { /* "http://host" or "http://host?q": the path is "/" */
        memmove(target + 1, rest, strlen(rest) + 1);
        target[0] = '/';
    }
    return 0;
}

/* Take in the header line p[0..n): 0, or 400 if it is not a valid field line. */
static int
parse_field(const char *p, size_t n, struct fields *f)
{
    const char *colon = memchr(p, ':', n);
    size_t name = colon ? (size_t)(colon - p) : 0, i;

    /* A token, right up to the colon: no empty name, no space before the colon (RFC 9112
     * 5.1), and no leading space, which would make this line a fold of the one before. */
    if (name == 0)
        return 400;
    for (i = 0; i < name; i++)
        if (!is_tchar((unsigned char)p[i]))
            return 400;
    /* The value: tab, visible ASCII and obs-text; no NUL, CR or other control byte. */
    const char *v = colon + 1;
    size_t vlen = n - name - 1;
    for (i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 400;
    }
    while (vlen > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;

    if (name == 4 && strncasecmp(p, "Host", 4) == 0) {
        f->hosts++;
        f->host_ok = valid_authority(v, vlen);
    } else if (name == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
        /* One run of digits: "5, 5", "+5" or "5 5" would let two parsers disagree. */
        f->lengths++;
        f->length = vlen > 0 ? 0 : -1;
        for (i = 0; i < vlen && f->length >= 0; i++) {
            int d = v[i] - '0';
            if (d < 0 || d > 9 || f->length > (LLONG_MAX - d) / 10)
                f->length = -1;
            else
                f->length = f->length * 10 + d;
        }
    } else if (name == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
        f->chunked = true;
    } else if (name == 10 && strncasecmp(p, "Connection", 10) == 0) {
        f->close = f->close || has_token(v, vlen, "close");
        f->keep = f->keep || has_token(v, vlen, "keep-alive");
    }
    return 0;
}

int
http_parse(const char *head, size_t len, struct http_request *req)
{
    const char *end = head + len, *p = head + empty_lines(head, len), *next;
    struct fields f = {0};
    size_t n;
    int status;

    /* Not memset: target alone is 8 KiB, and every request passes here. */
    memset(req->method, 0, sizeof req->method);
    req->target[0] = '\0';
    req->minor = 1;
    req->head = req->keep_alive = false;
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
        if (parse_field(p, n, &f) != 0)
            return 400;
    }

    /* RFC 9112 3.2: one valid Host, required from HTTP/1.1 on. */
    if (f.hosts > 1 || (f.hosts == 1 && !f.host_ok) || (f.hosts == 0 && req->minor == 1))
        return 400;
    /* RFC 9112 6.3: a body's length must be beyond doubt, or the request is refused. */
    if (f.lengths > 1 || (f.lengths == 1 && f.length < 0) || (f.lengths == 1 && f.chunked))
        return 400;
    if (f.chunked || (!req->head && strcmp(req->method, "GET") != 0))
        return 501;
    if (origin_form(req->target) != 0)
        return 400;

    /* We never read a request body, so we could not tell where the request after one
     * starts: a body byte read as a request is how requests are smuggled.  Answer, close.
     * (A Transfer-Encoding body was refused above; Content-Length 0 is no body.) */
    bool body = f.length > 0;
    req->keep_alive = !body && !f.close && (req->minor == 1 || f.keep);
    return 0;
}
