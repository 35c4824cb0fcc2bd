/*
 * espsec/flash_enc.h — flash encryption as the chips' flash controllers do it.
 *
 * ESP32 (docs/FORMATS.md, "Flash encryption"): AES-256 on 16-byte blocks, the
 * key of each 32-byte block being the eFuse key with some bits flipped
 * according to address bits 5..23; FLASH_CRYPT_CONFIG selects which quarter
 * of the key bits take the tweak. The controller's "encrypt" is an AES
 * decryption, with each 16-byte block byte-reversed before and after.
 *
 * Later chips: XTS-AES-128 (256-bit key) or XTS-AES-256 (512-bit key) with a
 * 128-byte data unit whose tweak is the unit's flash address, the unit
 * byte-reversed before and after. A partial unit is computed as espsecure
 * does, with zeros filling the rest of the unit.
 *
 * The transforms work on memory buffers at a flash address; the file
 * function streams, so a 16 MiB image needs a few hundred KiB of memory.
 */
#ifndef ESPSEC_FLASH_ENC_H
#define ESPSEC_FLASH_ENC_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

typedef enum {
    ESPSEC_FE_ESP32 = 0, /* ESP32 tweaked AES-256 */
    ESPSEC_FE_XTS = 1,   /* XTS-AES (ESP32-S2/S3/C3/C6/H2/P4...) */
} espsec_fe_mode_t;

typedef struct {
    espsec_fe_mode_t mode;
    uint8_t flash_crypt_conf; /* ESP32 only: FLASH_CRYPT_CONFIG, 0x0-0xF */
} espsec_flash_enc_params_t;

typedef struct espsec_fe_ctx espsec_fe_ctx_t;

/**
 * Prepare a context. Key sizes: ESP32 takes 32 bytes, or 24 (3/4 coding
 * scheme, expanded as the hardware does); XTS takes 32 (XTS-AES-128),
 * 64 (XTS-AES-256) or 16 (expanded with SHA-256, as espsecure). The key is
 * copied and wiped by espsec_fe_free.
 */
espsec_err_t espsec_fe_new(const espsec_flash_enc_params_t *params, const uint8_t *key, size_t key_len,
                           espsec_fe_ctx_t **ctx, espsec_error_t *err);
void espsec_fe_free(espsec_fe_ctx_t *ctx);

/**
 * Encrypt (decrypt = 0) or decrypt len bytes that live at flash address
 * addr. addr and len must be multiples of 16. in and out may be the same
 * buffer. For XTS, a unit cut by the buffer's ends is zero-filled, so split
 * streams at 128-byte flash boundaries.
 */
espsec_err_t espsec_fe_crypt(espsec_fe_ctx_t *ctx, uint32_t addr, const uint8_t *in, uint8_t *out, size_t len,
                             int decrypt, espsec_error_t *err);

/**
 * Encrypt or decrypt a whole file to another, streaming; the output is atomic. addr + length must stay
 * inside the 4 GiB address space. ESP32 encryption pads a length that is not a multiple of 16 with 0xFF
 * to the next block (espsecure pads with random bytes); XTS and decryption refuse such a length.
 */
espsec_err_t espsec_flash_enc_file(const char *in_path, const char *out_path, const espsec_flash_enc_params_t *params,
                                   const uint8_t *key, size_t key_len, uint32_t addr, int decrypt,
                                   espsec_error_t *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
