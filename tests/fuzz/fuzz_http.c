/*
 * libFuzzer harness for common/http.c: whatever bytes a client sends, finding the end
 * of each head, parsing it and writing an answer never crash, never overflow, and the
 * parser only ever answers 0, 400, 501 or 505.
 *
 * And no desync: the bytes are taken as a server takes a pipelined stream (a head, the
 * next head after it while the connection is kept alive).  A connection is only kept
 * alive after a head that a deliberately loose reference reading finds no body in, so
 * no body byte is ever parsed as a request, however the framing headers are spelled.
 */
#include "http.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Does the name (any case, spaces around it) of the line p[0..n) equal want? */
static int
named(const char *p, size_t n, const char *want, const char **value, size_t *vlen)
{
    const char *colon = memchr(p, ':', n);
    size_t len = strlen(want), a = 0, b;

    if (colon == NULL)
        return 0;
    b = (size_t)(colon - p);
    while (a < b && (p[a] == ' ' || p[a] == '\t'))
        a++;
    while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
        b--;
    *value = colon + 1;
    *vlen = n - (size_t)(colon - p) - 1;
    return b - a == len && strncasecmp(p + a, want, len) == 0;
}

/*
 * The reference: does the head declare a body?  Any line (split at CR as well as LF)
 * named Transfer-Encoding, or Content-Length with a value that is not all zeros.  Loose
 * on purpose: it may see a body where the parser rightly refuses the request, never
 * miss one.
 */
static int
declares_body(const char *head, size_t len)
{
    const char *p = head, *end = head + len, *v;
    size_t vlen;

    while (p < end) {
        size_t n = 0;
        while (p + n < end && p[n] != '\n' && p[n] != '\r')
            n++;
        if (named(p, n, "transfer-encoding", &v, &vlen))
            return 1;
        if (named(p, n, "content-length", &v, &vlen)) {
            size_t zeros = 0, i;
            for (i = 0; i < vlen; i++) {
                if (v[i] == '0')
                    zeros++;
                else if (v[i] != ' ' && v[i] != '\t')
                    return 1;
            }
            if (zeros == 0)
                return 1; /* an empty value: no length we could trust */
        }
        p += n + 1;
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[HTTP_MAX_HEAD], out[HTTP_MAX_RESPONSE_HEAD + 64];
    static char big[HTTP_MAX_RESPONSE_HEAD + HTTP_MAX_HEAD + 64]; /* a 301 holds the target */
    struct http_request req;
    size_t n = size < sizeof in ? size : sizeof in, at = 0, head, len;
    int status;

    memcpy(in, data, n); /* the server's buffer: no NUL after the bytes */
    while ((head = http_head_len(in + at, n - at)) != 0) {
        assert(head <= n - at);
        status = http_parse(in + at, head, &req);
        assert(status == 0 || status == 400 || status == 501 || status == 505);
        assert(memchr(req.line, '\0', sizeof req.line) != NULL);
        assert(memchr(req.method, '\0', sizeof req.method) != NULL);
        if (status == 0) {
            assert(req.target[0] == '/');
            for (const char *t = req.target; *t != '\0'; t++)
                assert(*t > ' ' && *t < 0x7f);
            assert(req.minor == 0 || req.minor == 1);
            len = http_redirect_dir(big, sizeof big, &req);
            assert(len > 0 && len < sizeof big && strstr(big, "\r\nLocation: /") != NULL);
        }
        len = status == 0 ? http_head(out, sizeof out, &req, 200, "text/plain", 25)
                          : http_error(out, sizeof out, &req, status);
        assert(len > 0 && len < sizeof out);
        assert(memcmp(out, "HTTP/1.", 7) == 0);
        if (!req.keep_alive)
            break; /* answer and close: nothing after this head is ever parsed */
        /* Kept alive: only an answered request with no body may be followed by another. */
        assert(status == 0);
        assert(!declares_body(in + at, head));
        at += head;
    }
    return 0;
}
