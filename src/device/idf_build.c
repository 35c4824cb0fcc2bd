/*
 * An idf.py build folder as input (espsec/device.h): flasher_args.json says
 * which file goes to which flash offset, project_description.json names the
 * target and the sdkconfig. A small JSON tokenizer (objects, arrays, strings,
 * literals) is enough for both files; values are read by key, never by
 * position.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/device.h"
#include "espsec/io.h"
#include "espsec/util.h"

/* ---- JSON tokens ---- */

enum { J_OBJ, J_ARR, J_STR, J_LIT };

typedef struct {
    int type;
    size_t start, end; /* the text (strings without their quotes, still escaped) */
    int parent;
    int next;          /* next sibling, -1 at the end */
    int first;         /* first child (objects: key, value, key, value...) */
} jtok_t;

typedef struct {
    const char *s;
    size_t len, pos;
    jtok_t *t;
    int n, cap;
    const char *name;
    espsec_error_t *err;
} jparse_t;

static void skip_ws(jparse_t *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
                               p->s[p->pos] == '\r')) {
        p->pos++;
    }
}

static int jfail(jparse_t *p, const char *what)
{
    espsec_fail(p->err, ESPSEC_ERR_PARSE, "%s: offset %zu: %s", p->name, p->pos, what);
    return -1;
}

static int new_tok(jparse_t *p, int type, int parent)
{
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 64;
        if (cap > 100000) {
            return jfail(p, "too many JSON values");
        }
        jtok_t *t = realloc(p->t, (size_t)cap * sizeof(*t));
        if (t == NULL) {
            espsec_fail(p->err, ESPSEC_ERR_NO_MEM, "out of memory");
            return -1;
        }
        p->t = t;
        p->cap = cap;
    }
    p->t[p->n] = (jtok_t){type, p->pos, p->pos, parent, -1, -1};
    return p->n++;
}

static int parse_value(jparse_t *p, int parent, int depth);

static void link_child(jparse_t *p, int parent, int *last, int child)
{
    if (*last < 0) {
        p->t[parent].first = child;
    } else {
        p->t[*last].next = child;
    }
    *last = child;
}

static int parse_string(jparse_t *p, int parent)
{
    int i = new_tok(p, J_STR, parent);
    if (i < 0) {
        return -1;
    }
    p->pos++; /* the quote */
    p->t[i].start = p->pos;
    while (p->pos < p->len && p->s[p->pos] != '"') {
        if (p->s[p->pos] == '\\') {
            p->pos++;
        }
        if ((unsigned char)p->s[p->pos < p->len ? p->pos : p->len - 1] < 0x20) {
            return jfail(p, "control character in a string");
        }
        p->pos++;
    }
    if (p->pos >= p->len) {
        return jfail(p, "unterminated string");
    }
    p->t[i].end = p->pos++;
    return i;
}

static int parse_container(jparse_t *p, int parent, int depth, int obj)
{
    int i = new_tok(p, obj ? J_OBJ : J_ARR, parent);
    if (i < 0) {
        return -1;
    }
    p->pos++;
    int last = -1;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
        p->pos++;
        return i;
    }
    for (;;) {
        skip_ws(p);
        if (obj) {
            if (p->pos >= p->len || p->s[p->pos] != '"') {
                return jfail(p, "a key (string) expected");
            }
            int k = parse_string(p, i);
            if (k < 0) {
                return -1;
            }
            link_child(p, i, &last, k);
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                return jfail(p, "':' expected");
            }
            p->pos++;
        }
        int v = parse_value(p, i, depth + 1);
        if (v < 0) {
            return -1;
        }
        link_child(p, i, &last, v);
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
            p->pos++;
            p->t[i].end = p->pos;
            return i;
        }
        return jfail(p, obj ? "',' or '}' expected" : "',' or ']' expected");
    }
}

static int parse_value(jparse_t *p, int parent, int depth)
{
    if (depth > 32) {
        return jfail(p, "JSON nested too deeply");
    }
    skip_ws(p);
    if (p->pos >= p->len) {
        return jfail(p, "a value expected");
    }
    char c = p->s[p->pos];
    if (c == '{' || c == '[') {
        return parse_container(p, parent, depth, c == '{');
    }
    if (c == '"') {
        return parse_string(p, parent);
    }
    int i = new_tok(p, J_LIT, parent);
    if (i < 0) {
        return -1;
    }
    while (p->pos < p->len && strchr(",}] \t\r\n", p->s[p->pos]) == NULL) {
        p->pos++;
    }
    p->t[i].end = p->pos;
    if (p->t[i].end == p->t[i].start) {
        return jfail(p, "a value expected");
    }
    return i;
}

static int jeq(const jparse_t *p, int i, const char *key)
{
    size_t n = p->t[i].end - p->t[i].start;
    return p->t[i].type == J_STR && strlen(key) == n && memcmp(p->s + p->t[i].start, key, n) == 0;
}

/* The value of key in object obj, or -1. */
static int jget(const jparse_t *p, int obj, const char *key)
{
    if (obj < 0 || p->t[obj].type != J_OBJ) {
        return -1;
    }
    for (int k = p->t[obj].first; k >= 0 && p->t[k].next >= 0; k = p->t[p->t[k].next].next) {
        if (jeq(p, k, key)) {
            return p->t[k].next;
        }
    }
    return -1;
}

/* A string value, unescaped (\" \\ \/ only; paths need no more). 0 on success. */
static int jstr(const jparse_t *p, int i, char *out, size_t cap)
{
    if (i < 0 || p->t[i].type != J_STR) {
        return -1;
    }
    size_t o = 0;
    for (size_t k = p->t[i].start; k < p->t[i].end; k++) {
        char c = p->s[k];
        if (c == '\\') {
            c = p->s[++k];
            if (c != '"' && c != '\\' && c != '/') {
                return -1;
            }
        }
        if (o + 1 >= cap) {
            return -1;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

static espsec_err_t jload(const char *path, jparse_t *p, espsec_error_t *err)
{
    uint8_t *text = NULL;
    size_t len = 0;
    memset(p, 0, sizeof(*p));
    espsec_err_t rc = espsec_read_file(path, &text, &len, 16u << 20, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    p->s = (const char *)text;
    p->len = len;
    p->name = path;
    p->err = err;
    if (parse_value(p, -1, 0) != 0) {
        free(text);
        free(p->t);
        memset(p, 0, sizeof(*p));
        return err != NULL && err->code != ESPSEC_OK ? err->code : ESPSEC_ERR_PARSE;
    }
    skip_ws(p);
    if (p->t == NULL || p->n == 0 || p->pos != p->len) {
        jfail(p, p->t == NULL || p->n == 0 ? "no JSON value" : "text after the JSON value");
        free(text);
        free(p->t);
        memset(p, 0, sizeof(*p));
        return ESPSEC_ERR_PARSE;
    }
    return ESPSEC_OK;
}

static void jfree(jparse_t *p)
{
    free((void *)p->s);
    free(p->t);
}

/* ---- the build folder ---- */

/* dir/rel (rel when absolute); -1 when it does not fit */
static int join(char *out, size_t cap, const char *dir, const char *rel)
{
    int n = rel[0] == '/' ? snprintf(out, cap, "%s", rel) : snprintf(out, cap, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f != NULL) {
        (void)fclose(f);
    }
    return f != NULL;
}

static espsec_err_t parse_size(const char *s, size_t *out)
{
    /* esptool's flash sizes: "4MB", "16MB", "256KB"; "keep"/"detect" leave the default */
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s) {
        return ESPSEC_ERR_PARSE;
    }
    if (strcmp(end, "MB") == 0 && v >= 1 && v <= 128) {
        *out = (size_t)v << 20;
    } else if (strcmp(end, "KB") == 0 && v >= 64 && v <= 131072) {
        *out = (size_t)v << 10;
    } else {
        return ESPSEC_ERR_PARSE;
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_idf_build_load(const char *dir, espsec_idf_build_t *b, espsec_error_t *err)
{
    memset(b, 0, sizeof(*b));
    b->flash_size = 4u << 20;
    b->chip = ESPSEC_CHIP_UNKNOWN;
    char path[ESPSEC_IDF_PATH_MAX];
    jparse_t fa, pd;
    if (join(path, sizeof(path), dir, "flasher_args.json") != 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s: path too long", dir);
    }
    espsec_err_t rc = jload(path, &fa, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    const int root = 0;
    int files = jget(&fa, root, "flash_files");
    if (files < 0 || fa.t[files].type != J_OBJ) {
        jfree(&fa);
        return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: no \"flash_files\" object (is this an idf.py build folder?)",
                           path);
    }
    for (int k = fa.t[files].first; k >= 0 && fa.t[k].next >= 0; k = fa.t[fa.t[k].next].next) {
        char off[32], rel[ESPSEC_IDF_PATH_MAX];
        uint64_t o = 0;
        if (jstr(&fa, k, off, sizeof(off)) != 0 || espsec_parse_u64(off, &o) != 0 || o > 0x7FFFFFFF ||
            jstr(&fa, fa.t[k].next, rel, sizeof(rel)) != 0) {
            jfree(&fa);
            return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: flash_files: \"OFFSET\": \"FILE\" pairs expected", path);
        }
        if (b->nfiles == ESPSEC_IDF_MAX_FILES) {
            jfree(&fa);
            return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "%s: more than %d flash files", path,
                               ESPSEC_IDF_MAX_FILES);
        }
        b->files[b->nfiles].offset = (uint32_t)o;
        if (join(b->files[b->nfiles].path, sizeof(b->files[b->nfiles].path), dir, rel) != 0) {
            jfree(&fa);
            return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s: the path of '%s' is too long", path, rel);
        }
        b->nfiles++;
    }
    /* with Secure Boot the bootloader is left out of flash_files (it is flashed once, apart): take it too */
    int bl = jget(&fa, root, "bootloader");
    char off[32], rel[ESPSEC_IDF_PATH_MAX];
    uint64_t o = 0;
    if (bl >= 0 && jstr(&fa, jget(&fa, bl, "offset"), off, sizeof(off)) == 0 && espsec_parse_u64(off, &o) == 0 &&
        o <= 0x7FFFFFFF && jstr(&fa, jget(&fa, bl, "file"), rel, sizeof(rel)) == 0) {
        int have = 0;
        for (size_t i = 0; i < b->nfiles; i++) {
            have |= b->files[i].offset == (uint32_t)o;
        }
        if (!have && b->nfiles < ESPSEC_IDF_MAX_FILES &&
            join(b->files[b->nfiles].path, sizeof(b->files[b->nfiles].path), dir, rel) == 0) {
            b->files[b->nfiles].offset = (uint32_t)o;
            b->nfiles++;
        }
        b->bootloader_offset = (uint32_t)o;
        b->have_bootloader = 1;
    }
    char v[64];
    int fs = jget(&fa, root, "flash_settings");
    if (jstr(&fa, jget(&fa, fs, "flash_size"), v, sizeof(v)) == 0 && strcmp(v, "keep") != 0 &&
        strcmp(v, "detect") != 0 && parse_size(v, &b->flash_size) != ESPSEC_OK) {
        jfree(&fa);
        return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: flash_settings.flash_size '%s': e.g. \"4MB\" expected", path, v);
    }
    int ex = jget(&fa, root, "extra_esptool_args");
    if (jstr(&fa, jget(&fa, ex, "chip"), v, sizeof(v)) == 0) {
        b->chip = espsec_chip_from_name(v);
    }
    jfree(&fa);
    /* project_description.json: the target and the sdkconfig */
    if (join(path, sizeof(path), dir, "project_description.json") == 0 && file_exists(path)) {
        rc = jload(path, &pd, err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
        if (jstr(&pd, jget(&pd, 0, "target"), v, sizeof(v)) == 0) {
            b->chip = espsec_chip_from_name(v);
        }
        char cf[ESPSEC_IDF_PATH_MAX], pp[ESPSEC_IDF_PATH_MAX];
        if (jstr(&pd, jget(&pd, 0, "config_file"), cf, sizeof(cf)) == 0 && file_exists(cf)) {
            snprintf(b->sdkconfig, sizeof(b->sdkconfig), "%s", cf);
        } else if (jstr(&pd, jget(&pd, 0, "project_path"), pp, sizeof(pp)) == 0) {
            if (join(cf, sizeof(cf), pp, "sdkconfig") == 0 && file_exists(cf)) {
                snprintf(b->sdkconfig, sizeof(b->sdkconfig), "%s", cf);
            }
        }
        jfree(&pd);
    }
    /* a build folder moved away from its project: the sdkconfig next to it */
    const char *guess[] = {"../sdkconfig", "sdkconfig", "config/sdkconfig"};
    for (size_t g = 0; b->sdkconfig[0] == '\0' && g < sizeof(guess) / sizeof(guess[0]); g++) {
        if (join(path, sizeof(path), dir, guess[g]) == 0 && file_exists(path)) {
            snprintf(b->sdkconfig, sizeof(b->sdkconfig), "%s", path);
        }
    }
    if (b->chip == ESPSEC_CHIP_UNKNOWN) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: the build names no target (project_description.json "
                                                  "\"target\" or flasher_args.json extra_esptool_args.chip)",
                           dir);
    }
    if (b->nfiles == 0) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "%s/flasher_args.json: no files to flash", dir);
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_idf_build_flash(const espsec_idf_build_t *b, espsec_flash_t **out, espsec_error_t *err)
{
    *out = NULL;
    espsec_flash_t *fl = NULL;
    espsec_err_t rc = espsec_flash_new(b->flash_size, &fl, err);
    for (size_t i = 0; rc == ESPSEC_OK && i < b->nfiles; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        rc = espsec_read_file(b->files[i].path, &data, &len, b->flash_size, err);
        if (rc != ESPSEC_OK) {
            break;
        }
        if (len > b->flash_size || b->files[i].offset > b->flash_size - len) {
            rc = espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "%s: %zu bytes at 0x%x run past the %zu MiB flash",
                             b->files[i].path, len, b->files[i].offset, b->flash_size >> 20);
        } else if (b->files[i].offset % 0x1000 != 0) {
            rc = espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s: offset 0x%x is not 4 KiB aligned", b->files[i].path,
                             b->files[i].offset);
        } else {
            rc = espsec_flash_write(fl, b->files[i].offset, data, len, err);
        }
        free(data);
    }
    if (rc != ESPSEC_OK) {
        espsec_flash_free(fl);
        return rc;
    }
    *out = fl;
    return ESPSEC_OK;
}
