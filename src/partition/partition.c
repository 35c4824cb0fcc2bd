/* Partition tables, binary and CSV (espsec/partition.h). */
#include "espsec/partition.h"

#include <ctype.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/util.h"
#include "util/bytes.h"

/* Entry fields (esp_partition_info_t). */
enum { E_MAGIC = 0, E_TYPE = 2, E_SUBTYPE = 3, E_OFFSET = 4, E_SIZE = 8, E_NAME = 12, E_FLAGS = 28 };

#define NVS_MIN_RW_SIZE 0x3000u
#define OTADATA_SIZE 0x2000u

struct keyword {
    const char *name;
    int value;
};

static const struct keyword TYPES[] = {
    {"bootloader", ESPSEC_PT_TYPE_BOOTLOADER},
    {"partition_table", ESPSEC_PT_TYPE_PARTITION_TABLE},
    {"app", ESPSEC_PT_TYPE_APP},
    {"data", ESPSEC_PT_TYPE_DATA},
    {NULL, 0},
};

static const struct keyword SUB_BOOTLOADER[] = {{"primary", 0}, {"ota", 1}, {"recovery", 2}, {NULL, 0}};
static const struct keyword SUB_PT[] = {{"primary", 0}, {"ota", 1}, {NULL, 0}};
/* app: factory and test; ota_0..ota_15 and tee_0..tee_1 are generated */
static const struct keyword SUB_APP[] = {{"factory", 0x00}, {"test", 0x20}, {NULL, 0}};
static const struct keyword SUB_DATA[] = {
    {"ota", 0x00},     {"phy", 0x01},      {"nvs", 0x02},    {"coredump", 0x03}, {"nvs_keys", 0x04},
    {"efuse", 0x05},   {"undefined", 0x06}, {"esphttpd", 0x80}, {"fat", 0x81},     {"spiffs", 0x82},
    {"littlefs", 0x83}, {"tee_ota", 0x90},  {NULL, 0},
};

static const struct keyword *subtypes_of(int type)
{
    switch (type) {
    case ESPSEC_PT_TYPE_BOOTLOADER:
        return SUB_BOOTLOADER;
    case ESPSEC_PT_TYPE_PARTITION_TABLE:
        return SUB_PT;
    case ESPSEC_PT_TYPE_APP:
        return SUB_APP;
    case ESPSEC_PT_TYPE_DATA:
        return SUB_DATA;
    default:
        return NULL;
    }
}

const char *espsec_pt_type_name(uint8_t type)
{
    for (const struct keyword *k = TYPES; k->name; k++) {
        if (k->value == type) {
            return k->name;
        }
    }
    return NULL;
}

const char *espsec_pt_subtype_name(uint8_t type, uint8_t subtype)
{
    static const char *const ota[16] = {"ota_0", "ota_1", "ota_2",  "ota_3",  "ota_4",  "ota_5",  "ota_6",  "ota_7",
                                        "ota_8", "ota_9", "ota_10", "ota_11", "ota_12", "ota_13", "ota_14", "ota_15"};
    const struct keyword *k = subtypes_of(type);
    for (; k != NULL && k->name; k++) {
        if (k->value == subtype) {
            return k->name;
        }
    }
    if (type == ESPSEC_PT_TYPE_APP && subtype >= 0x10 && subtype < 0x20) {
        return ota[subtype - 0x10];
    }
    if (type == ESPSEC_PT_TYPE_APP && (subtype == 0x30 || subtype == 0x31)) {
        return subtype == 0x30 ? "tee_0" : "tee_1";
    }
    return NULL;
}

/* Subtype keyword → value, including ota_N and tee_N; -1 if unknown. */
static int subtype_keyword(int type, const char *lower)
{
    const struct keyword *k = subtypes_of(type);
    for (; k != NULL && k->name; k++) {
        if (strcmp(k->name, lower) == 0) {
            return k->value;
        }
    }
    if (type == ESPSEC_PT_TYPE_APP) {
        for (int i = 0; i < 16; i++) {
            if (strcmp(espsec_pt_subtype_name(ESPSEC_PT_TYPE_APP, (uint8_t)(0x10 + i)), lower) == 0) {
                return 0x10 + i;
            }
        }
        if (strcmp(lower, "tee_0") == 0 || strcmp(lower, "tee_1") == 0) {
            return lower[4] == '0' ? 0x30 : 0x31;
        }
    }
    return -1;
}

void espsec_pt_opts_default(espsec_pt_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->table_offset = ESPSEC_PT_OFFSET_DEFAULT;
    o->md5 = 1;
    o->expand_env = 1;
}

static void warn(espsec_partition_table_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(espsec_partition_table_t *t, const char *fmt, ...)
{
    if (t->nwarnings >= ESPSEC_PT_MAX_WARNINGS) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->warnings[t->nwarnings++], sizeof(t->warnings[0]), fmt, ap);
    va_end(ap);
}

/* ---- binary ---- */

static int all_ff(const uint8_t *p, size_t n)
{
    return is_all(p, n, 0xFF);
}

espsec_err_t espsec_pt_from_binary(const uint8_t *buf, size_t len, const espsec_pt_opts_t *opts,
                                   espsec_partition_table_t *t, espsec_error_t *err)
{
    memset(t, 0, sizeof(*t));
    uint8_t md5[16];
    size_t entries_len = 0;
    for (size_t o = 0; o < len && o < ESPSEC_PT_SECTOR_SIZE; o += ESPSEC_PT_ENTRY_LEN) {
        const uint8_t *e = buf + o;
        if (len - o < ESPSEC_PT_ENTRY_LEN) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%zx: partition table length must be a multiple of 32 bytes",
                               o);
        }
        if (all_ff(e, ESPSEC_PT_ENTRY_LEN)) {
            return ESPSEC_OK;
        }
        if (opts->md5 && e[0] == 0xEB && e[1] == 0xEB) {
            espsec_md5(buf, entries_len, md5);
            if (memcmp(e + 16, md5, 16) != 0) {
                char want[33], got[33];
                espsec_hex(md5, 16, want, 0);
                espsec_hex(e + 16, 16, got, 0);
                return espsec_fail(err, ESPSEC_ERR_INVALID_CRC,
                                   "offset 0x%zx: MD5 checksums don't match (computed 0x%s, stored 0x%s)", o, want, got);
            }
            t->has_md5 = 1;
            continue;
        }
        if (e[0] != 0xAA || e[1] != 0x50) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT,
                               "offset 0x%zx: invalid magic bytes 0x%02x%02x for partition entry %zu (expected 0xaa50)", o,
                               e[0], e[1], t->count);
        }
        if (t->count >= ESPSEC_PT_MAX_ENTRIES) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%zx: more than %d partitions", o, ESPSEC_PT_MAX_ENTRIES);
        }
        espsec_partition_t *p = &t->entries[t->count++];
        memset(p, 0, sizeof(*p));
        p->type = e[E_TYPE];
        p->subtype = e[E_SUBTYPE];
        p->offset = get_le32(e + E_OFFSET);
        p->size = get_le32(e + E_SIZE);
        memcpy(p->name, e + E_NAME, 16);
        p->name[16] = '\0';
        for (size_t i = 0; p->name[i]; i++) {
            if ((unsigned char)p->name[i] < 0x20 || (unsigned char)p->name[i] >= 0x7F) {
                return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%zx: partition name is not printable text",
                                   o + E_NAME);
            }
        }
        uint32_t flags = get_le32(e + E_FLAGS);
        p->flags = flags & (ESPSEC_PT_FLAG_ENCRYPTED | ESPSEC_PT_FLAG_READONLY);
        if (flags & ~(ESPSEC_PT_FLAG_ENCRYPTED | ESPSEC_PT_FLAG_READONLY)) {
            warn(t, "WARNING: Partition definition had unknown flag(s) 0x%08x. Newer binary format?",
                 flags & ~(ESPSEC_PT_FLAG_ENCRYPTED | ESPSEC_PT_FLAG_READONLY));
        }
        entries_len = o + ESPSEC_PT_ENTRY_LEN;
    }
    return espsec_fail(err, ESPSEC_ERR_FORMAT, "partition table is missing an end-of-table marker (32 bytes of 0xFF)");
}

espsec_err_t espsec_pt_to_binary(const espsec_partition_table_t *t, const espsec_pt_opts_t *opts,
                                 uint8_t out[ESPSEC_PT_MAX_LEN], espsec_error_t *err)
{
    size_t need = t->count * ESPSEC_PT_ENTRY_LEN + (opts->md5 ? ESPSEC_PT_ENTRY_LEN : 0);
    if (need >= ESPSEC_PT_MAX_LEN) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "binary partition table length (%zu) longer than max (%u)", need,
                           ESPSEC_PT_MAX_LEN);
    }
    memset(out, 0xFF, ESPSEC_PT_MAX_LEN);
    for (size_t i = 0; i < t->count; i++) {
        const espsec_partition_t *p = &t->entries[i];
        uint8_t *e = out + i * ESPSEC_PT_ENTRY_LEN;
        e[0] = 0xAA;
        e[1] = 0x50;
        e[E_TYPE] = p->type;
        e[E_SUBTYPE] = p->subtype;
        put_le32(e + E_OFFSET, p->offset);
        put_le32(e + E_SIZE, p->size);
        memset(e + E_NAME, 0, 16);
        memcpy(e + E_NAME, p->name, strnlen(p->name, 16));
        put_le32(e + E_FLAGS, p->flags);
    }
    if (opts->md5) {
        uint8_t *m = out + t->count * ESPSEC_PT_ENTRY_LEN;
        m[0] = 0xEB;
        m[1] = 0xEB;
        memset(m + 2, 0xFF, 14);
        espsec_md5(out, t->count * ESPSEC_PT_ENTRY_LEN, m + 16);
    }
    return ESPSEC_OK;
}

/* ---- CSV ---- */

static void lower_copy(char *dst, const char *src, size_t cap)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) {
        dst[i] = (char)tolower((unsigned char)src[i]);
    }
    dst[i] = '\0';
}

/* Python's int(v, 0) (gen_esp32part reads numbers with it). */
static int py_int(const char *v, long long *out)
{
    int64_t x;
    if (espsec_py_int(v, &x) != 0) {
        return -1;
    }
    *out = (long long)x;
    return 0;
}

/* gen_esp32part's parse_int: numbers with k/m suffixes, or a keyword. */
static int parse_int_kw(const char *v, const struct keyword *kw, int kw_type, long long *out, char *why, size_t whylen)
{
    size_t n = strlen(v);
    if (n > 0 && (v[n - 1] == 'k' || v[n - 1] == 'K' || v[n - 1] == 'm' || v[n - 1] == 'M')) {
        char inner[64];
        if (n - 1 >= sizeof(inner)) {
            snprintf(why, whylen, "Invalid field value %s", v);
            return -1;
        }
        memcpy(inner, v, n - 1);
        inner[n - 1] = '\0';
        long long base;
        if (parse_int_kw(inner, kw, kw_type, &base, why, whylen) != 0) {
            return -1;
        }
        long long mult = (v[n - 1] == 'k' || v[n - 1] == 'K') ? 1024 : 1024 * 1024;
        /* checked before multiplying: 99999999999999999K overflows, 18014398509481996K used to wrap to 12K */
        if (base > LLONG_MAX / mult || base < -(LLONG_MAX / mult)) {
            snprintf(why, whylen, "Invalid field value %s (too large)", v);
            return -1;
        }
        *out = base * mult;
        return 0;
    }
    if (py_int(v, out) == 0) {
        return 0;
    }
    char lower[64];
    lower_copy(lower, v, sizeof(lower));
    if (kw == NULL && kw_type < 0) {
        snprintf(why, whylen, "Invalid field value %s", v);
        return -1;
    }
    if (kw_type >= 0) {
        int val = subtype_keyword(kw_type, lower);
        if (val >= 0) {
            *out = val;
            return 0;
        }
        kw = subtypes_of(kw_type);
        if (kw == NULL) {
            snprintf(why, whylen, "Invalid field value %s", v);
            return -1;
        }
    } else {
        for (const struct keyword *k = kw; k->name; k++) {
            if (strcmp(k->name, lower) == 0) {
                *out = k->value;
                return 0;
            }
        }
    }
    char known[400] = "";
    for (const struct keyword *k = kw; k->name; k++) {
        strncat(known, k->name, sizeof(known) - strlen(known) - 3);
        if (k[1].name) {
            strncat(known, ", ", sizeof(known) - strlen(known) - 1);
        }
    }
    if (kw_type == ESPSEC_PT_TYPE_APP) {
        strncat(known, ", ota_0..ota_15, tee_0, tee_1", sizeof(known) - strlen(known) - 1);
    }
    snprintf(why, whylen, "Value '%s' is not valid. Known keywords: %s", v, known);
    return -1;
}

/* Expand $NAME and ${NAME} from the environment; an unknown one is an error. */
static int expand_vars(const char *in, char *out, size_t cap, char *why, size_t whylen)
{
    size_t o = 0;
    for (const char *p = in; *p;) {
        if (*p == '$' && (p == in || p[-1] != '\\')) {
            const char *start = p + 1;
            int braced = *start == '{';
            if (braced) {
                start++;
            }
            const char *end = start;
            while (isalnum((unsigned char)*end) || *end == '_') {
                end++;
            }
            if (end > start && !isdigit((unsigned char)*start) && (!braced || *end == '}')) {
                char name[128];
                size_t nl = (size_t)(end - start) < sizeof(name) - 1 ? (size_t)(end - start) : sizeof(name) - 1;
                memcpy(name, start, nl);
                name[nl] = '\0';
                const char *val = getenv(name);
                if (val == NULL) {
                    snprintf(why, whylen, "unknown variable '%s'", name);
                    return -1;
                }
                size_t vl = strlen(val);
                if (o + vl >= cap) {
                    snprintf(why, whylen, "line too long after expanding $%s", name);
                    return -1;
                }
                memcpy(out + o, val, vl);
                o += vl;
                p = braced ? end + 1 : end;
                continue;
            }
        }
        if (o + 1 >= cap) {
            snprintf(why, whylen, "line too long");
            return -1;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    return 0;
}

static int parse_row(char *line, int line_no, const espsec_pt_opts_t *opts, espsec_partition_t *p, int *has_offset,
                     char *why, size_t whylen)
{
    char *fields[6] = {"", "", "", "", "", ""};
    size_t nf = 0;
    for (char *tok = line;; nf++) {
        char *comma = strchr(tok, ',');
        if (nf < 6) {
            if (comma != NULL) {
                *comma = '\0';
            }
            fields[nf] = espsec_trim(tok);
        }
        if (comma == NULL) {
            break;
        }
        tok = comma + 1;
    }
    memset(p, 0, sizeof(*p));
    p->line = line_no;
    if (strlen(fields[0]) > 16) {
        snprintf(why, whylen, "partition name '%s' is %zu characters; at most 16 fit in the table", fields[0],
                 strlen(fields[0]));
        return -1;
    }
    snprintf(p->name, sizeof(p->name), "%s", fields[0]);
    long long v;
    if (fields[1][0] == '\0') {
        snprintf(why, whylen, "Field 'type' can't be left empty.");
        return -1;
    }
    if (parse_int_kw(fields[1], TYPES, -1, &v, why, whylen) != 0) {
        return -1;
    }
    if (v < 0 || v > 0xFE) {
        snprintf(why, whylen, "type %lld out of range (0..254)", v);
        return -1;
    }
    p->type = (uint8_t)v;
    if (fields[2][0] == '\0') {
        if (p->type == ESPSEC_PT_TYPE_APP) {
            snprintf(why, whylen, "App partition cannot have an empty subtype");
            return -1;
        }
        p->subtype = ESPSEC_PT_SUBTYPE_DATA_UNDEFINED;
    } else {
        if (parse_int_kw(fields[2], NULL, p->type, &v, why, whylen) != 0) {
            return -1;
        }
        if (v < 0 || v > 0xFE) {
            snprintf(why, whylen, "subtype %lld out of range (0..254)", v);
            return -1;
        }
        p->subtype = (uint8_t)v;
    }
    /* offset */
    *has_offset = 0;
    if (p->type == ESPSEC_PT_TYPE_BOOTLOADER && (p->subtype == 0 || p->subtype == 2)) {
        uint32_t off = p->subtype == 0 ? opts->primary_bootloader_offset : opts->recovery_bootloader_offset;
        if (off == 0) {
            snprintf(why, whylen, "%s bootloader offset is not defined. Please use --%s-bootloader-offset",
                     p->subtype == 0 ? "Primary" : "Recovery", p->subtype == 0 ? "primary" : "recovery");
            return -1;
        }
        p->offset = off;
        *has_offset = 1;
    } else if (p->type == ESPSEC_PT_TYPE_PARTITION_TABLE && p->subtype == 0) {
        p->offset = opts->table_offset;
        *has_offset = 1;
    } else if (fields[3][0] != '\0') {
        if (parse_int_kw(fields[3], NULL, -1, &v, why, whylen) != 0) {
            return -1;
        }
        if (v < 0 || v > 0xFFFFFFFFLL) {
            snprintf(why, whylen, "offset %s out of range", fields[3]);
            return -1;
        }
        p->offset = (uint32_t)v;
        *has_offset = 1;
    }
    /* size; negative means "up to this end address" */
    if (p->type == ESPSEC_PT_TYPE_BOOTLOADER) {
        if (opts->primary_bootloader_offset == 0) {
            snprintf(why, whylen, "Primary bootloader offset is not defined. Please use --primary-bootloader-offset");
            return -1;
        }
        p->size = opts->table_offset - opts->primary_bootloader_offset;
    } else if (p->type == ESPSEC_PT_TYPE_PARTITION_TABLE) {
        p->size = ESPSEC_PT_SECTOR_SIZE;
    } else {
        if (fields[4][0] == '\0') {
            snprintf(why, whylen, "Size field can't be empty");
            return -1;
        }
        if (parse_int_kw(fields[4], NULL, -1, &v, why, whylen) != 0) {
            return -1;
        }
        if (v > 0xFFFFFFFFLL || v < -0xFFFFFFFFLL) {
            snprintf(why, whylen, "size %s out of range", fields[4]);
            return -1;
        }
        /* a negative size is kept negated in 'line' sign for the fix-up pass */
        p->size = (uint32_t)(v < 0 ? -v : v);
        if (v < 0) {
            p->line = -line_no;
        }
    }
    /* flags */
    char *flags = fields[5];
    while (flags != NULL) {
        char *colon = strchr(flags, ':');
        if (colon != NULL) {
            *colon = '\0';
        }
        char *f = espsec_trim(flags);
        if (strcmp(f, "encrypted") == 0) {
            p->flags |= ESPSEC_PT_FLAG_ENCRYPTED;
        } else if (strcmp(f, "readonly") == 0) {
            p->flags |= ESPSEC_PT_FLAG_READONLY;
        } else if (f[0] != '\0') {
            snprintf(why, whylen, "CSV flag column contains unknown flag '%s'", f);
            return -1;
        }
        flags = colon ? colon + 1 : NULL;
    }
    return 0;
}

static uint32_t offset_alignment(uint8_t type)
{
    return type == ESPSEC_PT_TYPE_APP ? 0x10000u : 0x1000u;
}

static int is_primary_boot_or_table(const espsec_partition_t *p)
{
    return (p->type == ESPSEC_PT_TYPE_BOOTLOADER || p->type == ESPSEC_PT_TYPE_PARTITION_TABLE) && p->subtype == 0;
}

espsec_err_t espsec_pt_from_csv(const char *text, size_t len, const espsec_pt_opts_t *opts, espsec_partition_table_t *t,
                                espsec_error_t *err)
{
    memset(t, 0, sizeof(*t));
    int has_offset[ESPSEC_PT_MAX_ENTRIES] = {0};
    if (len >= 3 && (uint8_t)text[0] == 0xEF && (uint8_t)text[1] == 0xBB && (uint8_t)text[2] == 0xBF) {
        text += 3;
        len -= 3;
    }
    int line_no = 0;
    size_t pos = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n' && text[end] != '\r') {
            end++;
        }
        line_no++;
        char raw[1024], line[2048], why[400];
        size_t ll = end - pos;
        if (ll >= sizeof(raw)) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "Error at line %d: line too long", line_no);
        }
        memcpy(raw, text + pos, ll);
        raw[ll] = '\0';
        pos = end;
        if (pos < len && text[pos] == '\r' && pos + 1 < len && text[pos + 1] == '\n') {
            pos++;
        }
        pos++;
        if (memchr(raw, '\0', ll) != NULL) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "Error at line %d: NUL byte in text (is this a binary file?)",
                               line_no);
        }
        if (opts->expand_env) {
            if (expand_vars(raw, line, sizeof(line), why, sizeof(why)) != 0) {
                return espsec_fail(err, ESPSEC_ERR_PARSE, "Error at line %d: %s", line_no, why);
            }
        } else {
            snprintf(line, sizeof(line), "%s", raw);
        }
        char *l = espsec_trim(line);
        if (l[0] == '#' || l[0] == '\0') {
            continue;
        }
        if (t->count >= ESPSEC_PT_MAX_ENTRIES) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "Error at line %d: more than %d partitions", line_no,
                               ESPSEC_PT_MAX_ENTRIES);
        }
        if (parse_row(l, line_no, opts, &t->entries[t->count], &has_offset[t->count], why, sizeof(why)) != 0) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "Error at line %d: %s", line_no, why);
        }
        t->count++;
    }
    /* fill in missing offsets, resolve negative sizes */
    uint64_t last_end = (uint64_t)opts->table_offset + ESPSEC_PT_SECTOR_SIZE;
    for (size_t i = 0; i < t->count; i++) {
        espsec_partition_t *p = &t->entries[i];
        int ln = p->line < 0 ? -p->line : p->line;
        int neg = p->line < 0;
        p->line = ln;
        if (is_primary_boot_or_table(p)) {
            continue;
        }
        if (has_offset[i] && p->offset < last_end) {
            if (i == 0) {
                return espsec_fail(err, ESPSEC_ERR_PARSE,
                                   "CSV Error at line %d: Partitions overlap. Partition sets offset 0x%x. But partition "
                                   "table occupies the whole sector 0x%x. Use a free offset 0x%llx or higher.",
                                   ln, p->offset, opts->table_offset, (unsigned long long)last_end);
            }
            return espsec_fail(err, ESPSEC_ERR_PARSE,
                               "CSV Error at line %d: Partitions overlap. Partition sets offset 0x%x. Previous "
                               "partition ends 0x%llx",
                               ln, p->offset, (unsigned long long)last_end);
        }
        if (!has_offset[i]) {
            uint32_t align = offset_alignment(p->type);
            if (last_end % align) {
                last_end += align - last_end % align;
            }
            if (last_end > 0xFFFFFFFFull) {
                return espsec_fail(err, ESPSEC_ERR_PARSE, "CSV Error at line %d: partitions run past 4 GiB", ln);
            }
            p->offset = (uint32_t)last_end;
        }
        if (neg) {
            if (p->size < p->offset) {
                return espsec_fail(err, ESPSEC_ERR_PARSE,
                                   "CSV Error at line %d: negative size -0x%x ends before the partition's offset 0x%x", ln,
                                   p->size, p->offset);
            }
            p->size = p->size - p->offset;
        }
        last_end = (uint64_t)p->offset + p->size;
        if (last_end > 0x100000000ull) {
            return espsec_fail(err, ESPSEC_ERR_PARSE,
                               "CSV Error at line %d: partition %s at 0x%x of size 0x%x ends past the 4 GiB flash "
                               "address space",
                               ln, p->name, p->offset, p->size);
        }
    }
    return ESPSEC_OK;
}

static int cmp_offset(const void *a, const void *b)
{
    const espsec_partition_t *x = *(const espsec_partition_t *const *)a, *y = *(const espsec_partition_t *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int name_is_subtype(const char *name)
{
    static const int types[] = {ESPSEC_PT_TYPE_BOOTLOADER, ESPSEC_PT_TYPE_PARTITION_TABLE, ESPSEC_PT_TYPE_APP,
                                ESPSEC_PT_TYPE_DATA};
    for (size_t i = 0; i < 4; i++) {
        if (subtype_keyword(types[i], name) >= 0) {
            return 1;
        }
    }
    return 0;
}

static espsec_err_t verify_one(espsec_partition_table_t *t, const espsec_partition_t *p, const espsec_pt_opts_t *opts,
                               espsec_error_t *err)
{
    uint32_t align = offset_alignment(p->type);
    if (p->offset % align) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "Partition %s invalid: Offset 0x%x is not aligned to 0x%x", p->name,
                           p->offset, align);
    }
    if (p->type == ESPSEC_PT_TYPE_APP) {
        uint32_t size_align = opts->secure == 1 ? 0x10000u : 0x1000u;
        if (p->size % size_align) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "Partition %s invalid: Size 0x%x is not aligned to 0x%x", p->name,
                               p->size, size_align);
        }
    }
    for (const struct keyword *k = TYPES; k->name; k++) {
        if (strcmp(k->name, p->name) == 0 && k->value != p->type) {
            warn(t,
                 "WARNING: Partition has name '%s' which is a partition type, but does not match this partition's "
                 "type (0x%x). Mistake in partition table?",
                 p->name, p->type);
        }
    }
    if (name_is_subtype(p->name) && subtype_keyword(p->type, p->name) != p->subtype) {
        warn(t,
             "WARNING: Partition has name '%s' which is a partition subtype, but this partition has non-matching "
             "type 0x%x and subtype 0x%x. Mistake in partition table?",
             p->name, p->type, p->subtype);
    }
    if (p->type == ESPSEC_PT_TYPE_DATA && (p->subtype == ESPSEC_PT_SUBTYPE_DATA_OTA || p->subtype == ESPSEC_PT_SUBTYPE_DATA_COREDUMP) &&
        (p->flags & ESPSEC_PT_FLAG_READONLY)) {
        return espsec_fail(err, ESPSEC_ERR_PARSE,
                           "Partition %s invalid: '%s' partition of type %u and subtype %u is always read-write and "
                           "cannot be read-only",
                           p->name, p->name, p->type, p->subtype);
    }
    if (p->type == ESPSEC_PT_TYPE_DATA && p->subtype == ESPSEC_PT_SUBTYPE_DATA_NVS && p->size < NVS_MIN_RW_SIZE &&
        !(p->flags & ESPSEC_PT_FLAG_READONLY)) {
        return espsec_fail(err, ESPSEC_ERR_PARSE,
                           "Partition %s invalid: '%s' partition of type %u and subtype %u of this size (0x%x) must be "
                           "flagged as 'readonly' (the size of read/write NVS has to be at least 0x%x)",
                           p->name, p->name, p->type, p->subtype, p->size, NVS_MIN_RW_SIZE);
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_pt_verify(espsec_partition_table_t *t, const espsec_pt_opts_t *opts, espsec_error_t *err)
{
    for (size_t i = 0; i < t->count; i++) {
        espsec_err_t rc = verify_one(t, &t->entries[i], opts, err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    for (size_t i = 0; i < t->count; i++) {
        for (size_t j = i + 1; j < t->count; j++) {
            if (strcmp(t->entries[i].name, t->entries[j].name) == 0) {
                return espsec_fail(err, ESPSEC_ERR_PARSE, "Partition names must be unique ('%s' appears twice)",
                                   t->entries[i].name);
            }
        }
    }
    const espsec_partition_t *sorted[ESPSEC_PT_MAX_ENTRIES];
    for (size_t i = 0; i < t->count; i++) {
        sorted[i] = &t->entries[i];
    }
    qsort(sorted, t->count, sizeof(sorted[0]), cmp_offset); // NOLINT(bugprone-sizeof-expression): an array of pointers
    const espsec_partition_t *last = NULL;
    uint64_t min_off = (uint64_t)opts->table_offset + ESPSEC_PT_SECTOR_SIZE;
    for (size_t i = 0; i < t->count; i++) {
        const espsec_partition_t *p = sorted[i];
        if (p->offset < min_off && !is_primary_boot_or_table(p)) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "Partition offset 0x%x is below 0x%llx", p->offset,
                               (unsigned long long)min_off);
        }
        if (last != NULL && p->offset < (uint64_t)last->offset + last->size) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "Partition at 0x%x overlaps 0x%x-0x%llx", p->offset, last->offset,
                               (unsigned long long)last->offset + last->size - 1);
        }
        last = p;
    }
    static const uint8_t ota_subtypes[2] = {ESPSEC_PT_SUBTYPE_DATA_OTA, 0x90};
    for (int k = 0; k < 2; k++) {
        size_t n = 0;
        const espsec_partition_t *found = NULL;
        for (size_t i = 0; i < t->count; i++) {
            if (t->entries[i].type == ESPSEC_PT_TYPE_DATA && t->entries[i].subtype == ota_subtypes[k]) {
                n++;
                found = &t->entries[i];
            }
        }
        if (n > 1) {
            return espsec_fail(err, ESPSEC_ERR_PARSE,
                               "Found multiple %sotadata partitions. Only one partition can be defined with "
                               "type=\"data\"(1) and subtype=\"%s\"(0x%x).",
                               k ? "TEE " : "", k ? "tee_ota" : "ota", ota_subtypes[k]);
        }
        if (n == 1 && found->size != OTADATA_SIZE) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "%sotadata partition must have size = 0x2000 (line %d has 0x%x)",
                               k ? "TEE " : "", found->line, found->size);
        }
    }
    if (opts->flash_size != 0 && last != NULL && (uint64_t)last->offset + last->size > opts->flash_size) {
        return espsec_fail(err, ESPSEC_ERR_PARSE,
                           "Partitions tables occupies %.1fMB of flash (%llu bytes) which does not fit in configured "
                           "flash size %uMB.",
                           ((double)last->offset + last->size) / (1024.0 * 1024.0),
                           (unsigned long long)last->offset + last->size, opts->flash_size / (1024 * 1024));
    }
    return ESPSEC_OK;
}

static void size_text(uint32_t v, int with_units, char *out, size_t cap)
{
    if (with_units && v % 0x100000 == 0) {
        snprintf(out, cap, "%uM", v / 0x100000);
    } else if (with_units && v % 0x400 == 0) {
        snprintf(out, cap, "%uK", v / 0x400);
    } else {
        snprintf(out, cap, "0x%x", v);
    }
}

char *espsec_pt_to_csv(const espsec_partition_table_t *t)
{
    size_t cap = 128 + t->count * 128;
    char *out = malloc(cap);
    if (out == NULL) {
        return NULL;
    }
    size_t n = (size_t)snprintf(out, cap, "# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\n");
    for (size_t i = 0; i < t->count; i++) {
        const espsec_partition_t *p = &t->entries[i];
        char type[16], sub[16], off[16], size[16];
        const char *tn = espsec_pt_type_name(p->type), *sn = espsec_pt_subtype_name(p->type, p->subtype);
        snprintf(type, sizeof(type), "%s", tn ? tn : "");
        if (tn == NULL) {
            snprintf(type, sizeof(type), "%u", p->type);
        }
        if (sn != NULL) {
            snprintf(sub, sizeof(sub), "%s", sn);
        } else {
            snprintf(sub, sizeof(sub), "%u", p->subtype);
        }
        size_text(p->offset, 0, off, sizeof(off));
        size_text(p->size, 1, size, sizeof(size));
        const char *flags = (p->flags & ESPSEC_PT_FLAG_ENCRYPTED) && (p->flags & ESPSEC_PT_FLAG_READONLY)
                                ? "encrypted:readonly"
                                : (p->flags & ESPSEC_PT_FLAG_ENCRYPTED) ? "encrypted"
                                : (p->flags & ESPSEC_PT_FLAG_READONLY)  ? "readonly"
                                                                        : "";
        n += (size_t)snprintf(out + n, cap - n, "%s,%s,%s,%s,%s,%s\n", p->name, type, sub, off, size, flags);
    }
    return out;
}

const espsec_partition_t *espsec_pt_find(const espsec_partition_table_t *t, int type, int subtype)
{
    for (size_t i = 0; i < t->count; i++) {
        if (t->entries[i].type == type && (subtype < 0 || t->entries[i].subtype == subtype)) {
            return &t->entries[i];
        }
    }
    return NULL;
}

const espsec_partition_t *espsec_pt_find_name(const espsec_partition_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->count; i++) {
        if (strcmp(t->entries[i].name, name) == 0) {
            return &t->entries[i];
        }
    }
    return NULL;
}
