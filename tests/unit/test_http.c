/*
 * The HTTP response parser behind `espsec tls get`: framing by
 * Content-Length, chunks and the close; where the response ends; the exact
 * error for each malformed or short response. Every case is also fed one
 * byte at a time: the result must not depend on how the bytes arrive.
 */
#include <stdlib.h>
#include <string.h>

#include "espsec/tls.h"
#include "test.h"

typedef struct {
    char body[4096];
    size_t len;
    int fail_after; /* the callback fails once this many bytes came (0: never) */
} sink_t;

static int sink(void *ctx, const uint8_t *d, size_t n)
{
    sink_t *s = ctx;
    if (s->fail_after && s->len + n >= (size_t)s->fail_after) {
        return -1;
    }
    if (n > sizeof(s->body) - 1 - s->len) {
        return -1;
    }
    memcpy(s->body + s->len, d, n);
    s->len += n;
    s->body[s->len] = '\0';
    return 0;
}

/* Parse text (whole, or byte by byte), then EOF unless the parser finished. Returns the final code;
 * *used: bytes consumed; the error text in err. */
static espsec_err_t parse(const char *text, size_t len, int bytewise, sink_t *s, espsec_http_resp_t *r,
                          size_t *used, espsec_error_t *err)
{
    memset(s, 0, sizeof(*s));
    espsec_http_init(r, sink, s);
    espsec_err_t rc = ESPSEC_OK;
    size_t pos = 0;
    while (pos < len && rc == ESPSEC_OK && !espsec_http_done(r)) {
        size_t n = bytewise ? 1 : len - pos, u = 0;
        rc = espsec_http_feed(r, (const uint8_t *)text + pos, n, &u, err);
        pos += u;
    }
    *used = pos;
    if (rc == ESPSEC_OK && !espsec_http_done(r)) {
        rc = espsec_http_eof(r, err);
    }
    return rc;
}

typedef struct {
    const char *label, *text;
    espsec_err_t want;
    const char *body_or_msg; /* the body on success, a part of the message on failure */
    int status;
    long used; /* bytes that belong to the response (-1: all) */
} case_t;

static const case_t CASES[] = {
    {"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", ESPSEC_OK, "hello", 200, -1},
    {"stops at content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA", ESPSEC_OK, "hello", 200,
     43},
    {"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", ESPSEC_ERR_FORMAT,
     "body truncated: 3 of 10 bytes", 200, -1},
    {"empty body", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nnext", ESPSEC_OK, "", 200, 38},
    {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\nX",
     ESPSEC_OK, "hello world", 200, 79},
    {"chunked, upper-case hex and trailer",
     "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\n\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n", ESPSEC_OK,
     "0123456789", 200, -1},
    {"chunk size 2^64-1", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc",
     ESPSEC_ERR_FORMAT, "body truncated: 3 bytes, the connection closed before the last chunk", 200, -1},
    {"chunk size past 64 bits", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nabc",
     ESPSEC_ERR_PARSE, "chunk size is not a hex number that fits 64 bits", 200, -1},
    {"chunk size not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ESPSEC_ERR_PARSE,
     "chunk size is not a hex number", 200, -1},
    {"chunk without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
     ESPSEC_ERR_PARSE, "chunk data not followed by CRLF", 200, -1},
    {"no last chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", ESPSEC_ERR_FORMAT,
     "body truncated: 3 bytes, the connection closed before the last chunk", 200, -1},
    {"transfer-encoding wins over content-length",
     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", ESPSEC_OK, "ok",
     200, -1},
    {"body to the close", "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall of it", ESPSEC_OK, "all of it", 200, -1},
    {"204 has no body", "HTTP/1.1 204 No Content\r\n\r\nnext", ESPSEC_OK, "", 204, 27},
    {"100 Continue first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno",
     ESPSEC_OK, "no", 404, -1},
    {"LF line ends", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", ESPSEC_OK, "ok", 200, -1},
    {"content-length overflow", "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", ESPSEC_ERR_PARSE,
     "Content-Length is not a decimal number that fits 64 bits", 200, -1},
    {"negative content-length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", ESPSEC_ERR_PARSE,
     "Content-Length is not a decimal", 200, -1},
    {"two content-lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
     ESPSEC_ERR_PARSE, "two different Content-Length values", 200, -1},
    {"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", ESPSEC_ERR_PARSE, "not an HTTP/1.x status line", 0, -1},
    {"header without colon", "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", ESPSEC_ERR_PARSE, "header line without a name",
     200, -1},
    {"folded header", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", ESPSEC_ERR_PARSE, "folded header line", 200, -1},
    {"no reply", "", ESPSEC_ERR_FORMAT, "closed the connection without a reply", 0, -1},
    {"head cut", "HTTP/1.1 200 OK\r\nContent-Le", ESPSEC_ERR_FORMAT, "inside the response head", 200, -1},
};

static void run_cases(void)
{
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        const case_t *c = &CASES[i];
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            sink_t s;
            espsec_http_resp_t *r = malloc(sizeof(*r));
            espsec_error_t err = {0};
            size_t used = 0, len = strlen(c->text);
            espsec_err_t rc = parse(c->text, len, bytewise, &s, r, &used, &err);
            int ok = rc == c->want && r->status == c->status;
            if (ok && rc == ESPSEC_OK) {
                ok = strcmp(s.body, c->body_or_msg) == 0 && used == (c->used < 0 ? len : (size_t)c->used) &&
                     r->body_bytes == s.len;
            } else if (ok) {
                ok = strstr(err.msg, c->body_or_msg) != NULL;
            }
            t_checks++;
            if (!ok) {
                fprintf(stderr, "FAIL %s%s: rc %s status %d used %zu body '%s' msg '%s'\n", c->label,
                        bytewise ? " (bytewise)" : "", espsec_err_to_name(rc), r->status, used, s.body, err.msg);
                t_failures++;
            }
            free(r);
        }
    }
}

/* The head is kept for display; a line or head past its limit is refused, not grown. */
static void limits(void)
{
    espsec_http_resp_t *r = malloc(sizeof(*r));
    espsec_error_t err;
    const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
    espsec_http_init(r, NULL, NULL);
    CHECK_OK(espsec_http_feed(r, (const uint8_t *)h, strlen(h), NULL, &err));
    CHECK(espsec_http_done(r) && r->head_done && r->framing == ESPSEC_HTTP_BODY_LENGTH && r->body_bytes == 1);
    CHECK(strcmp(r->head, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n") == 0);

    /* an interim response is dropped from the head: only the final one is shown */
    espsec_http_init(r, NULL, NULL);
    CHECK_OK(espsec_http_feed(r, (const uint8_t *)"HTTP/1.1 199 X\r\n\r\n", 18, NULL, &err));
    CHECK(r->head_len == 0 && r->head[0] == '\0' && !r->head_done && !espsec_http_done(r));

    size_t big = ESPSEC_HTTP_HEAD_MAX + 100;
    char *line = malloc(big);
    memset(line, 'a', big);
    espsec_http_init(r, NULL, NULL);
    CHECK_OK(espsec_http_feed(r, (const uint8_t *)"HTTP/1.1 200 OK\r\nX: ", 20, NULL, &err));
    CHECK_ERR(espsec_http_feed(r, (const uint8_t *)line, ESPSEC_HTTP_LINE_MAX, NULL, &err), ESPSEC_ERR_PARSE);
    CHECK_MSG(err, "line longer than 8 KiB");
    /* after a failure nothing more is accepted */
    CHECK_ERR(espsec_http_feed(r, (const uint8_t *)"\r\n", 2, NULL, &err), ESPSEC_ERR_INVALID_STATE);

    /* many short header lines: the head limit */
    espsec_http_init(r, NULL, NULL);
    CHECK_OK(espsec_http_feed(r, (const uint8_t *)"HTTP/1.1 200 OK\r\n", 17, NULL, &err));
    espsec_err_t rc = ESPSEC_OK;
    for (int i = 0; i < 10000 && rc == ESPSEC_OK; i++) {
        rc = espsec_http_feed(r, (const uint8_t *)"X-Pad: 0123456789\r\n", 19, NULL, &err);
    }
    CHECK(rc == ESPSEC_ERR_PARSE);
    CHECK_MSG(err, "the head is longer than 64 KiB");

    /* a NUL inside a header */
    espsec_http_init(r, NULL, NULL);
    CHECK_ERR(espsec_http_feed(r, (const uint8_t *)"HTTP/1.1 200 OK\r\nA: \0b\r\n", 24, NULL, &err),
              ESPSEC_ERR_PARSE);
    CHECK_MSG(err, "NUL byte");

    /* the body callback failing (stdout closed) stops the parse */
    sink_t s = {.fail_after = 3};
    espsec_http_init(r, sink, &s);
    const char *b = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    CHECK_ERR(espsec_http_feed(r, (const uint8_t *)b, strlen(b), NULL, &err), ESPSEC_ERR_IO);
    CHECK_MSG(err, "writing the body failed");

    /* a huge Content-Length is streamed, never allocated: 1 GiB declared, 4 KiB given */
    espsec_http_init(r, NULL, NULL);
    const char *hh = "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n";
    CHECK_OK(espsec_http_feed(r, (const uint8_t *)hh, strlen(hh), NULL, &err));
    CHECK_OK(espsec_http_feed(r, (const uint8_t *)line, 4096, NULL, &err));
    CHECK_ERR(espsec_http_eof(r, &err), ESPSEC_ERR_FORMAT);
    CHECK_MSG(err, "body truncated: 4096 of 1073741824 bytes");
    free(line);
    free(r);
}

int main(void)
{
    RUN(run_cases);
    RUN(limits);
    return test_done();
}
