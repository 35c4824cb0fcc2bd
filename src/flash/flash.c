/* Emulated NOR flash with power-cut injection (espsec/flash.h). */
#include "espsec/flash.h"

#include "espsec/flash_enc.h"
#include "espsec/io.h"
#include "espsec/util.h"

#include <stdlib.h>
#include <string.h>

struct espsec_flash {
    uint8_t *mem;
    size_t size;
    uint64_t ops;
    int cut_armed;   /* a cut is scheduled */
    uint64_t cut_at; /* op index that gets cut */
    int tear;
    uint64_t seed;
    int cut; /* power is gone */
};

espsec_err_t espsec_flash_new(size_t size, espsec_flash_t **out, espsec_error_t *err)
{
    if (size == 0 || size % ESPSEC_FLASH_SECTOR != 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "flash size %zu is not a non-zero multiple of 4096", size);
    }
    espsec_flash_t *f = calloc(1, sizeof(*f));
    if (f == NULL || (f->mem = malloc(size)) == NULL) {
        free(f);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory for %zu bytes of flash", size);
    }
    memset(f->mem, 0xFF, size);
    f->size = size;
    *out = f;
    return ESPSEC_OK;
}

espsec_err_t espsec_flash_from(const uint8_t *data, size_t len, espsec_flash_t **out, espsec_error_t *err)
{
    espsec_err_t rc = espsec_flash_new(len, out, err);
    if (rc == ESPSEC_OK) {
        memcpy((*out)->mem, data, len);
    }
    return rc;
}

void espsec_flash_free(espsec_flash_t *f)
{
    if (f != NULL) {
        free(f->mem);
        free(f);
    }
}

size_t espsec_flash_size(const espsec_flash_t *f)
{
    return f->size;
}

const uint8_t *espsec_flash_data(const espsec_flash_t *f)
{
    return f->mem;
}

static espsec_err_t bounds(const espsec_flash_t *f, uint32_t off, size_t len, const char *what, espsec_error_t *err)
{
    if (off > f->size || len > f->size - off) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "flash %s of %zu bytes at 0x%x runs past the end (0x%zx)", what,
                           len, off, f->size);
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_flash_read(const espsec_flash_t *f, uint32_t off, void *buf, size_t len, espsec_error_t *err)
{
    espsec_err_t rc = bounds(f, off, len, "read", err);
    if (rc == ESPSEC_OK) {
        memcpy(buf, f->mem + off, len);
    }
    return rc;
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* 1 when this operation is the one the power cut interrupts. */
static int cutting_now(espsec_flash_t *f)
{
    return f->cut_armed && f->ops == f->cut_at;
}

espsec_err_t espsec_flash_write(espsec_flash_t *f, uint32_t off, const void *buf, size_t len, espsec_error_t *err)
{
    if (f->cut) {
        f->ops++; /* an attempt while the power is off counts too */
        return espsec_fail(err, ESPSEC_ERR_POWER_CUT, "power is off (emulated cut)");
    }
    espsec_err_t rc = bounds(f, off, len, "write", err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    const uint8_t *d = buf;
    for (size_t i = 0; i < len; i++) {
        if ((f->mem[off + i] & d[i]) != d[i]) {
            return espsec_fail(err, ESPSEC_ERR_FLASH_PROGRAM,
                               "flash program at 0x%zx would set bits (0x%02x over 0x%02x): erase the sector first",
                               off + i, d[i], f->mem[off + i]);
        }
    }
    if (cutting_now(f)) {
        f->cut = 1;
        f->ops++;
        if (f->tear && len > 0) {
            uint64_t s = f->seed ^ (f->ops * 0x9E3779B97F4A7C15ull);
            size_t done = (size_t)(next_rand(&s) % len);
            for (size_t i = 0; i < done; i++) {
                f->mem[off + i] &= d[i];
            }
            /* the byte being programmed keeps a random subset of its new zeros */
            uint8_t partial = (uint8_t)next_rand(&s);
            f->mem[off + done] &= (uint8_t)(d[done] | partial);
        }
        return espsec_fail(err, ESPSEC_ERR_POWER_CUT, "power cut during a flash write at 0x%x", off);
    }
    for (size_t i = 0; i < len; i++) {
        f->mem[off + i] &= d[i];
    }
    f->ops++;
    return ESPSEC_OK;
}

espsec_err_t espsec_flash_erase(espsec_flash_t *f, uint32_t off, espsec_error_t *err)
{
    if (f->cut) {
        f->ops++; /* an attempt while the power is off counts too */
        return espsec_fail(err, ESPSEC_ERR_POWER_CUT, "power is off (emulated cut)");
    }
    if (off % ESPSEC_FLASH_SECTOR != 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "flash erase at 0x%x is not sector-aligned", off);
    }
    espsec_err_t rc = bounds(f, off, ESPSEC_FLASH_SECTOR, "erase", err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (cutting_now(f)) {
        f->cut = 1;
        f->ops++;
        if (f->tear) {
            /* an interrupted erase leaves some bits set, others not */
            uint64_t s = f->seed ^ (f->ops * 0xD1B54A32D192ED03ull);
            for (size_t i = 0; i < ESPSEC_FLASH_SECTOR; i++) {
                f->mem[off + i] |= (uint8_t)next_rand(&s);
            }
        }
        return espsec_fail(err, ESPSEC_ERR_POWER_CUT, "power cut during a flash erase at 0x%x", off);
    }
    memset(f->mem + off, 0xFF, ESPSEC_FLASH_SECTOR);
    f->ops++;
    return ESPSEC_OK;
}

uint64_t espsec_flash_op_count(const espsec_flash_t *f)
{
    return f->ops;
}

void espsec_flash_cut_after(espsec_flash_t *f, uint64_t n, int tear, uint64_t seed)
{
    f->cut_armed = 1;
    f->cut_at = f->ops + n;
    f->tear = tear;
    f->seed = seed | 1;
}

int espsec_flash_is_cut(const espsec_flash_t *f)
{
    return f->cut;
}

void espsec_flash_power_on(espsec_flash_t *f)
{
    f->cut = 0;
    f->cut_armed = 0;
}

/* ---- files ---- */

espsec_err_t espsec_flash_load(const char *path, espsec_flash_t **out, espsec_error_t *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    espsec_err_t rc = espsec_read_file(path, &data, &len, 1u << 30, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (len == 0 || len % ESPSEC_FLASH_SECTOR != 0) {
        free(data);
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                           "%s: %zu bytes is not a flash image (a whole number of 4096-byte sectors expected)", path,
                           len);
    }
    rc = espsec_flash_from(data, len, out, err);
    free(data);
    return rc;
}

espsec_err_t espsec_flash_save(const espsec_flash_t *f, const char *path, espsec_error_t *err)
{
    return espsec_write_file(path, f->mem, f->size, ESPSEC_MODE_PUBLIC, err);
}

/* ---- flash encryption layer ---- */

espsec_err_t espsec_flash_read_crypt(const espsec_flash_t *f, struct espsec_fe_ctx *fe, uint32_t off, void *buf,
                                     size_t len, espsec_error_t *err)
{
    espsec_err_t rc = bounds(f, off, len, "read", err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    uint32_t start = off & ~127u;
    uint64_t end = ((uint64_t)off + len + 127) & ~(uint64_t)127;
    if (end > f->size) {
        end = f->size;
    }
    uint8_t *tmp = malloc((size_t)(end - start));
    if (tmp == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    memcpy(tmp, f->mem + start, (size_t)(end - start));
    rc = espsec_fe_crypt(fe, start, tmp, tmp, (size_t)(end - start), 1, err);
    if (rc == ESPSEC_OK) {
        memcpy(buf, tmp + (off - start), len);
    }
    espsec_wipe(tmp, (size_t)(end - start));
    free(tmp);
    return rc;
}

espsec_err_t espsec_flash_write_crypt(espsec_flash_t *f, struct espsec_fe_ctx *fe, uint32_t off, const void *buf,
                                      size_t len, espsec_error_t *err)
{
    if (off % 16 != 0 || len % 16 != 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG,
                           "encrypted write at 0x%x of %zu bytes: offset and length must be multiples of 16", off, len);
    }
    uint8_t *tmp = malloc(len ? len : 1);
    if (tmp == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    espsec_err_t rc = espsec_fe_crypt(fe, off, buf, tmp, len, 0, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_flash_write(f, off, tmp, len, err);
    }
    espsec_wipe(tmp, len);
    free(tmp);
    return rc;
}
