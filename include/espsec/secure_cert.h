/*
 * espsec/secure_cert.h — the esp_secure_cert partition (Espressif's
 * esp_secure_cert_mgr, "cust_flash_tlv" format): per-device certificates and
 * keys for mutual TLS (AWS IoT, Matter, ...), read by the device with
 * esp_secure_cert_get_*().
 *
 * The partition is a run of TLV entries from offset 0 (docs/FORMATS.md,
 * "esp_secure_cert partition"):
 *
 *   0   magic 0xBA5EBA11 (u32 LE)
 *   4   flags (u8): 0x80 value encrypted with the HMAC-derived AES-GCM key,
 *       0x40 ECDSA key derived from the HMAC key (salt TLV), 0x08 key held in
 *       the ECDSA peripheral (an eFuse block)
 *   5   3 reserved zero bytes
 *   8   type (u8), 9 subtype (u8), 10 value length (u16 LE)
 *   12  value, zero-padded to a multiple of 16
 *   ..  CRC-32 (u32 LE) of everything above, zlib's crc32 started at 0xFFFFFFFF
 *
 * An integrity TLV (type 9) holds SHA-256 of every byte before it; a signature
 * TLV (type 8) signs the entries before the first signature TLV with a Secure
 * Boot V2 key, so the device can check them against its eFuse key digests.
 * Unused flash after the last entry is erased (0xFF).
 *
 * The builder and parser work on caller memory; no file or key I/O here
 * except the OpenSSL keys handed in.
 */
#ifndef ESPSEC_SECURE_CERT_H
#define ESPSEC_SECURE_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/error.h"
#include "espsec/secure_boot.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

#define ESPSEC_SC_MAGIC 0xBA5EBA11u
#define ESPSEC_SC_PARTITION_SIZE 0x2000 /* what configure_esp_secure_cert.py fills at most */
#define ESPSEC_SC_HEADER_LEN 12
#define ESPSEC_SC_FOOTER_LEN 4
#define ESPSEC_SC_ALIGN 16
#define ESPSEC_SC_HMAC_KEY_LEN 32
#define ESPSEC_SC_GCM_TAG_LEN 16

#define ESPSEC_SC_FLAG_HMAC_ENCRYPTED 0x80
#define ESPSEC_SC_FLAG_HMAC_ECDSA_DERIVED 0x40
#define ESPSEC_SC_FLAG_ECDSA_PERIPHERAL 0x08

/* TLV types (esp_secure_cert_tlv_config.h). */
enum {
    ESPSEC_SC_CA_CERT = 0,
    ESPSEC_SC_DEV_CERT = 1,
    ESPSEC_SC_PRIV_KEY = 2,
    ESPSEC_SC_DS_DATA = 3,
    ESPSEC_SC_DS_CONTEXT = 4,
    ESPSEC_SC_ECDSA_KEY_SALT = 5,
    ESPSEC_SC_SEC_CFG = 6,
    ESPSEC_SC_TEE_SEC_STORAGE_KEY = 7,
    ESPSEC_SC_SIGNATURE_BLOCK = 8,
    ESPSEC_SC_INTEGRITY = 9,
    ESPSEC_SC_TLV_END = 50,
    ESPSEC_SC_USER_DATA_1 = 51,
    ESPSEC_SC_USER_DATA_5 = 55,
};

/** esp_secure_cert_mgr's name of a type ("ESP_SECURE_CERT_CA_CERT_TLV"), or NULL if unknown. */
const char *espsec_sc_type_name(unsigned type);
/** A type from its name (with or without the ESP_SECURE_CERT_ prefix and _TLV suffix) or number; -1 if neither. */
int espsec_sc_type_from_name(const char *name);

/** A partition under construction in caller memory (cap bytes, usually ESPSEC_SC_PARTITION_SIZE). */
typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len; /* bytes of entries so far */
} espsec_sc_builder_t;

/** Start with buf (filled with 0xFF, the erased flash). */
void espsec_sc_builder_init(espsec_sc_builder_t *b, uint8_t *buf, size_t cap);

/**
 * Append one entry. ESPSEC_ERR_INVALID_SIZE when the value is longer than
 * 65535 bytes or the entry does not fit.
 */
espsec_err_t espsec_sc_add(espsec_sc_builder_t *b, uint8_t type, uint8_t subtype, uint8_t flags,
                           const uint8_t *value, size_t len, espsec_error_t *err);

/**
 * Append an entry whose value is encrypted as the device's
 * esp_secure_cert_tlv_write does with its HMAC_UP key: AES-256-GCM with key
 * HMAC-SHA256(hmac_key, 32 x 0xFF) and IV the first 16 bytes of
 * HMAC-SHA256(hmac_key, 8 x the u32 0xABCDABCD), no AAD; the value is the
 * ciphertext then the 16-byte tag; flags ESPSEC_SC_FLAG_HMAC_ENCRYPTED.
 */
espsec_err_t espsec_sc_add_hmac_encrypted(espsec_sc_builder_t *b, uint8_t type, uint8_t subtype,
                                          const uint8_t hmac_key[ESPSEC_SC_HMAC_KEY_LEN], const uint8_t *value,
                                          size_t len, espsec_error_t *err);

/** Append the integrity TLV: SHA-256 of the b->len bytes before it. */
espsec_err_t espsec_sc_add_integrity(espsec_sc_builder_t *b, uint8_t subtype, espsec_error_t *err);

/**
 * Append one signature TLV per key (subtypes 0, 1, ...) over the b->len bytes
 * already there, as configure_esp_secure_cert.py --secure-sign does: version
 * 1, offset 0, length, algorithm (0 RSA-3072, 2 ECDSA P-256, 3 P-384); then
 * for RSA the whole 1216-byte Secure Boot V2 block, for ECDSA the curve id
 * and little-endian point and the little-endian r||s. P-192 is refused (the
 * reference tool's layout cannot hold it).
 */
espsec_err_t espsec_sc_add_signatures(espsec_sc_builder_t *b, const espsec_sbv2_signer_t *signers, size_t n,
                                      espsec_error_t *err);

/** One parsed entry. value points into the parsed buffer. */
typedef struct {
    size_t offset;
    uint8_t type, subtype, flags;
    uint16_t len;
    const uint8_t *value;
    int crc_ok;
} espsec_sc_tlv_t;

/**
 * Walk the entries of a partition image: from offset 0 while the magic is
 * found (erased flash or the end marker ends the list). Up to max entries go
 * to out; *count receives how many there are, *end the offset after the
 * last. ESPSEC_ERR_FORMAT (naming the offset) for an entry that runs past the
 * end or a first entry without the magic; a bad CRC is reported per entry.
 */
espsec_err_t espsec_sc_parse(const uint8_t *part, size_t len, espsec_sc_tlv_t *out, size_t max, size_t *count,
                             size_t *end, espsec_error_t *err);

/** Check an integrity TLV (parsed from part): OK when its SHA-256 covers the bytes before it. */
espsec_err_t espsec_sc_check_integrity(const uint8_t *part, const espsec_sc_tlv_t *tlv, espsec_error_t *err);

/** What a signature TLV says and whether it verifies. */
typedef struct {
    espsec_sb_scheme_t scheme;
    uint32_t signed_offset, signed_len;
    int valid;
    uint8_t key_digest[32]; /* the eFuse digest of the signing key */
    char problem[128];
} espsec_sc_sig_info_t;

/** Check one signature TLV against the bytes of part it names. */
espsec_err_t espsec_sc_check_signature(const uint8_t *part, size_t len, const espsec_sc_tlv_t *tlv,
                                       espsec_sc_sig_info_t *info, espsec_error_t *err);

/** Decrypt an HMAC-encrypted value (out holds tlv->len - 16 bytes); ESPSEC_ERR_VERIFY for a wrong key. */
espsec_err_t espsec_sc_hmac_decrypt(const espsec_sc_tlv_t *tlv, const uint8_t hmac_key[ESPSEC_SC_HMAC_KEY_LEN],
                                    uint8_t *out, size_t out_cap, size_t *out_len, espsec_error_t *err);

/**
 * Digital Signature (DS) peripheral parameters for an RSA private key, as
 * Espressif's DS tooling computes them: with key_bits the RSA size and
 * max_bits the chip's largest DS key (the chip model), the plaintext
 * Y||M||Rb (each little-endian, padded to max_bits) || SHA-256(Y||M||Rb||M'||
 * length||IV) || M' || length || 8 x 0x08 is encrypted with AES-256-CBC under
 * HMAC-SHA256(hmac_key, 32 x 0xFF) and iv. c receives (3 * max_bits / 8 + 48)
 * bytes (*c_len). length = key_bits / 32 - 1.
 */
espsec_err_t espsec_sc_ds_params(const void *evp_rsa_private, unsigned max_bits,
                                 const uint8_t hmac_key[ESPSEC_SC_HMAC_KEY_LEN], const uint8_t iv[16], uint8_t *c,
                                 size_t c_cap, size_t *c_len, unsigned *key_bits, espsec_error_t *err);

/**
 * Recover and check the DS plaintext (the inverse, for `secure-cert verify`
 * with the HMAC key): OK when the embedded SHA-256 matches; *key_bits gets the
 * RSA size the parameters hold.
 */
espsec_err_t espsec_sc_ds_check(const uint8_t *c, size_t c_len, unsigned max_bits, const uint8_t iv[16],
                                const uint8_t hmac_key[ESPSEC_SC_HMAC_KEY_LEN], unsigned *key_bits,
                                espsec_error_t *err);

/* ---- Generating a partition as configure_esp_secure_cert.py does ---- */

/** How a PRIV_KEY entry's key is held. */
typedef enum {
    ESPSEC_SC_KEY_PLAINTEXT = 0,      /* the key (PEM + NUL, or DER) in the TLV */
    ESPSEC_SC_KEY_RSA_DS = 1,         /* only DS_DATA/DS_CONTEXT: the DS peripheral holds it */
    ESPSEC_SC_KEY_ECDSA_PERIPHERAL = 2, /* SEC_CFG names the eFuse block; PRIV_KEY flagged 0x08 */
    ESPSEC_SC_KEY_HMAC_ENCRYPTED = 3, /* the key encrypted with the HMAC_UP-derived key (flag 0x80) */
} espsec_sc_key_kind_t;

/** One requested entry (a CSV row, or a --ca-cert/--device-cert/--private-key option). */
typedef struct {
    uint8_t type, subtype;
    const uint8_t *data; /* file contents or decoded value */
    size_t len;
    espsec_sc_key_kind_t key_kind; /* PRIV_KEY only */
    unsigned key_bits;             /* PRIV_KEY with DS/peripheral: the size asked for (0 = the key's) */
    int efuse_key_id;              /* DS/peripheral: the key block KEYn holding the HMAC/ECDSA key; -1 none */
    const char *where;             /* for messages: "config.csv line 3" */
} espsec_sc_entry_t;

typedef struct {
    const espsec_sc_entry_t *entries;
    size_t count;
    unsigned ds_rsa_max_bits;    /* the chip's DS width (chip model); 0 = no DS peripheral */
    unsigned ds_rsa_sizes;       /* the chip's DS key sizes, bit k = (k + 1) * 1024 */
    unsigned ecdsa_bits;         /* the chip's ECDSA-peripheral curves (bit 0 P-192, 1 P-256, 2 P-384) */
    const uint8_t *hmac_key;     /* 32 bytes: DS and HMAC-encryption key (eFuse), or NULL */
    const uint8_t *ds_iv;        /* 16 bytes for reproducible DS data, or NULL for a random IV */
    const char *key_password;    /* for encrypted PEM keys, or NULL */
    const espsec_sbv2_signer_t *signers; /* Secure Boot V2 keys that sign the partition, or NULL */
    size_t nsigners;
    int no_integrity;            /* omit the integrity TLV (the reference always writes one) */
    int store_peripheral_key;    /* ECDSA peripheral: also keep the key in the PRIV_KEY TLV, as the reference does */
} espsec_sc_opts_t;

/**
 * Build a partition: DS TLVs first (DS_DATA + DS_CONTEXT per RSA-DS key,
 * SEC_CFG per ECDSA-peripheral key), then the entries in order (certificates
 * re-encoded as the reference does: the first certificate of a PEM as PEM plus
 * a NUL, DER as DER; keys as unencrypted traditional PEM plus a NUL, or DER),
 * then the signature TLVs, then the integrity TLV (and, after signatures, the
 * reference's end marker). out holds cap bytes, 0xFF-filled; *len is the
 * bytes written (the file the reference writes).
 */
espsec_err_t espsec_sc_generate(const espsec_sc_opts_t *opts, uint8_t *out, size_t cap, size_t *len,
                                espsec_error_t *err);

/**
 * A certificate as the reference stores it: PEM input gives the first
 * certificate re-encoded as PEM plus a terminating NUL (*extra_certs counts
 * those dropped), DER input gives DER. *out is malloc'd.
 */
espsec_err_t espsec_sc_encode_cert(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, int *extra_certs,
                                   espsec_error_t *err);

/**
 * A private key as the reference stores it (traditional-format PEM plus NUL,
 * or DER for DER input); PEM on one line (as the reference's CSV examples
 * have it) is accepted. *out is malloc'd: wipe and free it.
 */
espsec_err_t espsec_sc_encode_key(const uint8_t *in, size_t len, const char *password, uint8_t **out,
                                  size_t *out_len, void **evp_out, espsec_error_t *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
