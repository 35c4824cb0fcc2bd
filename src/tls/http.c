/*
 * One HTTP/1.1 response, parsed as it streams in (espsec/tls.h). RFC 9112:
 * status line, header fields, then a body framed by Transfer-Encoding
 * chunked (section 7.1), Content-Length (section 6.2) or the close of the
 * connection (section 6.3). Every length from the peer is checked before it
 * is added or used.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "espsec/tls.h"

enum {
    S_STATUS,     /* collecting the status line */
    S_HEADER,     /* collecting header lines */
    S_BODY_LEN,   /* left bytes of a Content-Length body */
    S_BODY_CLOSE, /* body until the connection closes */
    S_CHUNK_SIZE, /* collecting a chunk-size line */
    S_CHUNK_DATA, /* left bytes of the current chunk */
    S_CHUNK_END,  /* the CRLF after chunk data */
    S_TRAILER,    /* trailer lines after the last chunk */
    S_DONE,
    S_ERROR
};

void espsec_http_init(espsec_http_resp_t *r, espsec_http_body_cb on_body, void *ctx)
{
    memset(r, 0, sizeof(*r));
    r->state = S_STATUS;
    r->on_body = on_body;
    r->ctx = ctx;
}

int espsec_http_done(const espsec_http_resp_t *r)
{
    return r->state == S_DONE;
}

static espsec_err_t bad(espsec_http_resp_t *r, espsec_error_t *err, const char *what)
{
    r->state = S_ERROR;
    return espsec_fail(err, ESPSEC_ERR_PARSE, "HTTP response: %s: '%.80s'", what, r->line);
}

/* Append to the current line up to and including '\n'. Returns bytes taken; *complete when the line ended. */
static size_t take_line(espsec_http_resp_t *r, const uint8_t *p, size_t n, int *complete, int *too_long)
{
    const uint8_t *nl = memchr(p, '\n', n);
    size_t k = nl != NULL ? (size_t)(nl - p) + 1 : n;
    *complete = nl != NULL;
    *too_long = 0;
    size_t room = ESPSEC_HTTP_LINE_MAX - r->line_len;
    size_t copy = k < room ? k : room;
    if (k > room) {
        *too_long = 1;
    }
    memcpy(r->line + r->line_len, p, copy);
    r->line_len += copy;
    r->line[r->line_len] = '\0';
    return k;
}

/* The completed line without its CRLF (or LF); 0 when it holds a NUL. */
static int line_text(espsec_http_resp_t *r)
{
    size_t l = r->line_len;
    if (l > 0 && r->line[l - 1] == '\n') {
        l--;
    }
    if (l > 0 && r->line[l - 1] == '\r') {
        l--;
    }
    r->line[l] = '\0';
    int clean = memchr(r->line, '\0', l) == NULL;
    r->line_len = 0;
    return clean;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static const char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t l = strlen(s);
    while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t')) {
        s[--l] = '\0';
    }
    return s;
}

/* Decimal without sign, overflow-checked. */
static int parse_dec(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!is_digit(*s)) {
        return -1;
    }
    for (; is_digit(*s); s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return -1;
        }
        v = v * 10 + d;
    }
    *out = v;
    return *s == '\0' ? 0 : -1;
}

static int hex_val(char c)
{
    if (is_digit(c)) {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* chunk-size [ chunk-ext ]: hex, overflow-checked; the extension is ignored. */
static int parse_chunk_size(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    int h = hex_val(*s);
    if (h < 0) {
        return -1;
    }
    for (; (h = hex_val(*s)) >= 0; s++) {
        if (v > (UINT64_MAX >> 4)) {
            return -1;
        }
        v = (v << 4) | (uint64_t)h;
    }
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    *out = v;
    return *s == '\0' || *s == ';' ? 0 : -1;
}

/* Is "chunked" the last transfer coding of a Transfer-Encoding value? */
static int last_coding_chunked(const char *v)
{
    const char *c = strrchr(v, ',');
    c = c != NULL ? c + 1 : v;
    while (*c == ' ' || *c == '\t') {
        c++;
    }
    return strncasecmp(c, "chunked", 7) == 0 && (c[7] == '\0' || c[7] == ' ' || c[7] == '\t' || c[7] == ';');
}

static espsec_err_t status_line(espsec_http_resp_t *r, espsec_error_t *err)
{
    const char *l = r->line;
    /* HTTP/1.x SP 3DIGIT [SP reason] */
    if (strncmp(l, "HTTP/1.", 7) != 0 || !is_digit(l[7]) || l[8] != ' ' || !is_digit(l[9]) || !is_digit(l[10]) ||
        !is_digit(l[11]) || (l[12] != '\0' && l[12] != ' ')) {
        return bad(r, err, "not an HTTP/1.x status line");
    }
    r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    if (r->status < 100) {
        return bad(r, err, "status code below 100");
    }
    r->state = S_HEADER;
    return ESPSEC_OK;
}

static espsec_err_t header_line(espsec_http_resp_t *r, espsec_error_t *err)
{
    if (r->line[0] == ' ' || r->line[0] == '\t') {
        return bad(r, err, "folded header line (obsolete, refused)");
    }
    char *colon = strchr(r->line, ':');
    if (colon == NULL || colon == r->line) {
        return bad(r, err, "header line without a name and ':'");
    }
    *colon = '\0';
    const char *name = r->line;
    if (strpbrk(name, " \t") != NULL) {
        *colon = ':';
        return bad(r, err, "white space in a header name");
    }
    const char *value = trim(colon + 1);
    if (strcasecmp(name, "Content-Length") == 0) {
        uint64_t v;
        if (parse_dec(value, &v) != 0) {
            *colon = ':';
            return bad(r, err, "Content-Length is not a decimal number that fits 64 bits");
        }
        if (r->have_length && v != r->content_length) {
            *colon = ':';
            return bad(r, err, "two different Content-Length values");
        }
        r->have_length = 1;
        r->content_length = v;
    } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
        /* with several fields the last one names the final coding */
        r->have_te = last_coding_chunked(value) ? 2 : 1;
    }
    return ESPSEC_OK;
}

/* The empty line after the headers: decide how the body is framed. */
static void end_of_head(espsec_http_resp_t *r)
{
    int s = r->status;
    if (s >= 100 && s < 200 && s != 101) {
        /* an interim response: the real one follows */
        r->state = S_STATUS;
        r->head_len = 0;
        r->head[0] = '\0';
        r->have_length = r->have_te = 0;
        r->content_length = 0;
        return;
    }
    r->head_done = 1;
    if (s < 200 || s == 204 || s == 304) {
        r->framing = ESPSEC_HTTP_BODY_NONE;
        r->state = S_DONE;
    } else if (r->have_te) {
        /* Transfer-Encoding overrides Content-Length; a final coding other than chunked runs to the close */
        r->framing = r->have_te == 2 ? ESPSEC_HTTP_BODY_CHUNKED : ESPSEC_HTTP_BODY_CLOSE;
        r->state = r->have_te == 2 ? S_CHUNK_SIZE : S_BODY_CLOSE;
    } else if (r->have_length) {
        r->framing = ESPSEC_HTTP_BODY_LENGTH;
        r->left = r->content_length;
        r->state = r->left == 0 ? S_DONE : S_BODY_LEN;
    } else {
        r->framing = ESPSEC_HTTP_BODY_CLOSE;
        r->state = S_BODY_CLOSE;
    }
}

static espsec_err_t deliver(espsec_http_resp_t *r, const uint8_t *p, size_t n, espsec_error_t *err)
{
    if (n == 0) {
        return ESPSEC_OK;
    }
    if (r->body_bytes > UINT64_MAX - n) {
        r->state = S_ERROR;
        return espsec_fail(err, ESPSEC_ERR_PARSE, "HTTP response: the body exceeds 2^64 bytes");
    }
    r->body_bytes += n;
    if (r->on_body != NULL && r->on_body(r->ctx, p, n) != 0) {
        r->state = S_ERROR;
        return espsec_fail(err, ESPSEC_ERR_IO, "writing the body failed after %llu bytes",
                           (unsigned long long)r->body_bytes);
    }
    return ESPSEC_OK;
}

/* A line-collecting state: take bytes, and handle the line once it is complete. */
static espsec_err_t line_state(espsec_http_resp_t *r, const uint8_t *p, size_t n, size_t *k, espsec_error_t *err)
{
    int complete, too_long;
    *k = take_line(r, p, n, &complete, &too_long);
    int in_head = r->state == S_STATUS || r->state == S_HEADER;
    if (in_head) {
        if (*k > ESPSEC_HTTP_HEAD_MAX - r->head_len) {
            return bad(r, err, "the head is longer than 64 KiB");
        }
        memcpy(r->head + r->head_len, p, *k);
        r->head_len += *k;
        r->head[r->head_len] = '\0';
    } else if (r->state == S_TRAILER) {
        if (*k > ESPSEC_HTTP_HEAD_MAX - r->left) {
            return bad(r, err, "the trailer is longer than 64 KiB");
        }
        r->left += *k;
    }
    if (too_long) {
        return bad(r, err, "line longer than 8 KiB");
    }
    if (!complete) {
        return ESPSEC_OK;
    }
    if (!line_text(r)) {
        return bad(r, err, "NUL byte in a line");
    }
    switch (r->state) {
    case S_STATUS:
        return status_line(r, err);
    case S_HEADER:
        if (r->line[0] == '\0') {
            end_of_head(r);
            return ESPSEC_OK;
        }
        return header_line(r, err);
    case S_CHUNK_SIZE: {
        uint64_t size;
        if (parse_chunk_size(r->line, &size) != 0) {
            return bad(r, err, "chunk size is not a hex number that fits 64 bits");
        }
        r->left = size;
        r->state = size == 0 ? S_TRAILER : S_CHUNK_DATA;
        return ESPSEC_OK;
    }
    case S_CHUNK_END:
        if (r->line[0] != '\0') {
            return bad(r, err, "chunk data not followed by CRLF");
        }
        r->state = S_CHUNK_SIZE;
        return ESPSEC_OK;
    default: /* S_TRAILER: fields are ignored; the empty line ends the response */
        if (r->line[0] == '\0') {
            r->state = S_DONE;
        }
        return ESPSEC_OK;
    }
}

espsec_err_t espsec_http_feed(espsec_http_resp_t *r, const uint8_t *data, size_t len, size_t *used,
                              espsec_error_t *err)
{
    size_t i = 0;
    espsec_err_t rc = ESPSEC_OK;
    if (r->state == S_ERROR) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_STATE, "HTTP response: already failed");
    }
    while (rc == ESPSEC_OK && i < len && r->state != S_DONE) {
        const uint8_t *p = data + i;
        size_t n = len - i, k = 0;
        switch (r->state) {
        case S_BODY_LEN:
        case S_CHUNK_DATA:
            k = r->left < n ? (size_t)r->left : n;
            rc = deliver(r, p, k, err);
            r->left -= k;
            if (rc == ESPSEC_OK && r->left == 0) {
                r->state = r->state == S_BODY_LEN ? S_DONE : S_CHUNK_END;
            }
            break;
        case S_BODY_CLOSE:
            k = n;
            rc = deliver(r, p, k, err);
            break;
        default:
            rc = line_state(r, p, n, &k, err);
            break;
        }
        i += k;
    }
    if (used != NULL) {
        *used = i;
    }
    return rc;
}

espsec_err_t espsec_http_eof(const espsec_http_resp_t *r, espsec_error_t *err)
{
    unsigned long long got = (unsigned long long)r->body_bytes;
    switch (r->state) {
    case S_DONE:
    case S_BODY_CLOSE:
        return ESPSEC_OK;
    case S_TRAILER:
        if (r->line_len == 0) {
            return ESPSEC_OK; /* the last chunk came; only the trailer's final CRLF is missing */
        }
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "the connection closed inside the trailer after the body (%llu "
                                                   "bytes)",
                           got);
    case S_STATUS:
    case S_HEADER:
        if (r->head_len == 0) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT, "the server closed the connection without a reply");
        }
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "the connection closed inside the response head (%zu bytes)",
                           r->head_len);
    case S_BODY_LEN:
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "body truncated: %llu of %llu bytes", got,
                           (unsigned long long)r->content_length);
    case S_CHUNK_SIZE:
    case S_CHUNK_DATA:
    case S_CHUNK_END:
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "body truncated: %llu bytes, the connection closed before the last chunk", got);
    default:
        return espsec_fail(err, ESPSEC_ERR_INVALID_STATE, "HTTP response: already failed");
    }
}
