/*
 * http.h - framing for the small subset of HTTP/1.1 the lab speaks.
 *
 *   n = http_head_len(buf, len)        0 until a whole request head is in buf
 *   status = http_parse(buf, n, &req)  0, or the error to answer (400, 501, 505)
 *   len = http_head(out, size, &req, 200, "text/plain", body_len)
 *   len = http_error(out, size, &req, 404)    head and a short text body
 *   len = http_redirect_dir(out, size, &req)  301 from "/docs?q" to "/docs/?q"
 *   http_log(peer, req.line, status, bytes_sent)  the per-request log line
 *   type = http_content_type("a/b.html")   "text/html", by the name's extension
 *   status = http_open_status(errno)       a failed open(): 404, 403, 503 or 500
 *
 * http_parse is strict (RFC 9112): one valid Host, one plain Content-Length, no
 * Transfer-Encoding, clean header lines.  req.keep_alive is false after any error
 * and after a request with a body, which is never read: the next request could
 * not be found, so the connection must close.  A 503 always says close.  Where no
 * request could be parsed (431, 503), pass NULL for req: the answer is then
 * HTTP/1.1 with "Connection: close".  Every head carries Date.  Reading and
 * writing the bytes is each stage's own lesson, so nothing here does I/O on a
 * socket.
 */
#ifndef EVLAB_HTTP_H
#define EVLAB_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_HEAD 8192         /* spec: a longer request head gets 431 */
#define HTTP_MAX_RESPONSE_HEAD 256 /* room for any head http_head writes (~190 at most) */
#define HTTP_LOG_LINE 128          /* room for a request line as it is logged */

struct http_request {
    char method[16];            /* "GET", "HEAD", or whatever else was sent (cut to fit) */
    char target[HTTP_MAX_HEAD]; /* "/path?query" (absolute-form made so), not yet decoded */
    int minor;                  /* 0 for HTTP/1.0, 1 for HTTP/1.1 (and a later 1.x) */
    bool head;                  /* HEAD: answer with the head only */
    bool keep_alive;            /* version and Connection header allow another request */
    char line[HTTP_LOG_LINE];   /* the request line, printable, for the log */
};

/* Length of the request head at the start of buf (empty lines before it included), through
 * the empty line that ends it; 0 if not all here. */
size_t http_head_len(const char *buf, size_t len);

/* Parse the head of length len into *req; 0 for a GET or HEAD we answer, else 400, 501 or 505. */
int http_parse(const char *head, size_t len, struct http_request *req);

/* The reason phrase of a status code ("Not Found"). */
const char *http_reason(int status);

/* Write a response head for req (NULL: none parsed) into buf; returns its length. */
size_t http_head(char *buf, size_t size, const struct http_request *req, int status,
                 const char *type, long long length);

/* Write a whole error response (head and a one-line body, unless HEAD); returns its length. */
size_t http_error(char *buf, size_t size, const struct http_request *req, int status);

/* Write a whole 301 answer sending req's target to the same path with a '/' added (a
 * folder named without its slash); size must leave room for the target (HTTP_MAX_HEAD). */
size_t http_redirect_dir(char *buf, size_t size, const struct http_request *req);

/* Log 'peer "request line" status bytes' to stderr (line NULL: none was parsed). */
void http_log(const char *peer, const char *line, int status, long long bytes);

/* The Content-Type of a file, by the extension of its name ("application/octet-stream"
 * for any other). */
const char *http_content_type(const char *name);

/* The status to answer when opening a file failed with err: 404 (no such file), 403 (not
 * allowed, or outside the root: EXDEV), 503 (out of descriptors), else 500. */
int http_open_status(int err);

#endif
