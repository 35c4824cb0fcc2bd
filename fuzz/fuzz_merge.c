/*
 * Fuzz Intel HEX reading and merge-bin: the input is read as an Intel HEX
 * file (or taken raw), merged after a bootloader-offset image with the
 * header rewrite asked for, and written as raw, Intel HEX and UF2. Every
 * input must end in an output or an error, never a crash; a parsed hex
 * file written back must read back to the same runs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/ihex.h"
#include "espsec/merge.h"

/* Returns the end of the highest run (0 when not Intel HEX). */
static uint64_t roundtrip(const uint8_t *data, size_t size)
{
    espsec_ihex_run_t *runs = NULL, *back = NULL;
    size_t n = 0, nb = 0;
    uint64_t top = 0;
    if (espsec_ihex_parse(data, size, &runs, &n, NULL) != ESPSEC_OK) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        top = runs[i].addr + runs[i].len > top ? runs[i].addr + runs[i].len : top;
    }
    espsec_ihex_span_t *spans = calloc(n ? n : 1, sizeof(*spans));
    for (size_t i = 0; spans != NULL && i < n; i++) {
        spans[i] = (espsec_ihex_span_t){runs[i].addr, runs[i].data, runs[i].len};
    }
    uint8_t *text = NULL;
    size_t tl = 0;
    if (spans != NULL && espsec_ihex_write(spans, n, &text, &tl, NULL) == ESPSEC_OK) {
        if (espsec_ihex_parse(text, tl, &back, &nb, NULL) != ESPSEC_OK || nb != n) {
            abort();
        }
        for (size_t i = 0; i < n; i++) {
            if (back[i].addr != runs[i].addr || back[i].len != runs[i].len ||
                memcmp(back[i].data, runs[i].data, runs[i].len) != 0) {
                abort();
            }
        }
        espsec_ihex_free(back, nb);
        free(text);
    }
    free(spans);
    espsec_ihex_free(runs, n);
    return top;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a raw image is as large as the highest address: keep those to a few MiB */
    int raw = roundtrip(data, size) <= (4u << 20);
    const espsec_merge_format_t formats[] = {ESPSEC_MERGE_HEX, ESPSEC_MERGE_UF2, ESPSEC_MERGE_RAW};
    for (size_t f = 0; f < (raw ? 3u : 2u); f++) {
        espsec_merge_t *m = espsec_merge_new();
        if (m == NULL) {
            return 0;
        }
        espsec_merge_opts_t o = {0};
        o.chip = espsec_chip_by_name("esp32");
        o.format = formats[f];
        o.flash_mode = "dout";
        o.flash_size = "2MB";
        uint8_t *out = NULL;
        size_t len = 0;
        /* the input at the bootloader offset (header rewrite) and, as hex, wherever it says */
        if (espsec_merge_add(m, 0x1000, data, size, "fuzz", NULL, NULL) == ESPSEC_OK &&
            espsec_merge_build(m, &o, &out, &len, NULL) == ESPSEC_OK) {
            free(out);
        }
        espsec_merge_free(m);
    }
    return 0;
}
