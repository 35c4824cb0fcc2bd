/*
 * espsec/enc_img.h — pre-encrypted OTA images in the "ESP Encrypted Image"
 * format of Espressif's esp_encrypted_img component (idf-extra-components).
 *
 * An encrypted image is a 512-byte header followed by the image encrypted
 * with AES-256-GCM (no additional data, 16-byte IV, 16-byte tag). The header
 * (docs/FORMATS.md, "Pre-encrypted OTA image"):
 *
 *   0    magic 0x0788b6cf, little-endian
 *   4    key block, 384 bytes:
 *          RSA-3072:   the AES key encrypted to the device's RSA public key
 *                      (PKCS#1 v1.5)
 *          ECIES-P256: the sender's ephemeral public key X||Y (64 bytes,
 *                      big-endian), the 32-byte HKDF salt, 288 zero bytes;
 *                      AES key = HKDF-SHA256(ECDH(ephemeral, device),
 *                      salt, info "_esp_enc_img_ecc", 32 bytes)
 *   388  IV, 16 bytes
 *   404  plaintext size, u32 little-endian
 *   408  GCM tag, 16 bytes
 *   424  88 reserved zero bytes
 *
 * Both schemes share the magic: which one an image uses is known from the key
 * that opens it. With ECIES the device's key pair is derived from a 256-bit
 * HMAC key held in eFuse: private scalar = PBKDF2-HMAC-SHA256(hmac_key, a fixed
 * 32-byte salt, 2048 iterations, 32 bytes), big-endian, 0 < d < n.
 *
 * The transforms work on caller buffers; keys are OpenSSL keys wrapped in
 * espsec_enc_img_key_t (freed and wiped by espsec_enc_img_key_free).
 */
#ifndef ESPSEC_ENC_IMG_H
#define ESPSEC_ENC_IMG_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

#define ESPSEC_ENC_IMG_MAGIC 0x0788b6cfu
#define ESPSEC_ENC_IMG_HEADER_LEN 512
#define ESPSEC_ENC_IMG_HMAC_KEY_LEN 32
/** Largest plaintext the u32 size field can describe. */
#define ESPSEC_ENC_IMG_MAX_LEN 0xFFFFFFFFu

typedef enum {
    ESPSEC_ENC_IMG_RSA3072 = 0,
    ESPSEC_ENC_IMG_ECIES_P256 = 1,
} espsec_enc_img_scheme_t;

/** "RSA-3072" or "ECIES-P256". */
const char *espsec_enc_img_scheme_name(espsec_enc_img_scheme_t scheme);

typedef struct espsec_enc_img_key espsec_enc_img_key_t;

/**
 * Load a PEM key (private or public; RSA-3072 or EC P-256). Any other key type
 * or size is refused with ESPSEC_ERR_KEY.
 */
espsec_err_t espsec_enc_img_key_load_pem(const uint8_t *pem, size_t len, espsec_enc_img_key_t **key,
                                         espsec_error_t *err);

/**
 * The device's ECIES-P256 key pair derived from its eFuse HMAC key, as the
 * device computes it (see the header comment). ESPSEC_ERR_KEY if the derived
 * scalar is not a valid private key (the generator then picks another key).
 */
espsec_err_t espsec_enc_img_key_from_hmac(const uint8_t hmac_key[ESPSEC_ENC_IMG_HMAC_KEY_LEN],
                                          espsec_enc_img_key_t **key, espsec_error_t *err);

/** Wipe and free (NULL is accepted). */
void espsec_enc_img_key_free(espsec_enc_img_key_t *key);

espsec_enc_img_scheme_t espsec_enc_img_key_scheme(const espsec_enc_img_key_t *key);
int espsec_enc_img_key_is_private(const espsec_enc_img_key_t *key);

/** The public key as a SubjectPublicKeyInfo PEM; *pem is malloc'd. */
espsec_err_t espsec_enc_img_key_public_pem(const espsec_enc_img_key_t *key, char **pem, size_t *len,
                                           espsec_error_t *err);

/**
 * A new RSA-3072 key pair as a traditional-format private PEM (what
 * esp_enc_img_gen.py --generate_rsa_key writes). *pem is malloc'd; wipe it.
 */
espsec_err_t espsec_enc_img_generate_rsa(char **pem, size_t *len, espsec_error_t *err);

/**
 * A new random HMAC key whose derived ECIES key is valid (what
 * esp_enc_img_gen.py --generate_ecc_key writes as device_hmac_key.bin).
 */
espsec_err_t espsec_enc_img_generate_hmac(uint8_t hmac_key[ESPSEC_ENC_IMG_HMAC_KEY_LEN], espsec_error_t *err);

/**
 * Encrypt len bytes of in to the key's public half. out must hold
 * len + ESPSEC_ENC_IMG_HEADER_LEN bytes (out_cap); *out_len is set to that.
 * The AES key, IV and (ECIES) ephemeral key and salt are fresh random values.
 */
espsec_err_t espsec_enc_img_encrypt(const espsec_enc_img_key_t *key, const uint8_t *in, size_t len,
                                    uint8_t *out, size_t out_cap, size_t *out_len, espsec_error_t *err);

/** What the header says without a key. */
typedef struct {
    uint32_t plain_len;
    uint8_t iv[16];
    uint8_t tag[16];
    int reserved_zero; /* 1 if the 88 reserved bytes are zero */
} espsec_enc_img_info_t;

/**
 * Parse the header of an encrypted image of total length len: magic, and the
 * size field against what follows the header. ESPSEC_ERR_FORMAT with the
 * offset on a bad image.
 */
espsec_err_t espsec_enc_img_parse(const uint8_t *in, size_t len, espsec_enc_img_info_t *info, espsec_error_t *err);

/**
 * Decrypt with the private key (RSA-3072 or the ECIES device key). out must
 * hold the plaintext size (info.plain_len, at most len - 512 bytes). A wrong
 * key or any modified byte gives ESPSEC_ERR_VERIFY and leaves nothing of the
 * plaintext in out (it is wiped).
 */
espsec_err_t espsec_enc_img_decrypt(const espsec_enc_img_key_t *key, const uint8_t *in, size_t len,
                                    uint8_t *out, size_t out_cap, size_t *out_len, espsec_error_t *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
