/*
 * libFuzzer harness for common/http.c: whatever bytes a client sends, finding the end
 * of the head, parsing it and writing an answer never crash, never overflow, and the
 * parser only ever answers 0, 400 or 501.
 */
#include "http.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[HTTP_MAX_HEAD], out[HTTP_MAX_RESPONSE_HEAD + 64];
    struct http_request req;
    size_t n = size < sizeof in ? size : sizeof in, head, len;
    int status;

    memcpy(in, data, n); /* the server's buffer: no NUL after the bytes */
    head = http_head_len(in, n);
    assert(head <= n);
    if (head == 0)
        return 0;
    status = http_parse(in, head, &req);
    assert(status == 0 || status == 400 || status == 501);
    assert(memchr(req.line, '\0', sizeof req.line) != NULL);
    len = status == 0 ? http_head(out, sizeof out, &req, 200, "text/plain", 25)
                      : http_error(out, sizeof out, &req, status);
    assert(len > 0 && len < sizeof out);
    assert(memcmp(out, "HTTP/1.", 7) == 0);
    return 0;
}
