/*
 * espsec/reflash.h — re-flashing a device over its ROM download mode, as
 * `esptool write-flash [--encrypt] ADDR FILE...` would do it to a chip with
 * these eFuses.
 *
 * The eFuses decide, through the chip model (espsec/chip.h, its lock fuses
 * and flash-encryption facts): download mode disabled (the chip does not
 * answer: esptool cannot connect); Secure Download Mode (no stub, no reads,
 * plaintext over flash encryption refused, the ROM's 2 MB default flash
 * size); Secure Boot V1 (the bootloader region protected); manual
 * encryption disabled (--encrypt refused, and plaintext over flash
 * encryption refused); no flash-encryption key to encrypt with; a file that
 * is an image for another chip. --force overrides what esptool lets it
 * override. What is written lands as esptool lands it: the covered sectors
 * erased, the data programmed, encrypted by the chip's key with --encrypt.
 *
 * The result says what the real chip (and esptool) would answer, and what
 * the write means for the next boot: plaintext in a region the chip
 * decrypts, a development-mode re-flash that the next first boot encrypts
 * at the cost of one crypt-counter bit, and how many such re-flashes are
 * left.
 */
#ifndef ESPSEC_REFLASH_H
#define ESPSEC_REFLASH_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/efuse.h"
#include "espsec/error.h"
#include "espsec/flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default) /* the public API of libespsec.so */

/** One ADDR FILE pair. */
typedef struct {
    uint32_t addr;
    const uint8_t *data;
    size_t len;
    const char *name; /* for messages */
} espsec_dl_file_t;

typedef struct {
    int encrypt;         /* --encrypt: the chip encrypts with its eFuse key */
    int force;           /* --force */
    int no_stub;         /* --no-stub: the ROM loader does the writes */
    size_t flash_size;   /* --flash-size in bytes; 0: detect (keep) */
    uint32_t pt_offset;  /* the partition table, to say which regions the chip decrypts (0: 0x8000) */
    const uint8_t *flash_key; /* the key, when the eFuse file hides it (for --encrypt) */
    size_t flash_key_len;
} espsec_dl_opts_t;

typedef struct {
    int connected;           /* the chip answers in download mode */
    int secure_download;     /* ... in Secure Download Mode */
    int written;             /* the files were written */
    char answer[480];        /* refused: what esptool/the chip answers ("A fatal error occurred: ...") */
    char notes[720];         /* what the write means for the next boot, one sentence per line */
    int fe_on;               /* flash encryption on (odd crypt counter) */
    unsigned crypt_bits, crypt_max; /* counter bits set, of its width */
    int reflashes_left;      /* plaintext re-flash cycles left in development mode (-1: none possible) */
} espsec_dl_result_t;

/**
 * Rehearse write-flash. ESPSEC_OK when a verdict was reached (result->written
 * says which; the flash is changed only when written); an error for bad
 * arguments or a key needed for --encrypt that the eFuse file hides.
 */
espsec_err_t espsec_download_write(const espsec_efuse_t *efuse, espsec_flash_t *flash, const espsec_dl_opts_t *opts,
                                   const espsec_dl_file_t *files, size_t n, espsec_dl_result_t *result,
                                   espsec_error_t *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
