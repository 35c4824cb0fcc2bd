/*
 * Custom eFuse fields (espsec/efuse.h, espsec_efuse_extend_table): ESP-IDF's
 * esp_efuse_custom_table.csv read as espefuse v5.3.1's --extend-efuse-table reads
 * it, and the fields added to one eFuse set.
 *
 * A line: field_name, efuse_block, bit_start, bit_count, comment. '#' lines and
 * blank lines are skipped, $VAR and ${VAR} are taken from the environment. The
 * block is EFUSE_BLKn (espefuse strips the letters E F U S _ B L K in front and
 * reads the rest as a number); numbers are Python integer literals (0x.., 0o..,
 * 0b.., decimal without leading zeros); bit_count may be MAX_BLK_LEN (256). An
 * empty name continues the field above (its parts become NAME_0, NAME_1 ...,
 * as every repeated name does); '.' in a name becomes '_'. A comment starting
 * with [ALT] gives the field an alternative name; the comment, with the bit
 * range appended, is its description. The field is bool for 1 bit, bytes:N for
 * more than 32 bits in whole bytes, uint:N otherwise; it is write- and
 * read-protected with the block's other fields; its category is "User".
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

#define CSV_MAX_FIELDS 1024
#define CSV_LINE_MAX 1024
#define MAX_BITS_OF_BLOCK 256

/* The names and descriptions the custom fields point to (freed with the eFuse set). */
typedef struct {
    char name[80];
    char alt[80];
    char desc[200];
    unsigned line;
    int continued; /* the name was empty: the field above goes on */
} csv_row_t;

static char *trim(char *s)
{
    while (*s != '\0' && isspace((unsigned char)*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

/* A Python integer literal (int(v, 0)) small enough for a block, bit offset or
 * length (well within 2^40); 0 when it is one. */
static int parse_int(const char *v, long long *out)
{
    int64_t x;
    if (espsec_py_int(v, &x) != 0 || x > (1LL << 40) || x < -(1LL << 40)) {
        return -1;
    }
    *out = (long long)x;
    return 0;
}

/* $VAR and ${VAR} replaced from the environment (unknown ones left as they are). */
static void expand_vars(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = in; *p != '\0' && o + 1 < cap;) {
        if (*p == '$' && (isalpha((unsigned char)p[1]) || p[1] == '_' || p[1] == '{')) {
            int brace = p[1] == '{';
            const char *s = p + 1 + brace, *e = s;
            while (isalnum((unsigned char)*e) || *e == '_') {
                e++;
            }
            if (e > s && (!brace || *e == '}')) {
                char name[128];
                size_t n = (size_t)(e - s) < sizeof(name) - 1 ? (size_t)(e - s) : sizeof(name) - 1;
                memcpy(name, s, n);
                name[n] = '\0';
                const char *v = getenv(name); /* NOLINT(concurrency-mt-unsafe): read-only, as espefuse reads it */
                if (v != NULL) {
                    for (; *v != '\0' && o + 1 < cap; v++) {
                        out[o++] = *v;
                    }
                    p = e + brace;
                    continue;
                }
            }
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

/* Names that clash: equal, or equal once '.' is read as '_'. */
static int same_name(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char x = *a == '.' ? '_' : *a, y = *b == '.' ? '_' : *b;
        if (x != y) {
            return 0;
        }
    }
    return *a == *b;
}

static const efuse_field_def_t *known_name(const efuse_chip_def_t *d, const efuse_field_def_t *more, size_t nmore,
                                           const char *name)
{
    for (size_t i = 0; i < d->nfields + nmore; i++) {
        const efuse_field_def_t *f = i < d->nfields ? &d->fields[i] : &more[i - d->nfields];
        if (strcmp(f->name, name) == 0 || (f->alt != NULL && strcmp(f->alt, name) == 0)) {
            return f;
        }
    }
    return NULL;
}

/* One line into a field (names fixed up later). */
static espsec_err_t parse_line(const efuse_chip_def_t *d, char *line, unsigned ln, csv_row_t *row,
                               efuse_field_def_t *f, espsec_error_t *err)
{
    char *col[5] = {NULL};
    char *p = line;
    for (int i = 0; i < 5; i++) {
        col[i] = p;
        char *c = p != NULL ? strchr(p, ',') : NULL;
        if (c != NULL) {
            *c = '\0';
            p = c + 1;
        } else {
            p = NULL;
        }
    }
    for (int i = 0; i < 5; i++) {
        col[i] = col[i] != NULL ? trim(col[i]) : (char *)"";
    }
    if (strlen(col[0]) >= sizeof(row->name)) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: field name too long", ln);
    }
    snprintf(row->name, sizeof(row->name), "%s", col[0]);
    row->continued = col[0][0] == '\0';
    row->line = ln;
    if (col[1][0] == '\0') {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: Field 'efuse_block' can't be left empty.", ln);
    }
    const char *b = col[1];
    while (*b != '\0' && strchr("EFUS_BLK", *b) != NULL) {
        b++;
    }
    long long blk = 0, start = 0, count = 0;
    if (parse_int(b, &blk) != 0) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: Invalid field value %s (EFUSE_BLKn expected)", ln, b);
    }
    if (col[3][0] == '\0') {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: Field bit_count can't be empty", ln);
    }
    if (strcmp(col[3], "MAX_BLK_LEN") == 0) {
        count = MAX_BITS_OF_BLOCK;
    } else if (parse_int(col[3], &count) != 0) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: Invalid field value %s", ln, col[3]);
    }
    if (count == 0) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: Field bit_count can't be empty", ln);
    }
    if (col[2][0] == '\0') {
        /* espefuse v5.3.1 fails on it (it formats the bit range before filling the start in) */
        return espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: bit_start is empty (give the field's first bit)", ln);
    }
    if (parse_int(col[2], &start) != 0) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: Invalid field value %s", ln, col[2]);
    }
    if (blk < 0 || blk >= d->nblocks) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: %s has no eFuse block %lld (BLOCK0..BLOCK%d)", ln,
                           d->chip->name, blk, d->nblocks - 1);
    }
    long long bits = (long long)d->blocks[blk].words * 32;
    if (start < 0 || count < 0 || start > bits || count > bits - start) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: bits %lld-%lld are outside %s (%lld bits)", ln, start,
                           start + count - 1, d->blocks[blk].name, bits);
    }
    if (count > 32 && count % 8 == 0) {
        f->type = ESPSEC_EF_BYTES;
    } else if (count > 64) {
        return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED,
                           "line %u: a %lld-bit field that is not whole bytes (espsec's integers are up to 64 bits)",
                           ln, count);
    } else {
        f->type = count == 1 ? ESPSEC_EF_BOOL : ESPSEC_EF_UINT;
    }
    /* the comment: up to the next comma, trailing backslashes cut, the bit range added */
    char *c = col[4];
    size_t cl = strlen(c);
    while (cl > 0 && c[cl - 1] == '\\') {
        c[--cl] = '\0';
    }
    c = trim(c);
    snprintf(row->desc, sizeof(row->desc), "%s (%lld-%lld)", c, start, start + count - 1);
    row->alt[0] = '\0';
    if (row->desc[0] == '[') {
        const char *e = strchr(row->desc, ']');
        if (e != NULL) {
            size_t n = (size_t)(e - row->desc - 1);
            n = n < sizeof(row->alt) - 1 ? n : sizeof(row->alt) - 1;
            memcpy(row->alt, row->desc + 1, n);
            row->alt[n] = '\0';
            char *sp = strchr(row->alt, ' '); /* espsec keeps one alternative name */
            if (sp != NULL) {
                *sp = '\0';
            }
        }
    }
    f->block = (uint8_t)blk;
    f->word = (int8_t)(start / 32);
    f->pos = (int8_t)(start % 32);
    f->bit_len = (uint16_t)count;
    f->wr_dis = -1;
    f->rd_dis = -1;
    if (blk != 0) {
        /* protected with the block: the protection bits of its fields (espefuse's scan) */
        for (size_t i = 0; i < d->nfields; i++) {
            const efuse_field_def_t *o = &d->fields[i];
            if (o->block != blk) {
                continue;
            }
            f->wr_dis = o->wr_dis >= 0 ? o->wr_dis : f->wr_dis;
            f->rd_dis = o->rd_dis >= 0 ? o->rd_dis : f->rd_dis;
            if (f->wr_dis >= 0 && f->rd_dis >= 0) {
                break;
            }
        }
    }
    f->category = "User";
    f->cls = EC_PLAIN;
    f->dict = NULL;
    f->group = EG_ALWAYS;
    f->parts = NULL;
    f->rd_dis_more = 0;
    return ESPSEC_OK;
}

/* Names as espefuse fixes them: continuation rows take the name above, repeated names are
 * numbered NAME_0, NAME_1 ... (their alternative names too), '.' becomes '_'. */
static void fix_names(csv_row_t *rows, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (rows[i].continued) {
            memcpy(rows[i].name, rows[i - 1].name, sizeof(rows[i].name));
        }
    }
    char done[CSV_MAX_FIELDS];
    memset(done, 0, sizeof(done));
    for (size_t i = 0; i < n; i++) {
        size_t same = 0;
        for (size_t k = 0; k < n; k++) {
            same += strcmp(rows[k].name, rows[i].name) == 0;
        }
        if (same < 2 || done[i]) {
            continue;
        }
        char base[80];
        memcpy(base, rows[i].name, sizeof(base));
        unsigned idx = 0;
        for (size_t k = i; k < n; k++) {
            if (!done[k] && strcmp(rows[k].name, base) == 0) {
                snprintf(rows[k].name, sizeof(rows[k].name), "%.70s_%u", base, idx);
                if (rows[k].alt[0] != '\0') {
                    char alt[sizeof(rows[k].alt)];
                    memcpy(alt, rows[k].alt, sizeof(alt));
                    snprintf(rows[k].alt, sizeof(rows[k].alt), "%.70s_%u", alt, idx);
                }
                done[k] = 1;
                idx++;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        for (char *p = rows[i].name; *p != '\0'; p++) {
            *p = *p == '.' ? '_' : *p;
        }
        for (char *p = rows[i].alt; *p != '\0'; p++) {
            *p = *p == '.' ? '_' : *p;
        }
    }
}

espsec_err_t espsec_efuse_extend_table(espsec_efuse_t *e, const char *csv, size_t len, espsec_error_t *err)
{
    const efuse_chip_def_t *d = espsec_efuse_chip_info(e)->efuse;
    csv_row_t *rows = calloc(CSV_MAX_FIELDS, sizeof(*rows));
    efuse_field_def_t *fs = calloc(CSV_MAX_FIELDS, sizeof(*fs));
    if (rows == NULL || fs == NULL) {
        free(rows);
        free(fs);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    size_t n = 0;
    unsigned ln = 0;
    espsec_err_t rc = ESPSEC_OK;
    for (size_t off = 0; off < len && rc == ESPSEC_OK;) {
        const char *nl = memchr(csv + off, '\n', len - off);
        size_t l = nl != NULL ? (size_t)(nl - (csv + off)) : len - off;
        ln++;
        if (l >= CSV_LINE_MAX) {
            rc = espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: longer than %d characters", ln, CSV_LINE_MAX);
            break;
        }
        char raw[CSV_LINE_MAX], line[CSV_LINE_MAX * 2] = "";
        memcpy(raw, csv + off, l);
        raw[l] = '\0';
        off += l + (nl != NULL);
        if (memchr(raw, '\0', l) != NULL) {
            rc = espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: a NUL byte (not a CSV text file?)", ln);
            break;
        }
        expand_vars(raw, line, sizeof(line));
        char *t = trim(line);
        if (t[0] == '$') {
            char name[64];
            size_t k = 0;
            for (const char *p = t + 1; (isalnum((unsigned char)*p) || *p == '_') && k + 1 < sizeof(name); p++) {
                name[k++] = *p;
            }
            name[k] = '\0';
            if (k > 0 && !isdigit((unsigned char)name[0])) {
                rc = espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: unknown variable '%s'", ln, name);
                break;
            }
        }
        if (t[0] == '#' || t[0] == '\0') {
            continue;
        }
        if (n == CSV_MAX_FIELDS) {
            rc = espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: more than %d custom fields", ln, CSV_MAX_FIELDS);
            break;
        }
        rc = parse_line(d, t, ln, &rows[n], &fs[n], err);
        if (rc == ESPSEC_OK && rows[n].continued && n == 0) {
            rc = espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: missing field name", ln);
        }
        n += rc == ESPSEC_OK;
    }
    if (rc == ESPSEC_OK && n == 0) {
        rc = espsec_fail(err, ESPSEC_ERR_PARSE, "no custom field in the table");
    }
    /* the same name on two lines is an error; only continuation lines (empty name) are numbered */
    for (size_t i = 0; i < n && rc == ESPSEC_OK; i++) {
        for (size_t k = 0; k < i && !rows[i].continued; k++) {
            if (!rows[k].continued && same_name(rows[k].name, rows[i].name)) {
                rc = espsec_fail(err, ESPSEC_ERR_PARSE, "line %u: Field names must be unique (%s is on line %u too)",
                                 rows[i].line, rows[i].name, rows[k].line);
                break;
            }
        }
    }
    if (rc == ESPSEC_OK) {
        fix_names(rows, n);
        for (size_t i = 0; i < n; i++) {
            fs[i].name = rows[i].name;
            fs[i].alt = rows[i].alt[0] != '\0' ? rows[i].alt : NULL;
            fs[i].desc = rows[i].desc;
        }
        /* every name unique, the chip's and the table's, alternative names included */
        for (size_t i = 0; i < n && rc == ESPSEC_OK; i++) {
            const char *names[2] = {fs[i].name, fs[i].alt};
            for (int k = 0; k < 2 && rc == ESPSEC_OK; k++) {
                if (names[k] == NULL) {
                    continue;
                }
                const efuse_field_def_t *o = known_name(d, fs, i, names[k]);
                if (o == NULL && k == 1 && strcmp(fs[i].alt, fs[i].name) == 0) {
                    o = &fs[i];
                }
                if (o != NULL) {
                    rc = espsec_fail(err, ESPSEC_ERR_PARSE,
                                     "line %u: %s is not unique (Duplicate names found in eFuses): %s already has it",
                                     rows[i].line, names[k], o >= fs && o < fs + n ? "the table" : d->chip->name);
                }
            }
        }
    }
    if (rc == ESPSEC_OK) {
        rc = efuse_add_fields(e, fs, n, rows, err);
    }
    if (rc != ESPSEC_OK) {
        free(rows);
        free(fs);
    }
    return rc;
}
