/* esptool merge-bin: raw, Intel HEX and UF2 outputs (espsec/merge.h). */
#include "espsec/merge.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "espsec/ihex.h"
#include "espsec/image.h"
#include "espsec/util.h"
#include "util/bytes.h"

#define SECTOR 4096u
#define IMAGE_MAGIC 0xE9
/* header bytes esptool rewrites, and the extended header's hash-appended flag */
#define H_FLASH_MODE 2
#define H_FLASH_SIZE_FREQ 3
#define H_HASH_APPENDED (8 + 15)

/* UF2 (microsoft/uf2) */
#define UF2_MAGIC_START0 0x0A324655u
#define UF2_MAGIC_START1 0x9E5D5157u
#define UF2_MAGIC_END 0x0AB16F30u
#define UF2_FLAG_FAMILY_ID 0x00002000u
#define UF2_FLAG_MD5 0x00004000u
#define UF2_HEADER 32

typedef struct {
    uint64_t addr;
    uint8_t *data;
    size_t len;
    char name[256];
} piece_t;

struct espsec_merge {
    piece_t *p;
    size_t n, cap;
};

espsec_merge_t *espsec_merge_new(void)
{
    return calloc(1, sizeof(espsec_merge_t));
}

void espsec_merge_free(espsec_merge_t *m)
{
    if (m == NULL) {
        return;
    }
    for (size_t i = 0; i < m->n; i++) {
        free(m->p[i].data);
    }
    free(m->p);
    free(m);
}

size_t espsec_merge_count(const espsec_merge_t *m)
{
    return m->n;
}

static espsec_err_t add_piece(espsec_merge_t *m, uint64_t addr, const uint8_t *data, size_t len, const char *name,
                              espsec_error_t *err)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        piece_t *np = realloc(m->p, cap * sizeof(*np));
        if (np == NULL) {
            return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
        }
        m->p = np;
        m->cap = cap;
    }
    piece_t *p = &m->p[m->n];
    p->data = malloc(len ? len : 1);
    if (p->data == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    if (len > 0) {
        memcpy(p->data, data, len);
    }
    p->addr = addr;
    p->len = len;
    /* a label for messages only: a longer one is cut, on purpose (and said so to gcc -O3) */
    snprintf(p->name, sizeof(p->name), "%.*s", (int)sizeof(p->name) - 1, name ? name : "bytes");
    m->n++;
    return ESPSEC_OK;
}

espsec_err_t espsec_merge_add(espsec_merge_t *m, uint64_t addr, const uint8_t *data, size_t len, const char *name,
                              int *was_hex, espsec_error_t *err)
{
    if (was_hex != NULL) {
        *was_hex = 0;
    }
    if (addr > UINT32_MAX) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s: address 0x%llx is past the 32-bit flash address space",
                           name, (unsigned long long)addr);
    }
    if (len > 0 && data[0] == ':') {
        espsec_ihex_run_t *runs = NULL;
        size_t nruns = 0;
        espsec_err_t rc = espsec_ihex_parse(data, len, &runs, &nruns, err);
        if (rc == ESPSEC_OK) {
            for (size_t i = 0; i < nruns && rc == ESPSEC_OK; i++) {
                char label[300];
                snprintf(label, sizeof(label), "%s (run %zu of %zu)", name, i + 1, nruns);
                rc = runs[i].addr > UINT32_MAX
                         ? espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s: address 0x%llx is past 32 bits", label,
                                       (unsigned long long)runs[i].addr)
                         : add_piece(m, runs[i].addr, runs[i].data, runs[i].len, nruns == 1 ? name : label, err);
            }
            espsec_ihex_free(runs, nruns);
            if (was_hex != NULL) {
                *was_hex = 1;
            }
            return rc;
        }
        if (rc != ESPSEC_ERR_PARSE) {
            espsec_error_prefix(err, "%s: ", name);
            return rc;
        }
        /* starts with ':' but is not Intel HEX: raw bytes, as esptool takes it */
    }
    return add_piece(m, addr, data, len, name, err);
}

uint64_t espsec_merge_size_bytes(const char *name)
{
    static const struct {
        const char *name;
        uint64_t bytes;
    } SIZES[] = {{"256KB", 256u << 10}, {"512KB", 512u << 10}, {"1MB", 1u << 20},   {"2MB", 2u << 20},
                 {"4MB", 4u << 20},     {"8MB", 8u << 20},     {"16MB", 16u << 20}, {"32MB", 32u << 20},
                 {"64MB", 64u << 20},   {"128MB", 128u << 20}};
    for (size_t i = 0; name != NULL && i < ARRAY_SIZE(SIZES); i++) {
        if (strcasecmp(name, SIZES[i].name) == 0) {
            return SIZES[i].bytes;
        }
    }
    return 0;
}

static void logf_(const espsec_merge_opts_t *o, int warning, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(const espsec_merge_opts_t *o, int warning, const char *fmt, ...)
{
    if (o->log == NULL) {
        return;
    }
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    o->log(o->log_ctx, warning, line);
}

static int keep(const char *v)
{
    return v == NULL || strcasecmp(v, "keep") == 0;
}

/* The header values asked for, checked against the chip; *any when something is to change. */
static espsec_err_t flash_params(const espsec_merge_opts_t *o, int *mode, int *size, int *freq, int *any,
                                 espsec_error_t *err)
{
    static const char *const MODES[] = {"qio", "qout", "dio", "dout"};
    char names[256];
    *mode = *size = *freq = -1;
    *any = !keep(o->flash_mode) || !keep(o->flash_size) || !keep(o->flash_freq);
    if (!*any) {
        return ESPSEC_OK;
    }
    if (o->chip == NULL) {
        return espsec_fail(err, ESPSEC_ERR_USAGE, "--flash-mode/--flash-freq/--flash-size need --chip");
    }
    if (!keep(o->flash_mode)) {
        for (int i = 0; i < 4; i++) {
            if (strcasecmp(o->flash_mode, MODES[i]) == 0) {
                *mode = i;
            }
        }
        if (*mode < 0) {
            return espsec_fail(err, ESPSEC_ERR_USAGE, "flash mode '%s': keep, qio, qout, dio or dout expected",
                               o->flash_mode);
        }
    }
    const espsec_chip_flash_t *f = espsec_chip_flash(o->chip);
    uint8_t code = 0;
    if (!keep(o->flash_size)) {
        if (espsec_chip_flash_size_code(o->chip, o->flash_size, &code) != 0) {
            return espsec_fail(err, ESPSEC_ERR_USAGE,
                               "Flash size '%s' is not supported by this chip type. Supported sizes: %s",
                               o->flash_size, espsec_chip_code_names(f->sizes, names, sizeof(names)));
        }
        *size = code;
    }
    if (!keep(o->flash_freq)) {
        if (espsec_chip_flash_freq_code(o->chip, o->flash_freq, &code) != 0) {
            return espsec_fail(err, ESPSEC_ERR_USAGE,
                               "Flash frequency '%s' is not supported by this chip type. Supported frequencies: %s",
                               o->flash_freq, espsec_chip_code_names(f->freqs, names, sizeof(names)));
        }
        *freq = code;
    }
    return ESPSEC_OK;
}

/* esptool's _update_image_flash_params for the piece at the bootloader offset. */
static espsec_err_t rewrite_header(const espsec_merge_opts_t *o, piece_t *p, int mode, int size, int freq,
                                   espsec_error_t *err)
{
    if (p->len < 8 || p->addr != o->chip->bootloader_offset) {
        return ESPSEC_OK;
    }
    if (p->data[0] != IMAGE_MAGIC) {
        logf_(o, 1, "Image file at 0x%llx doesn't look like an image file, so not changing any flash settings.",
              (unsigned long long)p->addr);
        return ESPSEC_OK;
    }
    espsec_image_t img;
    if (espsec_image_parse(p->data, p->len, &img, NULL) != ESPSEC_OK || espsec_image_check(&img, NULL) != ESPSEC_OK) {
        logf_(o, 1, "Image file at 0x%llx is not a valid %s image, so not changing any flash settings.",
              (unsigned long long)p->addr, o->chip->name);
        return ESPSEC_OK;
    }
    if (espsec_chip_flash(o->chip)->ext_header && img.chip_id != (uint16_t)o->chip->id) {
        logf_(o, 1, "Unexpected chip ID in image. Expected %u but value was %u. Is this image for a different chip "
                    "model?",
              (unsigned)o->chip->id, (unsigned)img.chip_id);
    }
    uint8_t m = mode >= 0 ? (uint8_t)mode : p->data[H_FLASH_MODE];
    uint8_t sf = p->data[H_FLASH_SIZE_FREQ];
    sf = (uint8_t)((size >= 0 ? (unsigned)size : (sf & 0xF0u)) | (freq >= 0 ? (unsigned)freq : (sf & 0x0Fu)));
    if (m != p->data[H_FLASH_MODE] || sf != p->data[H_FLASH_SIZE_FREQ]) {
        logf_(o, 0, "Flash parameters set to 0x%04x.", (unsigned)m << 8 | sf);
        p->data[H_FLASH_MODE] = m;
        p->data[H_FLASH_SIZE_FREQ] = sf;
    }
    if (espsec_chip_flash(o->chip)->ext_header && p->len > H_HASH_APPENDED && p->data[H_HASH_APPENDED] == 1 &&
        img.image_len >= 32 && img.image_len <= p->len) {
        size_t at = img.image_len - 32;
        if (espsec_sha256(p->data, at, p->data + at) != ESPSEC_OK) {
            return espsec_fail(err, ESPSEC_ERR_CRYPTO, "SHA-256 failed");
        }
        logf_(o, 0, "SHA digest in image updated.");
    }
    return ESPSEC_OK;
}

static int cmp_piece(const void *a, const void *b)
{
    const piece_t *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr ? 1 : 0;
}

/* Sorted; esptool's overlap rule (no two files in one 4 KiB sector); within the flash. */
static espsec_err_t check_layout(espsec_merge_t *m, const espsec_merge_opts_t *o, espsec_error_t *err)
{
    if (m->n == 0) {
        return espsec_fail(err, ESPSEC_ERR_USAGE, "No input data.");
    }
    qsort(m->p, m->n, sizeof(piece_t), cmp_piece);
    const espsec_chip_flash_t *f = espsec_chip_flash(o->chip);
    const char *chip = o->chip ? o->chip->name : "chip";
    uint64_t end = 0; /* first byte after the last sector used so far */
    for (size_t i = 0; i < m->n; i++) {
        const piece_t *p = &m->p[i];
        if (p->len > f->max_flash || p->addr > f->max_flash - p->len) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                               "%s at 0x%llx: %zu bytes end past 0x%llx, the largest flash the %s addresses", p->name,
                               (unsigned long long)p->addr, p->len, (unsigned long long)f->max_flash, chip);
        }
        uint64_t start = p->addr & ~(uint64_t)(SECTOR - 1);
        if (i > 0 && start < end) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "Detected overlap at address: 0x%llx for file: %s.",
                               (unsigned long long)p->addr, p->name);
        }
        end = (p->addr + p->len + SECTOR - 1) & ~(uint64_t)(SECTOR - 1);
    }
    if (m->p[0].addr < o->target_offset) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG,
                           "Output data target offset is 0x%llx. Input data offset 0x%llx is before this.",
                           (unsigned long long)o->target_offset, (unsigned long long)m->p[0].addr);
    }
    if (o->pad_to > f->max_flash) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "--pad-to-size 0x%llx is past the %s's largest flash",
                           (unsigned long long)o->pad_to, chip);
    }
    return ESPSEC_OK;
}

static espsec_err_t build_raw(const espsec_merge_t *m, const espsec_merge_opts_t *o, uint8_t **out, size_t *out_len,
                              espsec_error_t *err)
{
    /* every address is below max_flash (check_layout), so no sum overflows */
    uint64_t size = 0;
    for (size_t i = 0; i < m->n; i++) {
        uint64_t e = m->p[i].addr - o->target_offset + m->p[i].len;
        size = e > size ? e : size;
    }
    if (o->pad_to > o->target_offset && o->pad_to - o->target_offset > size) {
        size = o->pad_to - o->target_offset;
    }
    uint8_t *buf = malloc(size ? (size_t)size : 1);
    if (buf == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory for a 0x%llx-byte image", (unsigned long long)size);
    }
    memset(buf, 0xFF, (size_t)size);
    for (size_t i = 0; i < m->n; i++) {
        memcpy(buf + (m->p[i].addr - o->target_offset), m->p[i].data, m->p[i].len);
    }
    *out = buf;
    *out_len = (size_t)size;
    return ESPSEC_OK;
}

static espsec_err_t build_hex(const espsec_merge_t *m, const espsec_merge_opts_t *o, uint8_t **out, size_t *out_len,
                              espsec_error_t *err)
{
    if (m->n == 1) {
        logf_(o, 1, "Only one input file specified, output may include additional padding if input file was "
                    "previously merged.");
    }
    espsec_ihex_span_t *spans = calloc(m->n ? m->n : 1, sizeof(*spans));
    if (spans == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    for (size_t i = 0; i < m->n; i++) {
        spans[i] = (espsec_ihex_span_t){m->p[i].addr, m->p[i].data, m->p[i].len};
    }
    espsec_err_t rc = espsec_ihex_write(spans, m->n, out, out_len, err);
    free(spans);
    return rc;
}

static espsec_err_t build_uf2(const espsec_merge_t *m, const espsec_merge_opts_t *o, uint8_t **out, size_t *out_len,
                              espsec_error_t *err)
{
    if (o->chip == NULL) {
        return espsec_fail(err, ESPSEC_ERR_USAGE, "--format uf2 needs --chip (its UF2 family id)");
    }
    size_t md5_part = o->uf2_no_md5 ? 0 : ESPSEC_UF2_MD5_PART_SIZE;
    size_t chunk = o->uf2_chunk ? o->uf2_chunk : ESPSEC_UF2_DATA_SIZE - md5_part;
    if (chunk % 4 != 0 || chunk > ESPSEC_UF2_DATA_SIZE - md5_part) {
        return espsec_fail(err, ESPSEC_ERR_USAGE,
                           "--chunk-size %zu: a multiple of 4, at most %zu (the data part of a UF2 block%s)", chunk,
                           ESPSEC_UF2_DATA_SIZE - md5_part, md5_part ? " with its MD5 part" : "");
    }
    uint32_t family = espsec_chip_flash(o->chip)->uf2_family_id;
    if (family == 0) {
        logf_(o, 1, "No UF2 family ID found for %s, using 0x0 as default.", o->chip->display);
    }
    size_t blocks_total = 0;
    for (size_t i = 0; i < m->n; i++) {
        blocks_total += (m->p[i].len + chunk - 1) / chunk;
    }
    uint8_t *buf = calloc(blocks_total ? blocks_total : 1, ESPSEC_UF2_BLOCK_SIZE);
    if (buf == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    uint8_t *b = buf;
    uint32_t flags = UF2_FLAG_FAMILY_ID | (md5_part ? UF2_FLAG_MD5 : 0);
    for (size_t i = 0; i < m->n; i++) {
        const piece_t *p = &m->p[i];
        logf_(o, 0, "Adding '%s' at 0x%llx...", p->name, (unsigned long long)p->addr);
        size_t nblocks = (p->len + chunk - 1) / chunk;
        for (size_t k = 0; k < nblocks; k++, b += ESPSEC_UF2_BLOCK_SIZE) {
            size_t off = k * chunk, n = p->len - off < chunk ? p->len - off : chunk;
            uint32_t addr = (uint32_t)(p->addr + off);
            put_le32(b, UF2_MAGIC_START0);
            put_le32(b + 4, UF2_MAGIC_START1);
            put_le32(b + 8, flags);
            put_le32(b + 12, addr);
            put_le32(b + 16, (uint32_t)n);
            put_le32(b + 20, (uint32_t)k);
            put_le32(b + 24, (uint32_t)nblocks);
            put_le32(b + 28, family);
            memcpy(b + UF2_HEADER, p->data + off, n);
            if (md5_part) {
                uint8_t *mp = b + UF2_HEADER + n;
                put_le32(mp, addr);
                put_le32(mp + 4, (uint32_t)n);
                if (espsec_md5(p->data + off, n, mp + 8) != ESPSEC_OK) {
                    free(buf);
                    return espsec_fail(err, ESPSEC_ERR_CRYPTO, "MD5 failed");
                }
            }
            put_le32(b + ESPSEC_UF2_BLOCK_SIZE - 4, UF2_MAGIC_END);
        }
    }
    *out = buf;
    *out_len = blocks_total * ESPSEC_UF2_BLOCK_SIZE;
    return ESPSEC_OK;
}

espsec_err_t espsec_merge_build(espsec_merge_t *m, const espsec_merge_opts_t *o, uint8_t **out, size_t *out_len,
                                espsec_error_t *err)
{
    int mode, size, freq, any;
    espsec_err_t rc = flash_params(o, &mode, &size, &freq, &any, err);
    if (rc == ESPSEC_OK) {
        rc = check_layout(m, o, err);
    }
    for (size_t i = 0; rc == ESPSEC_OK && any && i < m->n; i++) {
        rc = rewrite_header(o, &m->p[i], mode, size, freq, err);
    }
    if (rc != ESPSEC_OK) {
        return rc;
    }
    switch (o->format) {
    case ESPSEC_MERGE_RAW:
        return build_raw(m, o, out, out_len, err);
    case ESPSEC_MERGE_HEX:
        return build_hex(m, o, out, out_len, err);
    case ESPSEC_MERGE_UF2:
        return build_uf2(m, o, out, out_len, err);
    default:
        return espsec_fail(err, ESPSEC_ERR_USAGE, "unknown output format");
    }
}
