/*
 * espsec/flash.h — emulated NOR flash with power-cut injection.
 *
 * The device behaves as SPI NOR flash does: an erase sets a 4 KiB sector to
 * 0xFF; programming can only clear bits, and an attempt to set a bit is an
 * error the caller sees (ESPSEC_ERR_FLASH_PROGRAM); every access is bounds
 * checked.
 *
 * Fault injection: espsec_flash_cut_after(f, n, tear) lets n more program
 * or erase operations complete, then cuts the power during the next one —
 * with `tear`, a program leaves a prefix of its bytes written (the last one
 * partly, some of its bits) and an erase leaves the sector partly erased —
 * and every operation after that fails with ESPSEC_ERR_POWER_CUT, as a
 * device does once its supply is gone. Reads keep working so a test can
 * inspect the result; espsec_flash_power_on() ends the outage.
 */
#ifndef ESPSEC_FLASH_H
#define ESPSEC_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

#define ESPSEC_FLASH_SECTOR 4096u

typedef struct espsec_flash espsec_flash_t;

/** A new erased flash of size bytes (a multiple of 4096). */
espsec_err_t espsec_flash_new(size_t size, espsec_flash_t **out, espsec_error_t *err);
/** A flash holding a copy of data (len a multiple of 4096). */
espsec_err_t espsec_flash_from(const uint8_t *data, size_t len, espsec_flash_t **out, espsec_error_t *err);
void espsec_flash_free(espsec_flash_t *f);

size_t espsec_flash_size(const espsec_flash_t *f);
/** The contents (borrowed, valid until the next operation or free). */
const uint8_t *espsec_flash_data(const espsec_flash_t *f);

espsec_err_t espsec_flash_read(const espsec_flash_t *f, uint32_t off, void *buf, size_t len, espsec_error_t *err);
/** Program: flash &= data. Setting a bit is refused and nothing is written. */
espsec_err_t espsec_flash_write(espsec_flash_t *f, uint32_t off, const void *buf, size_t len, espsec_error_t *err);
/** Erase the 4 KiB sector at off (off must be sector-aligned). */
espsec_err_t espsec_flash_erase(espsec_flash_t *f, uint32_t off, espsec_error_t *err);

/** Number of program and erase operations so far (attempts refused while the power is off count too). */
uint64_t espsec_flash_op_count(const espsec_flash_t *f);

/**
 * Cut the power during the operation after the next n (n = 0: the very next
 * one). tear != 0 makes the interrupted operation partial; seed picks how
 * much of it lands.
 */
void espsec_flash_cut_after(espsec_flash_t *f, uint64_t n, int tear, uint64_t seed);
/** 1 once the cut happened. */
int espsec_flash_is_cut(const espsec_flash_t *f);
/** Restore power (and cancel any pending cut). */
void espsec_flash_power_on(espsec_flash_t *f);

/* ---- a flash image file ---- */

/** A flash holding the contents of a file (a whole number of 4 KiB sectors; the error names the file). */
espsec_err_t espsec_flash_load(const char *path, espsec_flash_t **out, espsec_error_t *err);
/** Write the contents back to a file, atomically. */
espsec_err_t espsec_flash_save(const espsec_flash_t *f, const char *path, espsec_error_t *err);

/* ---- flash encryption as a transparent layer (the chip's cache view) ---- */

struct espsec_fe_ctx;
/**
 * Read through flash decryption: what the CPU sees of an encrypted region
 * (any offset and length; the whole 32-byte or 128-byte units around it are
 * decrypted).
 */
espsec_err_t espsec_flash_read_crypt(const espsec_flash_t *f, struct espsec_fe_ctx *fe, uint32_t off, void *buf,
                                     size_t len, espsec_error_t *err);
/**
 * Write through flash encryption, as esp_flash_write_encrypted: off and len
 * multiples of 16 (XTS: of the 128-byte data unit unless the unit is written
 * whole), over erased flash (NOR rules apply to the ciphertext).
 */
espsec_err_t espsec_flash_write_crypt(espsec_flash_t *f, struct espsec_fe_ctx *fe, uint32_t off, const void *buf,
                                      size_t len, espsec_error_t *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
