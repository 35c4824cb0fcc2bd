/*
 * A real chip's eFuses in and out of espsec (espsec/efuse.h): espefuse's joint
 * dump and `summary --format json`, and Espressif QEMU's eFuse file.
 *
 * Every format comes down to every block's data words, BLOCK0 first (the joint
 * layout, efuse_io.h), in one of two views: what software read (joint dump,
 * summary: read-protected blocks are zeros and stay unknown) or what the silicon
 * holds (QEMU's file). docs/FORMATS.md describes the formats.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "efuse/efuse_chip.h"
#include "efuse/efuse_io.h"
#include "espsec/efuse.h"
#include "espsec/util.h"

#define JSON_MAX_DEPTH 32
#define JSON_MAX_FIELDS 4096
#define RAW_MAX_BITS 512 /* the widest field a summary shows is a 256-bit block */

const char *espsec_efuse_format_name(espsec_efuse_format_t fmt)
{
    switch (fmt) {
    case ESPSEC_EFUSE_FMT_JOINT:
        return "joint";
    case ESPSEC_EFUSE_FMT_JSON:
        return "json";
    case ESPSEC_EFUSE_FMT_QEMU:
        return "qemu";
    case ESPSEC_EFUSE_FMT_AUTO:
        break;
    }
    return "auto";
}

int espsec_efuse_format_by_name(const char *name, espsec_efuse_format_t *fmt)
{
    static const espsec_efuse_format_t all[] = {ESPSEC_EFUSE_FMT_AUTO, ESPSEC_EFUSE_FMT_JOINT, ESPSEC_EFUSE_FMT_JSON,
                                                ESPSEC_EFUSE_FMT_QEMU};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (name != NULL && strcasecmp(name, espsec_efuse_format_name(all[i])) == 0) {
            *fmt = all[i];
            return 0;
        }
    }
    return -1;
}

/* ---- a small JSON reader: enough for espefuse's summary, with line numbers ---- */

typedef struct {
    const char *p, *end;
    unsigned line;
    espsec_error_t *err;
} jp_t;

static espsec_err_t jfail(jp_t *j, const char *what)
{
    return espsec_fail(j->err, ESPSEC_ERR_PARSE, "line %u: %s", j->line, what);
}

static void jws(jp_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')) {
        if (*j->p == '\n') {
            j->line++;
        }
        j->p++;
    }
}

static int jpeek(jp_t *j, char c)
{
    jws(j);
    return j->p < j->end && *j->p == c;
}

static espsec_err_t jexpect(jp_t *j, char c)
{
    if (!jpeek(j, c)) {
        char m[64];
        snprintf(m, sizeof(m), "'%c' expected%s", c, j->p >= j->end ? " (the text ends early)" : "");
        return jfail(j, m);
    }
    j->p++;
    return ESPSEC_OK;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A string into out (cap bytes with the NUL); *fits = 0 when it was cut. \u escapes outside
 * ASCII become '?': the names and hex strings this reader needs are ASCII. */
static espsec_err_t jstring(jp_t *j, char *out, size_t cap, int *fits)
{
    espsec_err_t rc = jexpect(j, '"');
    if (rc != ESPSEC_OK) {
        return rc;
    }
    size_t n = 0;
    *fits = 1;
    for (;;) {
        if (j->p >= j->end) {
            return jfail(j, "string not closed");
        }
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"') {
            break;
        }
        if (c < 0x20) {
            return jfail(j, "control character in a string");
        }
        if (c == '\\') {
            if (j->p >= j->end) {
                return jfail(j, "string not closed");
            }
            char e = *j->p++;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                c = (unsigned char)e;
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'u': {
                unsigned v = 0;
                for (int k = 0; k < 4; k++) {
                    int h = j->p < j->end ? hexval((unsigned char)*j->p) : -1;
                    if (h < 0) {
                        return jfail(j, "bad \\u escape in a string");
                    }
                    v = v * 16 + (unsigned)h;
                    j->p++;
                }
                c = v < 0x80 ? (unsigned char)v : '?';
                break;
            }
            default:
                return jfail(j, "bad escape in a string");
            }
        }
        if (n + 1 < cap) {
            out[n++] = (char)c;
        } else {
            *fits = 0;
        }
    }
    if (cap > 0) {
        out[n] = '\0';
    }
    return ESPSEC_OK;
}

static int jword(jp_t *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) >= n && memcmp(j->p, w, n) == 0) {
        j->p += n;
        return 1;
    }
    return 0;
}

/* An integer (no fraction or exponent): *is_null = 1 for null. */
static espsec_err_t jint(jp_t *j, long long *v, int *is_null)
{
    jws(j);
    *is_null = 0;
    if (jword(j, "null")) {
        *is_null = 1;
        return ESPSEC_OK;
    }
    int neg = 0;
    if (j->p < j->end && *j->p == '-') {
        neg = 1;
        j->p++;
    }
    if (j->p >= j->end || !isdigit((unsigned char)*j->p)) {
        return jfail(j, "a number expected");
    }
    long long x = 0;
    while (j->p < j->end && isdigit((unsigned char)*j->p)) {
        if (x > 100000000) {
            return jfail(j, "number out of range");
        }
        x = x * 10 + (*j->p++ - '0');
    }
    if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E')) {
        return jfail(j, "a whole number expected");
    }
    *v = neg ? -x : x;
    return ESPSEC_OK;
}

/* Any value, read and dropped. */
static espsec_err_t jskip(jp_t *j, int depth)
{
    if (depth > JSON_MAX_DEPTH) {
        return jfail(j, "nested too deep");
    }
    jws(j);
    if (j->p >= j->end) {
        return jfail(j, "a value expected (the text ends early)");
    }
    char c = *j->p;
    espsec_err_t rc = ESPSEC_OK;
    if (c == '"') {
        char tmp[8];
        int fits = 0;
        return jstring(j, tmp, sizeof(tmp), &fits);
    }
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        if (jpeek(j, close)) {
            j->p++;
            return ESPSEC_OK;
        }
        for (;;) {
            if (c == '{') {
                char tmp[8];
                int fits = 0;
                if ((rc = jstring(j, tmp, sizeof(tmp), &fits)) != ESPSEC_OK || (rc = jexpect(j, ':')) != ESPSEC_OK) {
                    return rc;
                }
            }
            if ((rc = jskip(j, depth + 1)) != ESPSEC_OK) {
                return rc;
            }
            if (jpeek(j, ',')) {
                j->p++;
                continue;
            }
            return jexpect(j, close);
        }
    }
    if (jword(j, "true") || jword(j, "false") || jword(j, "null")) {
        return ESPSEC_OK;
    }
    if (c == '-' || isdigit((unsigned char)c)) {
        j->p++;
        while (j->p < j->end && (isdigit((unsigned char)*j->p) || strchr(".eE+-", *j->p) != NULL)) {
            j->p++;
        }
        return ESPSEC_OK;
    }
    return jfail(j, "a JSON value expected");
}

/* ---- summary JSON -> block data ---- */

/* One field of the summary, as it gave it. */
typedef struct {
    const efuse_field_def_t *def; /* NULL for a custom field */
    char name[96];
    int block;
    unsigned start; /* first bit in its block */
    unsigned line;
    unsigned bitpos; /* in the joint buffer */
    unsigned len;
    uint8_t bits[RAW_MAX_BITS / 8];
} json_field_t;

typedef struct {
    char name[96];
    long long block, word, pos, bit_len;
    int have_block, have_word, have_pos, have_len, word_null, pos_null;
    char type[32];
    char category[32];
    char raw[2 + RAW_MAX_BITS / 4 + 2];
    int have_raw;
} json_member_t;

static espsec_err_t read_member(jp_t *j, json_member_t *m)
{
    espsec_err_t rc = jexpect(j, '{');
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (jpeek(j, '}')) {
        j->p++;
        return ESPSEC_OK;
    }
    for (;;) {
        char key[32];
        int fits = 0, isnull = 0;
        if ((rc = jstring(j, key, sizeof(key), &fits)) != ESPSEC_OK || (rc = jexpect(j, ':')) != ESPSEC_OK) {
            return rc;
        }
        long long v = 0;
        if (fits && (strcmp(key, "block") == 0 || strcmp(key, "word") == 0 || strcmp(key, "pos") == 0 ||
                     strcmp(key, "bit_len") == 0)) {
            if ((rc = jint(j, &v, &isnull)) != ESPSEC_OK) {
                return rc;
            }
            if (key[0] == 'b' && key[1] == 'l') {
                m->block = v;
                m->have_block = !isnull;
            } else if (key[0] == 'w') {
                m->word = v;
                m->have_word = 1;
                m->word_null = isnull;
            } else if (key[0] == 'p') {
                m->pos = v;
                m->have_pos = 1;
                m->pos_null = isnull;
            } else {
                m->bit_len = v;
                m->have_len = !isnull;
            }
        } else if (fits && strcmp(key, "efuse_type") == 0) {
            if ((rc = jstring(j, m->type, sizeof(m->type), &fits)) != ESPSEC_OK) {
                return rc;
            }
        } else if (fits && strcmp(key, "category") == 0) {
            if ((rc = jstring(j, m->category, sizeof(m->category), &fits)) != ESPSEC_OK) {
                return rc;
            }
        } else if (fits && strcmp(key, "raw_value") == 0) {
            if ((rc = jstring(j, m->raw, sizeof(m->raw), &fits)) != ESPSEC_OK) {
                return rc;
            }
            if (!fits) {
                return jfail(j, "raw_value is longer than any eFuse field");
            }
            m->have_raw = 1;
        } else if ((rc = jskip(j, 1)) != ESPSEC_OK) {
            return rc;
        }
        if (jpeek(j, ',')) {
            j->p++;
            continue;
        }
        return jexpect(j, '}');
    }
}

static const efuse_field_def_t *field_named(const efuse_chip_def_t *d, const char *name)
{
    for (size_t i = 0; i < d->nfields; i++) {
        if (strcmp(d->fields[i].name, name) == 0) {
            return &d->fields[i];
        }
    }
    return NULL;
}

/* raw_value as espefuse writes it: bytes fields in memory order, others as a number. */
static espsec_err_t decode_raw(jp_t *j, const json_member_t *m, unsigned len, uint8_t bits[RAW_MAX_BITS / 8])
{
    char msg[300];
    memset(bits, 0, RAW_MAX_BITS / 8);
    const char *h = m->raw;
    if (h[0] != '0' || (h[1] != 'x' && h[1] != 'X')) {
        snprintf(msg, sizeof(msg), "%s: raw_value '%.40s' is not 0x-prefixed hex", m->name, h);
        return jfail(j, msg);
    }
    h += 2;
    size_t n = strlen(h);
    for (size_t i = 0; i < n; i++) {
        if (hexval((unsigned char)h[i]) < 0) {
            snprintf(msg, sizeof(msg), "%s: raw_value '%.40s' is not hex", m->name, m->raw);
            return jfail(j, msg);
        }
    }
    int bytes = strncmp(m->type, "bytes", 5) == 0;
    size_t want = bytes ? len / 4 : (len + 3) / 4;
    if ((bytes && len % 8 != 0) || n != want) {
        snprintf(msg, sizeof(msg), "%s: raw_value has %zu hex digits, its %u bits take %zu", m->name, n, len, want);
        return jfail(j, msg);
    }
    for (unsigned i = 0; i < len; i++) {
        /* bytes: byte k is hex digits 2k, 2k+1; a number: bit i is in the i/4-th digit from the right */
        int nib = bytes ? hexval((unsigned char)h[(i / 8) * 2 + ((i % 8) < 4 ? 1 : 0)])
                        : hexval((unsigned char)h[n - 1 - i / 4]);
        if ((nib >> (i % 4)) & 1) {
            bits[i / 8] |= (uint8_t)(1u << (i % 8));
        }
    }
    if (!bytes) {
        for (unsigned i = len; i < want * 4; i++) {
            if ((hexval((unsigned char)h[n - 1 - i / 4]) >> (i % 4)) & 1) {
                snprintf(msg, sizeof(msg), "%.60s: raw_value %.40s does not fit in %u bits", m->name, m->raw, len);
                return jfail(j, msg);
            }
        }
    }
    return ESPSEC_OK;
}

/* Check a member against the chip's table and turn it into bits at their place. *skip = 1 for a
 * calculated field (no bits of its own). */
static espsec_err_t place_member(jp_t *j, const efuse_chip_def_t *d, const size_t *blk_off, const json_member_t *m,
                                 json_field_t *f, int *skip)
{
    char msg[300];
    *skip = 0;
    const efuse_field_def_t *def = field_named(d, m->name);
    int custom = def == NULL && strcmp(m->category, "User") == 0; /* from an --extend-efuse-table */
    if (def == NULL && !custom) {
        snprintf(msg, sizeof(msg), "%s is not an eFuse of %s (a summary of another chip or espefuse version?)",
                 m->name, d->chip->name);
        return jfail(j, msg);
    }
    if (!m->have_block || !m->have_word || !m->have_pos || !m->have_len || m->type[0] == '\0' || !m->have_raw) {
        snprintf(msg, sizeof(msg), "%s: block, word, pos, bit_len, efuse_type and raw_value expected", m->name);
        return jfail(j, msg);
    }
    if (custom) {
        /* a custom field sits where the summary says, inside its block; its bits must agree with
         * the block's own field, which the summary lists too */
        if (m->block < 0 || m->block >= d->nblocks || m->word_null || m->pos_null || m->word < 0 || m->pos < 0 ||
            m->pos > 31 || m->bit_len <= 0 || m->bit_len > RAW_MAX_BITS ||
            m->word * 32 + m->pos + m->bit_len > (long long)d->blocks[m->block].words * 32) {
            snprintf(msg, sizeof(msg), "%s: a custom field outside the blocks of %s", m->name, d->chip->name);
            return jfail(j, msg);
        }
        f->def = NULL;
        f->line = j->line;
        f->len = (unsigned)m->bit_len;
        f->bitpos = (unsigned)(blk_off[m->block] * 8) + (unsigned)m->word * 32u + (unsigned)m->pos;
        f->block = (int)m->block;
        f->start = (unsigned)(m->word * 32 + m->pos);
        snprintf(f->name, sizeof(f->name), "%s", m->name);
        return decode_raw(j, m, f->len, f->bits);
    }
    if (def->word < 0) {
        *skip = 1; /* calculated from other fields, which the summary lists too */
        return ESPSEC_OK;
    }
    if (m->block != def->block || m->word_null || m->pos_null || m->word != def->word || m->pos != def->pos ||
        m->bit_len <= 0 || m->bit_len > def->bit_len) {
        snprintf(msg, sizeof(msg),
                 "%s: at BLOCK%lld word %lld bit %lld (%lld bits) here, %s has it at BLOCK%d word %d bit %d (%d "
                 "bits): a summary of another chip?",
                 m->name, m->block, m->word, m->pos, m->bit_len, d->chip->name, def->block, def->word, def->pos,
                 def->bit_len);
        return jfail(j, msg);
    }
    f->def = def;
    f->line = j->line;
    f->len = (unsigned)m->bit_len;
    f->bitpos = (unsigned)(blk_off[def->block] * 8) + (unsigned)def->word * 32u + (unsigned)def->pos;
    f->block = def->block;
    f->start = (unsigned)def->word * 32u + (unsigned)def->pos;
    snprintf(f->name, sizeof(f->name), "%s", def->name);
    return decode_raw(j, m, f->len, f->bits);
}

static int get_bit(const uint8_t *d, unsigned b)
{
    return (d[b / 8] >> (b % 8)) & 1;
}

static espsec_err_t json_to_blocks(const efuse_chip_def_t *d, const char *text, size_t len, uint8_t *blocks,
                                   espsec_error_t *err)
{
    jp_t j = {text, text + len, 1, err};
    /* espefuse prints its banner before the JSON: start at the first line that opens an object */
    const char *p = text;
    while (p < j.end && *p != '{') {
        const char *nl = memchr(p, '\n', (size_t)(j.end - p));
        if (nl == NULL) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "no line starts a JSON object ('{')");
        }
        p = nl + 1;
        j.line++;
    }
    j.p = p;
    size_t blk_off[32] = {0}, off = 0;
    for (int b = 0; b < d->nblocks && b < 32; b++) {
        blk_off[b] = off;
        off += (size_t)d->blocks[b].words * 4;
    }
    json_field_t *fs = NULL;
    size_t nf = 0, capf = 0;
    espsec_err_t rc = jexpect(&j, '{');
    if (rc == ESPSEC_OK && jpeek(&j, '}')) {
        rc = jfail(&j, "the summary lists no eFuse");
    }
    while (rc == ESPSEC_OK) {
        json_member_t m;
        memset(&m, 0, sizeof(m));
        int fits = 0, skip = 0;
        if ((rc = jstring(&j, m.name, sizeof(m.name), &fits)) != ESPSEC_OK) {
            break;
        }
        unsigned line = j.line;
        if (!fits) {
            rc = jfail(&j, "eFuse name too long");
            break;
        }
        if ((rc = jexpect(&j, ':')) != ESPSEC_OK || (rc = read_member(&j, &m)) != ESPSEC_OK) {
            break;
        }
        if (nf == capf) {
            size_t nc = capf ? capf * 2 : 64;
            json_field_t *g = nc <= JSON_MAX_FIELDS ? realloc(fs, nc * sizeof(*fs)) : NULL;
            if (g == NULL) {
                rc = nc > JSON_MAX_FIELDS ? jfail(&j, "more fields than any chip has")
                                          : espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
                break;
            }
            fs = g;
            capf = nc;
        }
        jp_t at = j;
        at.line = line; /* what is wrong with a field is reported at the line of its name */
        if ((rc = place_member(&at, d, blk_off, &m, &fs[nf], &skip)) != ESPSEC_OK) {
            break;
        }
        if (!skip) {
            for (unsigned i = 0; i < fs[nf].len; i++) {
                if (get_bit(fs[nf].bits, i)) {
                    unsigned b = fs[nf].bitpos + i;
                    blocks[b / 8] |= (uint8_t)(1u << (b % 8));
                }
            }
            nf++;
        }
        if (jpeek(&j, ',')) {
            j.p++;
            continue;
        }
        rc = jexpect(&j, '}');
        break;
    }
    if (rc == ESPSEC_OK) {
        jws(&j);
        if (j.p != j.end) {
            rc = jfail(&j, "text after the JSON object");
        }
    }
    /* fields sharing bits (a block and the fields inside it) must agree */
    for (size_t i = 0; rc == ESPSEC_OK && i < nf; i++) {
        for (unsigned k = 0; k < fs[i].len; k++) {
            if (get_bit(blocks, fs[i].bitpos + k) != get_bit(fs[i].bits, k)) {
                rc = espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: %s disagrees with another field on bit %u of BLOCK%d",
                                 fs[i].line, fs[i].name, fs[i].start + k, fs[i].block);
                break;
            }
        }
    }
    free(fs);
    return rc;
}

/* ---- import ---- */

static int all_zero(const uint8_t *d, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= d[i];
    }
    return acc == 0;
}

/* Text with a line that opens a JSON object, and no NUL bytes. */
static int looks_like_json(const uint8_t *data, size_t len)
{
    if (memchr(data, 0, len) != NULL) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '{' && (i == 0 || data[i - 1] == '\n')) {
            return 1;
        }
    }
    return 0;
}

static espsec_err_t import_qemu(const efuse_chip_def_t *d, const uint8_t *data, size_t len, espsec_efuse_t **out,
                                espsec_error_t *err)
{
    size_t need = d->chip->qemu_efuse_bytes, n = efuse_joint_size(d);
    if (need == 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED, "Espressif QEMU has no eFuse model of %s", d->chip->name);
    }
    if (len != need || n > need) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "a QEMU eFuse file of %s is %zu bytes, this one is %zu",
                           d->chip->name, need, len);
    }
    for (size_t i = n; i < len; i++) {
        if (data[i] != 0) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT,
                               "offset 0x%zx: QEMU keeps no %s eFuse data past 0x%zx, yet this byte is 0x%02x (not "
                               "a QEMU eFuse file?)",
                               i, d->chip->name, n, data[i]);
        }
    }
    return efuse_import_blocks(d->chip->id, data, n, 1, out, err);
}

espsec_err_t espsec_efuse_import(espsec_chip_t chip, const uint8_t *data, size_t len, espsec_efuse_format_t fmt,
                                 espsec_efuse_format_t *detected, espsec_efuse_t **out, espsec_error_t *err)
{
    const espsec_chip_info_t *ci = espsec_chip_by_id(chip);
    const efuse_chip_def_t *d = ci != NULL ? ci->efuse : NULL;
    if (d == NULL) {
        espsec_efuse_t *e = NULL;
        return espsec_efuse_new(chip, &e, err); /* names why the chip has no eFuses */
    }
    size_t joint = efuse_joint_size(d);
    int guessed = fmt == ESPSEC_EFUSE_FMT_AUTO;
    if (guessed) {
        if (len > 0 && looks_like_json(data, len)) {
            fmt = ESPSEC_EFUSE_FMT_JSON;
        } else if (len == joint) {
            fmt = ESPSEC_EFUSE_FMT_JOINT;
        } else if (len == ci->qemu_efuse_bytes) {
            fmt = ESPSEC_EFUSE_FMT_QEMU;
        } else if (len == d->mem_size) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                               "%zu bytes is the size of an espefuse virtual eFuse file of %s: use it as it is with "
                               "--virt --path-efuse-file",
                               len, ci->name);
        } else {
            char q[64] = "";
            if (ci->qemu_efuse_bytes != 0 && ci->qemu_efuse_bytes != joint) {
                snprintf(q, sizeof(q), ", a QEMU eFuse file (%u bytes)", (unsigned)ci->qemu_efuse_bytes);
            }
            return espsec_fail(err, ESPSEC_ERR_FORMAT,
                               "%zu bytes and not JSON: none of what import takes for %s (a joint dump, %zu "
                               "bytes%s, or espefuse's summary --format json)",
                               len, ci->name, joint, q);
        }
    }
    espsec_err_t rc;
    if (fmt == ESPSEC_EFUSE_FMT_JSON) {
        uint8_t *blocks = calloc(1, joint);
        if (blocks == NULL) {
            return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
        }
        rc = json_to_blocks(d, (const char *)data, len, blocks, err);
        if (rc == ESPSEC_OK) {
            rc = efuse_import_blocks(chip, blocks, joint, 0, out, err);
        }
        espsec_wipe(blocks, joint);
        free(blocks);
    } else if (fmt == ESPSEC_EFUSE_FMT_QEMU) {
        rc = import_qemu(d, data, len, out, err);
    } else {
        rc = espsec_efuse_import_joint(chip, data, len, out, err);
        /* ESP32: a joint dump and QEMU's file have one size; only QEMU's can show a protected block's data */
        if (rc == ESPSEC_OK && guessed && len == ci->qemu_efuse_bytes) {
            size_t off = 0;
            int hw = 0;
            for (int b = 0; b < d->nblocks; b++) {
                size_t n = (size_t)d->blocks[b].words * 4;
                hw |= !espsec_efuse_block_readable(*out, b) && !all_zero(data + off, n);
                off += n;
            }
            if (hw) {
                espsec_efuse_free(*out);
                *out = NULL;
                fmt = ESPSEC_EFUSE_FMT_QEMU;
                rc = import_qemu(d, data, len, out, err);
            }
        }
    }
    if (rc == ESPSEC_OK && detected != NULL) {
        *detected = fmt;
    }
    return rc;
}

/* ---- export ---- */

espsec_err_t espsec_efuse_export_qemu(const espsec_efuse_t *e, uint8_t **out, size_t *len, espsec_error_t *err)
{
    const espsec_chip_info_t *ci = espsec_efuse_chip_info(e);
    size_t need = ci->qemu_efuse_bytes, joint = efuse_joint_size(ci->efuse);
    if (need == 0 || joint > need) {
        char names[128] = "";
        size_t used = 0;
        for (size_t i = 0; i < espsec_chip_count(); i++) {
            const espsec_chip_info_t *c = espsec_chip_at(i);
            if (c->qemu_efuse_bytes != 0 && used < sizeof(names)) {
                int w = snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "", c->name);
                used += w > 0 ? (size_t)w : 0;
            }
        }
        return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED, "Espressif QEMU models the eFuses of %s, not %s", names,
                           ci->name);
    }
    uint8_t *f = calloc(1, need);
    if (f == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    size_t off = 0;
    for (int b = 0; b < espsec_efuse_block_count(e); b++) {
        uint8_t blk[32];
        int known = 0;
        size_t n = (size_t)espsec_efuse_block_words(e, b) * 4;
        if (espsec_efuse_get_block_hw(e, b, blk, &known, err) != ESPSEC_OK || !known) {
            espsec_wipe(blk, sizeof(blk));
            espsec_free_secret(f, need);
            if (!known) {
                return espsec_fail(err, ESPSEC_ERR_INVALID_STATE,
                                   "%s is read-protected and unknown to espsec (this state holds only what software "
                                   "can read, as espefuse's file or a chip's dump does): QEMU needs the key itself",
                                   espsec_efuse_block_name(e, b));
            }
            return ESPSEC_ERR_INVALID_ARG;
        }
        memcpy(f + off, blk, n);
        espsec_wipe(blk, sizeof(blk));
        off += n;
    }
    *out = f;
    *len = need;
    return ESPSEC_OK;
}
