/*
 * espsec/secure_boot.h — Secure Boot V1 and V2: keys, signing, verification,
 * eFuse key digests, the V1 bootloader digest.
 *
 * Secure Boot V2 (docs/FORMATS.md): a signed image is the image padded with
 * 0xFF to a 4 KiB boundary, then one 4 KiB signature sector holding up to 3
 * signature blocks of 1216 bytes (magic 0xE7; version 2 = RSA-3072-PSS,
 * version 3 = ECDSA P-192/P-256/P-384), the rest 0xFF. Each block carries
 * the image digest, the public key in the form the ROM uses, the signature
 * and a CRC-32. The eFuse holds SHA-256 of a block's key part.
 *
 * Secure Boot V1 (ESP32 only): the app carries a 68-byte block at its end
 * (version word 0, ECDSA P-256 r||s big-endian over SHA-256 of the rest);
 * the bootloader is stored with a 1 KiB-aligned digest made with a secret
 * AES key (espsec_sbv1_digest_bootloader).
 *
 * Keys are OpenSSL keys wrapped in espsec_sb_key_t and freed with
 * espsec_sb_key_free, which also wipes what espsec held of them.
 */
#ifndef ESPSEC_SECURE_BOOT_H
#define ESPSEC_SECURE_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

#define ESPSEC_SBV2_SECTOR_SIZE 4096
#define ESPSEC_SBV2_BLOCK_SIZE 1216
#define ESPSEC_SBV2_MAX_BLOCKS 3
#define ESPSEC_SBV2_MAGIC 0xE7
#define ESPSEC_SBV2_VERSION_RSA 0x02
#define ESPSEC_SBV2_VERSION_ECDSA 0x03
#define ESPSEC_SBV2_CRC_OFFSET 1196
#define ESPSEC_SBV2_KEY_DIGEST_LEN 32

#define ESPSEC_SBV1_SIG_BLOCK_LEN 68 /* version word + r||s */

typedef enum {
    ESPSEC_SB_RSA3072 = 0,
    ESPSEC_SB_ECDSA192 = 1,
    ESPSEC_SB_ECDSA256 = 2,
    ESPSEC_SB_ECDSA384 = 3,
} espsec_sb_scheme_t;

/** "rsa3072", "ecdsa192", ... */
const char *espsec_sb_scheme_name(espsec_sb_scheme_t scheme);
/** Parse a scheme name; -1 if unknown. */
int espsec_sb_scheme_from_name(const char *name, espsec_sb_scheme_t *scheme);

typedef struct espsec_sb_key espsec_sb_key_t;

/**
 * Generate a key as espsecure does (RSA-3072 e=65537 or an ECDSA key on the
 * scheme's curve), as a PEM in OpenSSL's traditional format ("BEGIN RSA
 * PRIVATE KEY" / "BEGIN EC PRIVATE KEY"). *pem is malloc'd; wipe and free it
 * with espsec_free_secret(*pem, *len).
 */
espsec_err_t espsec_sb_generate_key(espsec_sb_scheme_t scheme, char **pem, size_t *len,
                                    espsec_error_t *err);

/**
 * Re-encode a private PEM key as PKCS#8 encrypted with password (AES-256-CBC,
 * PBKDF2-HMAC-SHA256 with a random salt, OpenSSL's defaults for
 * `openssl pkey -aes256`). *out is malloc'd.
 */
espsec_err_t espsec_pem_encrypt_key(const char *pem, size_t len, const char *password, char **out,
                                    size_t *out_len, espsec_error_t *err);

/**
 * Load a Secure Boot V2 key from PEM: a private key (RSA or EC, traditional
 * or PKCS#8) or a public key (SubjectPublicKeyInfo). Only RSA-3072 and the
 * curves P-192, P-256, P-384 are accepted (ESPSEC_ERR_KEY otherwise).
 */
espsec_err_t espsec_sb_key_load_pem(const uint8_t *pem, size_t len, espsec_sb_key_t **key,
                                    espsec_error_t *err);

/**
 * As espsec_sb_key_load_pem, for password-protected PEM keys too (PKCS#8
 * "ENCRYPTED PRIVATE KEY" or a traditional key with Proc-Type 4,ENCRYPTED).
 * password may be NULL: an encrypted key then fails with ESPSEC_ERR_KEY
 * naming the way to give one, unless prompt is set, when OpenSSL asks on the
 * terminal. A wrong password is ESPSEC_ERR_KEY.
 */
espsec_err_t espsec_sb_key_load_pem_pw(const uint8_t *pem, size_t len, const char *password, int prompt,
                                       espsec_sb_key_t **key, espsec_error_t *err);

/** 1 if the PEM holds a password-protected private key. */
int espsec_pem_is_encrypted(const uint8_t *pem, size_t len);

/** Wrap an OpenSSL EVP_PKEY (reference taken), with the same checks. */
espsec_err_t espsec_sb_key_from_evp(void *evp_pkey, espsec_sb_key_t **key, espsec_error_t *err);

void espsec_sb_key_free(espsec_sb_key_t *key);
int espsec_sb_key_is_private(const espsec_sb_key_t *key);
espsec_sb_scheme_t espsec_sb_key_scheme(const espsec_sb_key_t *key);
/** The underlying EVP_PKEY (borrowed). */
void *espsec_sb_key_evp(const espsec_sb_key_t *key);

/** The public key as a SubjectPublicKeyInfo PEM (malloc'd). */
espsec_err_t espsec_sb_key_public_pem(const espsec_sb_key_t *key, char **pem, size_t *len,
                                      espsec_error_t *err);

/* ---- Secure Boot V2 ---- */

/**
 * The key part of a signature block, as the eFuse digest covers it: for RSA
 * the 776 bytes n||e||R^2 mod n||M' (little-endian); for ECDSA the curve id
 * and the 64- or 96-byte point field. Returns its length in *len.
 */
espsec_err_t espsec_sbv2_key_block(const espsec_sb_key_t *key, uint8_t out[776], size_t *len,
                                   espsec_error_t *err);

/** SHA-256 of the key part: the value burned into the eFuse key block. */
espsec_err_t espsec_sbv2_key_digest(const espsec_sb_key_t *key, uint8_t out[32],
                                    espsec_error_t *err);

/** Image digest for a key's scheme: SHA-384 for P-384, else SHA-256. */
espsec_err_t espsec_sbv2_image_digest(espsec_sb_scheme_t scheme, const uint8_t *data, size_t len,
                                      uint8_t out[48], size_t *out_len);

/**
 * A signer: either a private key, or a public key with a signature made
 * elsewhere (espsecure --pub-key/--signature; DER for ECDSA, raw for RSA),
 * or a public key with a callback that signs a digest (an HSM).
 */
typedef espsec_err_t (*espsec_sign_digest_fn)(void *ctx, const uint8_t *digest, size_t digest_len,
                                              uint8_t *sig, size_t *sig_len, espsec_error_t *err);
typedef struct {
    const espsec_sb_key_t *key;     /* private, or public with one of the two below */
    const uint8_t *signature;       /* detached signature over the padded image */
    size_t signature_len;
    espsec_sign_digest_fn sign_fn;  /* external signer */
    void *sign_ctx;
} espsec_sbv2_signer_t;

/**
 * Make one 1216-byte signature block for an image digest (already computed
 * with the signer's scheme). A detached signature is verified first; a wrong
 * one fails with ESPSEC_ERR_VERIFY.
 */
espsec_err_t espsec_sbv2_make_block(const espsec_sbv2_signer_t *signer, const uint8_t *digest,
                                    uint8_t block[ESPSEC_SBV2_BLOCK_SIZE], espsec_error_t *err);

typedef struct {
    int append;       /* keep valid blocks already in the sector and add to them */
    int skip_padding; /* do not pad the data to 4 KiB first */
} espsec_sbv2_sign_opts_t;

/**
 * Sign data as `espsecure sign-data --version 2`: the output is the
 * (padded) data followed by the signature sector. *out is malloc'd.
 * *blocks_total receives the number of blocks in the sector.
 */
espsec_err_t espsec_sbv2_sign(const uint8_t *data, size_t len, const espsec_sbv2_signer_t *signers,
                              size_t nsigners, const espsec_sbv2_sign_opts_t *opts, uint8_t **out,
                              size_t *out_len, int *blocks_total, espsec_error_t *err);

/** What one signature block says about itself and the image. */
typedef struct {
    int present;        /* magic, version and CRC all valid */
    uint8_t version;    /* 2 RSA, 3 ECDSA */
    espsec_sb_scheme_t scheme;
    size_t digest_len;
    uint8_t digest[48];    /* the digest stored in the block */
    int digest_matches;    /* equals the digest of the image before the sector */
    uint8_t key_digest[32]; /* SHA-256 of the block's key part */
    char problem[160];     /* why not present, when not */
} espsec_sbv2_block_info_t;

/**
 * Read the signature sector: the last 4 KiB of data. Unless skip_padding,
 * len must be a non-zero multiple of 4 KiB. info receives the 3 blocks.
 */
espsec_err_t espsec_sbv2_info(const uint8_t *data, size_t len, int skip_padding,
                              espsec_sbv2_block_info_t info[ESPSEC_SBV2_MAX_BLOCKS],
                              espsec_error_t *err);

/**
 * Verify as `espsecure verify-signature --version 2`: OK when some valid
 * block's digest matches the image and its signature verifies with key.
 * *block receives the index of that block (may be NULL).
 */
espsec_err_t espsec_sbv2_verify(const uint8_t *data, size_t len, const espsec_sb_key_t *key,
                                int skip_padding, int *block, espsec_error_t *err);

/** What verification with a given key found in one block. */
typedef enum {
    ESPSEC_SBV2_BLOCK_ABSENT = 0,       /* not a valid block (magic, version, CRC) */
    ESPSEC_SBV2_BLOCK_DIGEST_MISMATCH,  /* the image digest in it is not the image's */
    ESPSEC_SBV2_BLOCK_OTHER_KEY,        /* its signature does not verify with the key */
    ESPSEC_SBV2_BLOCK_KEY_MISMATCH,     /* verifies, but the block carries another public key */
    ESPSEC_SBV2_BLOCK_VERIFIED          /* signed by the key, and carries it */
} espsec_sbv2_verdict_t;

typedef struct {
    espsec_sbv2_block_info_t info;
    espsec_sbv2_verdict_t verdict;
} espsec_sbv2_block_check_t;

/**
 * espsec_sbv2_verify, also saying what each of the 3 blocks gave (checks;
 * every block is checked, as espsecure does). Returns the same result;
 * checks is filled when that is ESPSEC_OK or ESPSEC_ERR_VERIFY (the
 * signature sector was read), and left untouched otherwise.
 */
espsec_err_t espsec_sbv2_verify_report(const uint8_t *data, size_t len, const espsec_sb_key_t *key,
                                       int skip_padding, espsec_sbv2_block_check_t checks[ESPSEC_SBV2_MAX_BLOCKS],
                                       int *block, espsec_error_t *err);

/**
 * Verify one block as the ROM/bootloader does: digest matches, the block's
 * own key verifies the signature. The key digest (for comparing with the
 * eFuse) is in key_digest.
 */
espsec_err_t espsec_sbv2_verify_block(const uint8_t block[ESPSEC_SBV2_BLOCK_SIZE],
                                      const uint8_t *image_digest, size_t digest_len,
                                      uint8_t key_digest[32], espsec_error_t *err);

/* ---- Secure Boot V1 ---- */

/**
 * Sign data with deterministic ECDSA P-256 (RFC 6979, SHA-256), appending
 * the 68-byte signature block: byte-identical to espsecure v5. Only a P-256
 * private key is accepted. *out is malloc'd.
 */
espsec_err_t espsec_sbv1_sign(const uint8_t *data, size_t len, const espsec_sb_key_t *key,
                              uint8_t **out, size_t *out_len, espsec_error_t *err);

/** Build the V1 block from a detached raw r||s (64 bytes) and a public key. */
espsec_err_t espsec_sbv1_sign_detached(const uint8_t *data, size_t len, const espsec_sb_key_t *pub,
                                       const uint8_t rs[64], uint8_t **out, size_t *out_len,
                                       espsec_error_t *err);

/** Verify the 68-byte block at the end of data. */
espsec_err_t espsec_sbv1_verify(const uint8_t *data, size_t len, const espsec_sb_key_t *key,
                                espsec_error_t *err);

/** Load a V1 verification key: PEM (private or public) or 64 raw bytes X||Y. */
espsec_err_t espsec_sbv1_key_load(const uint8_t *buf, size_t len, espsec_sb_key_t **key,
                                  espsec_error_t *err);

/** The public key as 64 raw bytes X||Y (big-endian). */
espsec_err_t espsec_sbv1_public_raw(const espsec_sb_key_t *key, uint8_t out[64], espsec_error_t *err);

/** SHA-256 of the private scalar (32 bytes big-endian); keylen 192 keeps 24 bytes. */
espsec_err_t espsec_sbv1_digest_private_key(const espsec_sb_key_t *key, int keylen_bits,
                                            uint8_t out[32], size_t *out_len, espsec_error_t *err);

/**
 * Expand a hardware key file as espsecure does: 16 bytes → SHA-256 of it,
 * 24 bytes (3/4 coding) → key || key[8..16), 32 bytes as is.
 */
espsec_err_t espsec_expand_hw_key(const uint8_t *key, size_t len, uint8_t out[32], espsec_error_t *err);

/**
 * The V1 secure bootloader digest: output = IV (128 bytes) || SHA-512 digest
 * (word-swapped, 64 bytes) || 0xFF padding to 0x1000 || image (padded to
 * 128 bytes). image must be an ESP image (its appended hash is dropped when
 * the ROM would not read it). *out is malloc'd.
 */
espsec_err_t espsec_sbv1_digest_bootloader(const uint8_t *image, size_t len, const uint8_t key[32],
                                           const uint8_t iv[128], uint8_t **out, size_t *out_len,
                                           espsec_error_t *err);

/**
 * As espsec_sbv1_digest_bootloader with an IV of iv_len bytes (0..128, a
 * multiple of 16), as espsecure does with a short --iv file: the digest is
 * taken over IV || image and written right after the IV. The ROM always
 * reads 128 IV bytes, so only iv_len 128 boots; shorter IVs are for
 * reproducing espsecure's outputs (esptool's own test uses 32 bytes).
 */
espsec_err_t espsec_sbv1_digest_bootloader_iv(const uint8_t *image, size_t len, const uint8_t key[32],
                                              const uint8_t *iv, size_t iv_len, uint8_t **out, size_t *out_len,
                                              espsec_error_t *err);

/**
 * Check a stored V1 bootloader digest (flash offset 0): recompute from the
 * IV in it and the image after 0x1000. OK when it matches.
 */
espsec_err_t espsec_sbv1_check_bootloader_digest(const uint8_t *flash_at_0, size_t len,
                                                 size_t image_len, const uint8_t key[32],
                                                 espsec_error_t *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
