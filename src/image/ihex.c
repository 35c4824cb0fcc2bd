/* Intel HEX reading and writing (espsec/ihex.h). */
#include "espsec/ihex.h"

#include <stdlib.h>
#include <string.h>

/* Record types. */
enum { REC_DATA = 0, REC_EOF = 1, REC_EXT_SEGMENT = 2, REC_START_SEGMENT = 3, REC_EXT_LINEAR = 4, REC_START_LINEAR = 5 };

/* Largest record: length byte 255 → 5 + 255 bytes. */
#define REC_MAX 260

/* One data record as read: where its bytes go and where they are in the store. */
typedef struct {
    uint64_t addr;
    size_t at;
    size_t len;
    size_t line;
} rec_t;

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') {
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

/* Decode the hex digits of one line after ':' into bin; its byte count, or -1. */
static int decode_line(const uint8_t *s, size_t n, uint8_t bin[REC_MAX])
{
    if (n % 2 != 0 || n / 2 > REC_MAX) {
        return -1;
    }
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0) {
            return -1;
        }
        bin[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (int)(n / 2);
}

static int cmp_rec(const void *a, const void *b)
{
    const rec_t *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr ? 1 : 0;
}

typedef struct {
    rec_t *recs;
    size_t nrecs, cap;
    uint8_t *store;
    size_t used, store_cap;
} reader_t;

static int add_record(reader_t *r, uint64_t addr, const uint8_t *data, size_t len, size_t line)
{
    if (r->nrecs == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        rec_t *n = realloc(r->recs, cap * sizeof(*n));
        if (n == NULL) {
            return -1;
        }
        r->recs = n;
        r->cap = cap;
    }
    if (r->used + len > r->store_cap) {
        size_t cap = r->store_cap ? r->store_cap * 2 : 4096;
        while (cap < r->used + len) {
            cap *= 2;
        }
        uint8_t *n = realloc(r->store, cap);
        if (n == NULL) {
            return -1;
        }
        r->store = n;
        r->store_cap = cap;
    }
    memcpy(r->store + r->used, data, len);
    r->recs[r->nrecs++] = (rec_t){addr, r->used, len, line};
    r->used += len;
    return 0;
}

/* Check one decoded record; apply address records. 1: end of file, 0: go on, -1: not a valid record. */
static int take_record(reader_t *r, const uint8_t *bin, int n, size_t line, uint64_t *offset, int *have_start,
                       int *oom)
{
    if (n < 5 || n != 5 + bin[0]) {
        return -1;
    }
    uint8_t sum = 0;
    for (int i = 0; i < n; i++) {
        sum = (uint8_t)(sum + bin[i]);
    }
    unsigned len = bin[0], addr = (unsigned)bin[1] << 8 | bin[2], type = bin[3];
    if (type > REC_START_LINEAR || sum != 0) {
        return -1;
    }
    switch (type) {
    case REC_DATA:
        if (len > 0 && add_record(r, *offset + addr, bin + 4, len, line) != 0) {
            *oom = 1;
            return -1;
        }
        return 0;
    case REC_EOF:
        return len == 0 ? 1 : -1;
    case REC_EXT_SEGMENT:
    case REC_EXT_LINEAR:
        if (len != 2 || addr != 0) {
            return -1;
        }
        *offset = ((uint64_t)bin[4] << 8 | bin[5]) * (type == REC_EXT_LINEAR ? 65536u : 16u);
        return 0;
    default: /* start address: checked, not kept */
        if (len != 4 || addr != 0 || *have_start) {
            return -1;
        }
        *have_start = 1;
        return 0;
    }
}

void espsec_ihex_free(espsec_ihex_run_t *runs, size_t nruns)
{
    for (size_t i = 0; runs != NULL && i < nruns; i++) {
        free(runs[i].data);
    }
    free(runs);
}

/* Sorted records → contiguous runs; an address defined twice is an error. */
static espsec_err_t make_runs(reader_t *r, espsec_ihex_run_t **runs, size_t *nruns, espsec_error_t *err)
{
    if (r->nrecs > 1) {
        qsort(r->recs, r->nrecs, sizeof(rec_t), cmp_rec);
    }
    espsec_ihex_run_t *out = NULL;
    size_t n = 0;
    for (size_t i = 0; i < r->nrecs;) {
        size_t j = i, total = r->recs[i].len;
        uint64_t end = r->recs[i].addr + r->recs[i].len;
        while (j + 1 < r->nrecs && r->recs[j + 1].addr <= end) {
            if (r->recs[j + 1].addr < end) {
                espsec_ihex_free(out, n);
                return espsec_fail(err, ESPSEC_ERR_FORMAT, "line %zu: address 0x%llx is defined twice",
                                   r->recs[j + 1].line, (unsigned long long)r->recs[j + 1].addr);
            }
            j++;
            total += r->recs[j].len;
            end += r->recs[j].len;
        }
        espsec_ihex_run_t *grown = realloc(out, (n + 1) * sizeof(*out));
        uint8_t *data = malloc(total);
        if (grown == NULL || data == NULL) {
            free(data);
            espsec_ihex_free(grown ? grown : out, n);
            return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
        }
        out = grown;
        size_t at = 0;
        for (size_t k = i; k <= j; k++) {
            memcpy(data + at, r->store + r->recs[k].at, r->recs[k].len);
            at += r->recs[k].len;
        }
        out[n++] = (espsec_ihex_run_t){r->recs[i].addr, data, total};
        i = j + 1;
    }
    *runs = out;
    *nruns = n;
    return ESPSEC_OK;
}

espsec_err_t espsec_ihex_parse(const uint8_t *text, size_t len, espsec_ihex_run_t **runs, size_t *nruns,
                               espsec_error_t *err)
{
    *runs = NULL;
    *nruns = 0;
    reader_t r = {0};
    uint64_t offset = 0;
    int have_start = 0, oom = 0, done = 0;
    size_t line = 0, pos = 0;
    espsec_err_t rc = ESPSEC_OK;
    uint8_t bin[REC_MAX];
    while (pos < len && !done) {
        /* a line ends at \n, \r\n or \r (Python's universal newlines) */
        size_t end = pos;
        while (end < len && text[end] != '\n' && text[end] != '\r') {
            end++;
        }
        size_t next = end < len && text[end] == '\r' && end + 1 < len && text[end + 1] == '\n' ? end + 2 : end + 1;
        line++;
        if (end > pos) {
            int n = text[pos] == ':' ? decode_line(text + pos + 1, end - pos - 1, bin) : -1;
            int t = n < 0 ? -1 : take_record(&r, bin, n, line, &offset, &have_start, &oom);
            if (t < 0) {
                rc = oom ? espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory")
                         : espsec_fail(err, ESPSEC_ERR_PARSE, "line %zu: not an Intel HEX record", line);
                break;
            }
            done = t == 1;
        }
        pos = next;
    }
    if (rc == ESPSEC_OK) {
        rc = make_runs(&r, runs, nruns, err);
    }
    free(r.recs);
    free(r.store);
    return rc;
}

/* ---- writing ---- */

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    int oom;
} text_t;

static void put_record(text_t *t, unsigned type, unsigned addr16, const uint8_t *data, size_t n)
{
    static const char HEX[] = "0123456789ABCDEF";
    size_t need = 1 + 2 * (5 + n) + 1;
    if (t->oom) {
        return;
    }
    if (t->len + need > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < t->len + need) {
            cap *= 2;
        }
        uint8_t *nb = realloc(t->buf, cap);
        if (nb == NULL) {
            t->oom = 1;
            return;
        }
        t->buf = nb;
        t->cap = cap;
    }
    uint8_t rec[REC_MAX];
    rec[0] = (uint8_t)n;
    rec[1] = (uint8_t)(addr16 >> 8);
    rec[2] = (uint8_t)addr16;
    rec[3] = (uint8_t)type;
    if (n > 0) {
        memcpy(rec + 4, data, n);
    }
    uint8_t sum = 0;
    for (size_t i = 0; i < 4 + n; i++) {
        sum = (uint8_t)(sum + rec[i]);
    }
    rec[4 + n] = (uint8_t)(0x100 - sum);
    uint8_t *o = t->buf + t->len;
    *o++ = ':';
    for (size_t i = 0; i < 5 + n; i++) {
        *o++ = (uint8_t)HEX[rec[i] >> 4];
        *o++ = (uint8_t)HEX[rec[i] & 0xF];
    }
    *o++ = '\n';
    t->len = (size_t)(o - t->buf);
}

static void put_linear(text_t *t, uint64_t high)
{
    uint8_t d[2] = {(uint8_t)(high >> 8), (uint8_t)high};
    put_record(t, REC_EXT_LINEAR, 0, d, 2);
}

espsec_err_t espsec_ihex_write(const espsec_ihex_span_t *spans, size_t n, uint8_t **out, size_t *out_len,
                               espsec_error_t *err)
{
    text_t t = {0};
    uint64_t last = 0;
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (spans[i].len == 0) {
            continue;
        }
        if (spans[i].addr > UINT32_MAX || spans[i].len > UINT32_MAX - spans[i].addr + 1 ||
            (any && spans[i].addr <= last)) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_ARG,
                               "Intel HEX: run at 0x%llx is out of order, overlaps or ends past 4 GiB",
                               (unsigned long long)spans[i].addr);
        }
        last = spans[i].addr + spans[i].len - 1;
        any = 1;
    }
    /* extended linear address records only when some address needs them */
    int need_linear = any && last > 0xFFFF;
    int first = 1;
    uint64_t high = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t addr = spans[i].addr;
        size_t done = 0;
        while (done < spans[i].len) {
            if (need_linear && (first || (addr >> 16) > high)) {
                high = addr >> 16;
                put_linear(&t, high);
            }
            first = 0;
            size_t room = 0x10000 - (size_t)(addr & 0xFFFF);
            size_t k = spans[i].len - done;
            k = k < 16 ? k : 16;
            k = k < room ? k : room;
            put_record(&t, REC_DATA, (unsigned)(addr & 0xFFFF), spans[i].data + done, k);
            done += k;
            addr += k;
        }
    }
    put_record(&t, REC_EOF, 0, NULL, 0);
    if (t.oom) {
        free(t.buf);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    *out = t.buf;
    *out_len = t.len;
    return ESPSEC_OK;
}
