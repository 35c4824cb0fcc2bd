/* CSV reading with Python csv module rules (util/csv.h). */
#include "util/csv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void csv_init(csv_reader_t *r, const char *text, size_t len, int skip_comments)
{
    memset(r, 0, sizeof(*r));
    r->text = text;
    r->len = len;
    r->line = 1;
    r->skip_comments = skip_comments;
    /* a UTF-8 byte order mark is not part of the first field */
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB && (unsigned char)text[2] == 0xBF) {
        r->pos = 3;
    }
}

void csv_free(csv_reader_t *r)
{
    free(r->buf);
    r->buf = NULL;
}

static int put(csv_reader_t *r, size_t *n, char c)
{
    if (*n + 1 >= r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 256;
        char *nb = realloc(r->buf, ncap);
        if (nb == NULL) {
            return -1;
        }
        r->buf = nb;
        r->cap = ncap;
    }
    r->buf[(*n)++] = c;
    return 0;
}

int csv_next(csv_reader_t *r, espsec_error_t *err)
{
    for (;;) {
        if (r->pos >= r->len) {
            return 0;
        }
        char c = r->text[r->pos];
        if (c == '\n' || c == '\r') {
            /* empty line */
            r->pos += (c == '\r' && r->pos + 1 < r->len && r->text[r->pos + 1] == '\n') ? 2 : 1;
            r->line++;
            continue;
        }
        if (r->skip_comments && c == '#') {
            while (r->pos < r->len && r->text[r->pos] != '\n') {
                r->pos++;
            }
            continue;
        }
        break;
    }
    r->row_line = r->line;
    r->nfields = 0;
    size_t n = 0;
    size_t start = 0;
    int quoted = 0;
    for (;;) {
        if (r->nfields >= CSV_MAX_FIELDS) {
            espsec_fail(err, ESPSEC_ERR_PARSE, "line %d: more than %d fields", r->row_line, CSV_MAX_FIELDS);
            return -1;
        }
        int end_row = 0, end_field = 0;
        if (r->pos >= r->len) {
            if (quoted) {
                espsec_fail(err, ESPSEC_ERR_PARSE, "line %d: unexpected end of file inside a quoted field",
                            r->row_line);
                return -1;
            }
            end_row = 1;
        } else {
            char c = r->text[r->pos++];
            if (c == '\0') {
                espsec_fail(err, ESPSEC_ERR_PARSE, "line %d: NUL byte in the CSV (a binary file?)", r->line);
                return -1;
            }
            if (quoted) {
                if (c == '"') {
                    if (r->pos < r->len && r->text[r->pos] == '"') {
                        r->pos++;
                        if (put(r, &n, '"') != 0) {
                            goto oom;
                        }
                    } else {
                        quoted = 0;
                    }
                } else {
                    if (c == '\n') {
                        r->line++;
                    }
                    if (put(r, &n, c) != 0) {
                        goto oom;
                    }
                }
                continue;
            }
            if (c == '"' && n == start) {
                quoted = 1;
                continue;
            }
            if (c == ',') {
                end_field = 1;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && r->pos < r->len && r->text[r->pos] == '\n') {
                    r->pos++;
                }
                r->line++;
                end_row = 1;
            } else if (put(r, &n, c) != 0) {
                goto oom;
            }
        }
        if (end_field || end_row) {
            if (put(r, &n, '\0') != 0) {
                goto oom;
            }
            r->fields[r->nfields++] = (char *)(uintptr_t)start; /* an offset until the row is complete */
            start = n;
            if (end_row) {
                break;
            }
        }
    }
    for (size_t i = 0; i < r->nfields; i++) {
        r->fields[i] = r->buf + (size_t)(uintptr_t)r->fields[i];
    }
    return 1;
oom:
    espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory reading the CSV");
    return -1;
}
