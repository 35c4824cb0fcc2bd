/* Streaming JSON writer (json.h). */
#include "json.h"

#include <string.h>

void json_init(json_t *j, FILE *f)
{
    memset(j, 0, sizeof(*j));
    j->f = f;
}

static void indent(json_t *j)
{
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++) {
        fputs("  ", j->f);
    }
}

static void escaped(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (c < 0x20 || c == 0x7F) {
                fprintf(f, "\\u%04x", c);
            } else {
                fputc(c, f);
            }
        }
    }
    fputc('"', f);
}

static void member(json_t *j, const char *key)
{
    if (j->depth > 0) {
        if (j->count[j->depth]++ > 0) {
            fputc(',', j->f);
        }
        indent(j);
    }
    if (key != NULL) {
        escaped(j->f, key, strlen(key));
        fputs(": ", j->f);
    }
}

static void open_(json_t *j, const char *key, char c)
{
    member(j, key);
    fputc(c, j->f);
    j->depth++;
    j->count[j->depth] = 0;
}

static void close_(json_t *j, char c)
{
    int had = j->count[j->depth];
    j->depth--;
    if (had) {
        indent(j);
    }
    fputc(c, j->f);
}

void json_obj(json_t *j, const char *key)
{
    open_(j, key, '{');
}
void json_obj_end(json_t *j)
{
    close_(j, '}');
}
void json_arr(json_t *j, const char *key)
{
    open_(j, key, '[');
}
void json_arr_end(json_t *j)
{
    close_(j, ']');
}
void json_str(json_t *j, const char *key, const char *val)
{
    if (val == NULL) {
        json_null(j, key);
        return;
    }
    json_strn(j, key, val, strlen(val));
}
void json_strn(json_t *j, const char *key, const char *val, size_t n)
{
    member(j, key);
    escaped(j->f, val, n);
}
void json_int(json_t *j, const char *key, long long val)
{
    member(j, key);
    fprintf(j->f, "%lld", val);
}
void json_uint(json_t *j, const char *key, unsigned long long val)
{
    member(j, key);
    fprintf(j->f, "%llu", val);
}
void json_bool(json_t *j, const char *key, int val)
{
    member(j, key);
    fputs(val ? "true" : "false", j->f);
}
void json_null(json_t *j, const char *key)
{
    member(j, key);
    fputs("null", j->f);
}
void json_hex(json_t *j, const char *key, const uint8_t *buf, size_t n)
{
    static const char d[] = "0123456789abcdef";
    member(j, key);
    fputc('"', j->f);
    for (size_t i = 0; i < n; i++) {
        fputc(d[buf[i] >> 4], j->f);
        fputc(d[buf[i] & 15], j->f);
    }
    fputc('"', j->f);
}
void json_end(json_t *j)
{
    fputc('\n', j->f);
}
