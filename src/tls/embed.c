/*
 * Embedding files in firmware (espsec/tls.h) the way ESP-IDF's EMBED_FILES
 * and EMBED_TXTFILES do: the symbol is the file name made a C identifier,
 * with _binary_<sym>_start / _end around the bytes and <sym>_length after.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/tls.h"

void espsec_embed_symbol(const char *filename, char *out, size_t cap)
{
    const char *base = strrchr(filename, '/');
    base = base ? base + 1 : filename;
    size_t n = 0;
    if (isdigit((unsigned char)base[0]) && n + 1 < cap) {
        out[n++] = '_'; /* as CMake's MAKE_C_IDENTIFIER */
    }
    for (const char *p = base; *p && n + 1 < cap; p++) {
        out[n++] = isalnum((unsigned char)*p) ? *p : '_';
    }
    out[n] = '\0';
}

typedef struct {
    char *buf;
    size_t len, cap;
} sb_t;

static void put(sb_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sb_t *s, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(s->buf ? s->buf + s->len : NULL, s->buf ? s->cap - s->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            return;
        }
        if (s->buf != NULL && s->len + (size_t)n < s->cap) {
            s->len += (size_t)n;
            return;
        }
        size_t cap = (s->cap ? s->cap * 2 : 4096) + (size_t)n;
        char *nb = realloc(s->buf, cap);
        if (nb == NULL) {
            return;
        }
        s->buf = nb;
        s->cap = cap;
    }
}

char *espsec_embed_source(const uint8_t *data, size_t len, const char *symbol, const char *source_name, int text,
                          espsec_embed_format_t fmt)
{
    sb_t s = {0};
    size_t total = len + (text ? 1 : 0);
    if (fmt == ESPSEC_EMBED_ASM) {
        put(&s, "/* Data converted from %s%s */\n.data\n", source_name, text ? " (text: a NUL is appended)" : "");
        put(&s, "#if !defined (__APPLE__) && !defined (__linux__)\n.section .rodata.embedded\n#endif\n\n");
        put(&s, ".global %s\n%s:\n\n.global _binary_%s_start\n_binary_%s_start:\n", symbol, symbol, symbol, symbol);
        for (size_t i = 0; i < total; i += 16) {
            put(&s, ".byte ");
            for (size_t j = i; j < total && j < i + 16; j++) {
                put(&s, "0x%02x%s", j < len ? data[j] : 0, j + 1 < total && j + 1 < i + 16 ? ", " : "");
            }
            put(&s, "\n");
        }
        put(&s, "\n.global _binary_%s_end\n_binary_%s_end:\n\n", symbol, symbol);
        put(&s, ".global %s_length\n%s_length:\n.long %zu\n\n", symbol, symbol, total);
        put(&s, "#if defined (__linux__)\n.section .note.GNU-stack,\"\",@progbits\n#endif\n");
    } else {
        put(&s, "/* Data converted from %s%s. */\n#include <stddef.h>\n#include <stdint.h>\n\n", source_name,
            text ? " (text: a NUL is appended)" : "");
        put(&s, "__attribute__((aligned(4))) const uint8_t %s[%zu] = {\n", symbol, total ? total : 1);
        for (size_t i = 0; i < total; i += 16) {
            put(&s, "   ");
            for (size_t j = i; j < total && j < i + 16; j++) {
                put(&s, " 0x%02x,", j < len ? data[j] : 0);
            }
            put(&s, "\n");
        }
        if (total == 0) {
            put(&s, "    0x00,\n");
        }
        put(&s, "};\nconst uint32_t %s_length = %zu;\n\n", symbol, total);
        put(&s, "/* the symbols EMBED_FILES defines, as aliases into the array */\n");
        put(&s, "__asm__(\".global _binary_%s_start\\n.set _binary_%s_start, %s\\n\"\n", symbol, symbol, symbol);
        put(&s, "        \".global _binary_%s_end\\n.set _binary_%s_end, %s + %zu\\n\");\n", symbol, symbol, symbol,
            total);
    }
    return s.buf;
}
