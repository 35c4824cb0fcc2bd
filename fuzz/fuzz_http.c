/*
 * Fuzz the HTTP response parser behind `espsec tls get` (any server can send
 * anything). The input is parsed whole and again in pieces of a size taken
 * from its first byte: both must give the same status, body and verdict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/tls.h"

typedef struct {
    uint64_t n, hash;
} digest_t;

static int on_body(void *ctx, const uint8_t *d, size_t len)
{
    digest_t *g = ctx;
    for (size_t i = 0; i < len; i++) {
        g->hash = (g->hash ^ d[i]) * 0x100000001b3ULL; /* FNV-1a over the body bytes */
    }
    g->n += len;
    return 0;
}

static espsec_err_t parse(const uint8_t *data, size_t size, size_t piece, espsec_http_resp_t *r, digest_t *g)
{
    espsec_error_t err;
    memset(g, 0, sizeof(*g));
    g->hash = 0xcbf29ce484222325ULL;
    espsec_http_init(r, on_body, g);
    espsec_err_t rc = ESPSEC_OK;
    for (size_t pos = 0; pos < size && rc == ESPSEC_OK && !espsec_http_done(r);) {
        size_t n = size - pos < piece ? size - pos : piece, used = 0;
        rc = espsec_http_feed(r, data + pos, n, &used, &err);
        if (used > n || (rc == ESPSEC_OK && used < n && !espsec_http_done(r))) {
            abort(); /* bytes are left over only when the response ended */
        }
        pos += used;
    }
    if (rc == ESPSEC_OK && !espsec_http_done(r)) {
        rc = espsec_http_eof(r, &err);
    }
    if (r->head_len > ESPSEC_HTTP_HEAD_MAX || r->head[r->head_len] != '\0' || g->n != r->body_bytes) {
        abort();
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static espsec_http_resp_t a, b;
    if (size == 0) {
        return 0;
    }
    size_t piece = (size_t)(data[0] % 17) + 1;
    digest_t ga, gb;
    espsec_err_t ra = parse(data + 1, size - 1, size, &a, &ga);
    espsec_err_t rb = parse(data + 1, size - 1, piece, &b, &gb);
    if (ra != rb || a.status != b.status || ga.n != gb.n || ga.hash != gb.hash || a.framing != b.framing) {
        abort();
    }
    return 0;
}
