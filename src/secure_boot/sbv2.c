/* Secure Boot V2 signature blocks (espsec/secure_boot.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "espsec/secure_boot.h"
#include "espsec/util.h"
#include "secure_boot/sb_internal.h"
#include "util/bytes.h"

/* Signature block fields (ets_secure_boot_sig_block_t). */
enum {
    B_MAGIC = 0,
    B_VERSION = 1,
    B_HASH_TYPE = 2, /* ECDSA: 0 SHA-256, 1 SHA-384 */
    B_DIGEST = 4,
    /* RSA */
    B_RSA_N = 36,
    B_RSA_E = 420,
    B_RSA_RINV = 424,
    B_RSA_MPRIME = 808,
    B_RSA_SIG = 812,
    B_RSA_KEY_LEN = 776, /* n..M' */
    B_CRC = ESPSEC_SBV2_CRC_OFFSET,
};

#define RSA_BYTES 384
#define ECDSA_SHA256 0
#define ECDSA_SHA384 1
#define CURVE_P192 1
#define CURVE_P256 2
#define CURVE_P384 3

static uint8_t curve_id(espsec_sb_scheme_t s)
{
    return s == ESPSEC_SB_ECDSA192 ? CURVE_P192 : s == ESPSEC_SB_ECDSA256 ? CURVE_P256 : CURVE_P384;
}

/* Offsets of the ECDSA fields, which depend on the digest length. */
static size_t ec_field(espsec_sb_scheme_t s)
{
    return s == ESPSEC_SB_ECDSA384 ? 96 : 64;
}
static size_t ec_curve_off(espsec_sb_scheme_t s)
{
    return s == ESPSEC_SB_ECDSA384 ? 52 : 36;
}

espsec_err_t espsec_sbv2_image_digest(espsec_sb_scheme_t scheme, const uint8_t *data, size_t len,
                                      uint8_t out[48], size_t *out_len)
{
    if (scheme == ESPSEC_SB_ECDSA384) {
        *out_len = 48;
        return espsec_sha384(data, len, out);
    }
    *out_len = 32;
    return espsec_sha256(data, len, out);
}

static void bn_to_le(const BIGNUM *bn, uint8_t *out, size_t len)
{
    BN_bn2lebinpad(bn, out, (int)len);
}

espsec_err_t espsec_sbv2_key_block(const espsec_sb_key_t *key, uint8_t out[776], size_t *len,
                                   espsec_error_t *err)
{
    if (key->scheme != ESPSEC_SB_RSA3072) {
        size_t cb = sb_curve_bytes(key->scheme), field = ec_field(key->scheme);
        uint8_t x[48], y[48];
        if (sb_ec_point(key, x, y) != ESPSEC_OK) {
            return espsec_fail(err, ESPSEC_ERR_CRYPTO, "cannot read the EC public point");
        }
        memset(out, 0, 1 + field);
        out[0] = curve_id(key->scheme);
        reverse_copy(out + 1, x, cb);
        reverse_copy(out + 1 + cb, y, cb);
        *len = 1 + field;
        return ESPSEC_OK;
    }
    BIGNUM *n = NULL, *e = NULL, *r = BN_new(), *rinv = BN_new();
    BN_CTX *ctx = BN_CTX_new();
    espsec_err_t rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "RSA key block computation failed");
    if (r == NULL || rinv == NULL || ctx == NULL || EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
        goto done;
    }
    /* R^2 mod n with R = 2^3072, the Montgomery constant of the ROM's RSA unit */
    if (BN_set_bit(r, 2 * 3072) != 1 || BN_mod(rinv, r, n, ctx) != 1) {
        goto done;
    }
    /* M' = -n^-1 mod 2^32, by Newton's iteration on the low word (n is odd) */
    BN_ULONG low = BN_mod_word(n, 0x100000000ull);
    uint32_t n0 = (uint32_t)low, inv = n0;
    for (int i = 0; i < 5; i++) {
        inv *= 2u - n0 * inv;
    }
    bn_to_le(n, out, RSA_BYTES);
    put_le32(out + RSA_BYTES, (uint32_t)BN_get_word(e));
    bn_to_le(rinv, out + RSA_BYTES + 4, RSA_BYTES);
    put_le32(out + 2 * RSA_BYTES + 4, (uint32_t)(0u - inv));
    *len = B_RSA_KEY_LEN;
    rc = ESPSEC_OK;
done:
    BN_free(n);
    BN_free(e);
    BN_free(r);
    BN_free(rinv);
    BN_CTX_free(ctx);
    return rc;
}

espsec_err_t espsec_sbv2_key_digest(const espsec_sb_key_t *key, uint8_t out[32], espsec_error_t *err)
{
    uint8_t kb[776];
    size_t len = 0;
    espsec_err_t rc = espsec_sbv2_key_block(key, kb, &len, err);
    if (rc == ESPSEC_OK && espsec_sha256(kb, len, out) != ESPSEC_OK) {
        rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "SHA-256 failed");
    }
    return rc;
}

static int set_pss(EVP_PKEY_CTX *ctx)
{
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 32) == 1;
}

/* Sign a digest with an EVP private key: raw RSA-PSS (384 bytes) or DER ECDSA. */
static espsec_err_t evp_sign_digest(EVP_PKEY *pk, int is_rsa, const uint8_t *digest, size_t dlen,
                                    uint8_t *sig, size_t *sig_len, espsec_error_t *err)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
    espsec_err_t rc = ESPSEC_OK;
    if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1 || (is_rsa && !set_pss(ctx)) ||
        EVP_PKEY_sign(ctx, sig, sig_len, digest, dlen) != 1) {
        rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "signing failed");
    }
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* Verify a digest signature (raw RSA-PSS or DER ECDSA); ESPSEC_ERR_VERIFY when wrong. */
static espsec_err_t evp_verify_digest(EVP_PKEY *pk, int is_rsa, const uint8_t *digest, size_t dlen,
                                      const uint8_t *sig, size_t sig_len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
    espsec_err_t rc = ESPSEC_ERR_VERIFY;
    if (ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 && (!is_rsa || set_pss(ctx)) &&
        EVP_PKEY_verify(ctx, sig, sig_len, digest, dlen) == 1) {
        rc = ESPSEC_OK;
    }
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* DER ECDSA signature → r and s little-endian in cb bytes each. */
static int der_to_rs_le(const uint8_t *der, size_t len, size_t cb, uint8_t *r_le, uint8_t *s_le)
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (sig == NULL) {
        return -1;
    }
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    int ok = BN_num_bytes(r) <= (int)cb && BN_num_bytes(s) <= (int)cb;
    if (ok) {
        BN_bn2lebinpad(r, r_le, (int)cb);
        BN_bn2lebinpad(s, s_le, (int)cb);
    }
    ECDSA_SIG_free(sig);
    return ok ? 0 : -1;
}

/* r and s little-endian → DER (malloc'd). */
static int rs_le_to_der(const uint8_t *r_le, const uint8_t *s_le, size_t cb, uint8_t **der, size_t *len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_lebin2bn(r_le, (int)cb, NULL), *s = BN_lebin2bn(s_le, (int)cb, NULL);
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        ECDSA_SIG_free(sig);
        BN_free(r);
        BN_free(s);
        return -1;
    }
    unsigned char *out = NULL;
    int n = i2d_ECDSA_SIG(sig, &out);
    ECDSA_SIG_free(sig);
    if (n <= 0) {
        return -1;
    }
    *der = out;
    *len = (size_t)n;
    return 0;
}

static void finish_block(uint8_t block[ESPSEC_SBV2_BLOCK_SIZE])
{
    put_le32(block + B_CRC, espsec_crc32(0, block, B_CRC));
    memset(block + B_CRC + 4, 0, 16);
}

espsec_err_t espsec_sbv2_make_block(const espsec_sbv2_signer_t *signer, const uint8_t *digest,
                                    uint8_t block[ESPSEC_SBV2_BLOCK_SIZE], espsec_error_t *err)
{
    const espsec_sb_key_t *key = signer->key;
    int is_rsa = key->scheme == ESPSEC_SB_RSA3072;
    size_t dlen = key->scheme == ESPSEC_SB_ECDSA384 ? 48 : 32;
    uint8_t sig[512];
    size_t sig_len = sizeof(sig);
    espsec_err_t rc;

    if (signer->signature != NULL) {
        if (signer->signature_len > sizeof(sig)) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT, "detached signature is %zu bytes, too long",
                               signer->signature_len);
        }
        memcpy(sig, signer->signature, signer->signature_len);
        sig_len = signer->signature_len;
    } else if (signer->sign_fn != NULL) {
        rc = signer->sign_fn(signer->sign_ctx, digest, dlen, sig, &sig_len, err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
    } else {
        if (!key->is_private) {
            return espsec_fail(err, ESPSEC_ERR_KEY,
                               "a public key cannot sign; give the private key, or a signature made "
                               "elsewhere with --signature");
        }
        rc = evp_sign_digest(key->pkey, is_rsa, digest, dlen, sig, &sig_len, err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    /* Never emit a block that would not verify (a detached signature from
     * the wrong key, an HSM answering with another key). */
    if (evp_verify_digest(key->pkey, is_rsa, digest, dlen, sig, sig_len) != ESPSEC_OK) {
        return espsec_fail(err, ESPSEC_ERR_VERIFY,
                           "signature verification failed: the signature was not made with the "
                           "given public key over this image");
    }

    memset(block, 0, ESPSEC_SBV2_BLOCK_SIZE);
    block[B_MAGIC] = ESPSEC_SBV2_MAGIC;
    memcpy(block + B_DIGEST, digest, dlen);
    uint8_t kb[776];
    size_t kblen = 0;
    rc = espsec_sbv2_key_block(key, kb, &kblen, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (is_rsa) {
        if (sig_len != RSA_BYTES) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT, "RSA-3072 signature is %zu bytes, expected 384", sig_len);
        }
        block[B_VERSION] = ESPSEC_SBV2_VERSION_RSA;
        memcpy(block + B_RSA_N, kb, kblen);
        reverse_copy(block + B_RSA_SIG, sig, RSA_BYTES);
    } else {
        size_t cb = sb_curve_bytes(key->scheme), field = ec_field(key->scheme);
        size_t at = ec_curve_off(key->scheme);
        block[B_VERSION] = ESPSEC_SBV2_VERSION_ECDSA;
        block[B_HASH_TYPE] = key->scheme == ESPSEC_SB_ECDSA384 ? ECDSA_SHA384 : ECDSA_SHA256;
        memcpy(block + at, kb, kblen);
        if (der_to_rs_le(sig, sig_len, cb, block + at + 1 + field, block + at + 1 + field + cb) != 0) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT, "ECDSA signature is not valid DER");
        }
    }
    finish_block(block);
    return ESPSEC_OK;
}

/* Magic, version and CRC; also the scheme it claims. 0 when well-formed. */
static int block_wellformed(const uint8_t *b, espsec_sb_scheme_t *scheme, char *why, size_t whylen)
{
    if (b[B_MAGIC] != ESPSEC_SBV2_MAGIC) {
        snprintf(why, whylen, "magic byte 0x%02x, expected 0xe7", b[B_MAGIC]);
        return -1;
    }
    if (b[B_VERSION] == ESPSEC_SBV2_VERSION_RSA) {
        *scheme = ESPSEC_SB_RSA3072;
    } else if (b[B_VERSION] == ESPSEC_SBV2_VERSION_ECDSA) {
        uint8_t hash = b[B_HASH_TYPE];
        uint8_t curve = b[hash == ECDSA_SHA384 ? 52 : 36];
        if (hash == ECDSA_SHA384 && curve == CURVE_P384) {
            *scheme = ESPSEC_SB_ECDSA384;
        } else if (hash == ECDSA_SHA256 && curve == CURVE_P256) {
            *scheme = ESPSEC_SB_ECDSA256;
        } else if (hash == ECDSA_SHA256 && curve == CURVE_P192) {
            *scheme = ESPSEC_SB_ECDSA192;
        } else {
            snprintf(why, whylen, "ECDSA block with hash type %u and curve id %u is not a valid combination",
                     hash, curve);
            return -1;
        }
    } else {
        snprintf(why, whylen, "version byte 0x%02x, expected 0x02 (RSA) or 0x03 (ECDSA)", b[B_VERSION]);
        return -1;
    }
    uint32_t stored = get_le32(b + B_CRC), calc = espsec_crc32(0, b, B_CRC);
    if (stored != calc) {
        snprintf(why, whylen, "CRC32 0x%08x stored, 0x%08x calculated", stored, calc);
        return -1;
    }
    return 0;
}

/* The key part of a well-formed block, as espsec_sbv2_key_block produces. */
static const uint8_t *block_key_part(const uint8_t *b, espsec_sb_scheme_t scheme, size_t *len)
{
    if (scheme == ESPSEC_SB_RSA3072) {
        *len = B_RSA_KEY_LEN;
        return b + B_RSA_N;
    }
    *len = 1 + ec_field(scheme);
    return b + ec_curve_off(scheme);
}

/* espsecure's words first ("Invalid datafile. ..."), then espsec's reason. */
static espsec_err_t check_sector_len(size_t len, int skip_padding, espsec_error_t *err)
{
    if (skip_padding && len < ESPSEC_SBV2_SECTOR_SIZE) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "Invalid datafile. File too small (must be at least 4096 bytes): the file is %zu "
                           "bytes; a signed image ends with a 4096-byte signature sector",
                           len);
    }
    if (!skip_padding && (len < ESPSEC_SBV2_SECTOR_SIZE || len % ESPSEC_SBV2_SECTOR_SIZE != 0)) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "Invalid datafile. Data size should be non-zero & a multiple of 4096: the file is "
                           "%zu bytes, not a Secure Boot V2 signed image (use --skip-padding for images "
                           "signed with it)",
                           len);
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_sbv2_info(const uint8_t *data, size_t len, int skip_padding,
                              espsec_sbv2_block_info_t info[ESPSEC_SBV2_MAX_BLOCKS], espsec_error_t *err)
{
    espsec_err_t rc = check_sector_len(len, skip_padding, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    size_t body = len - ESPSEC_SBV2_SECTOR_SIZE;
    uint8_t d256[32], d384[48];
    int have256 = 0, have384 = 0;
    for (int i = 0; i < ESPSEC_SBV2_MAX_BLOCKS; i++) {
        espsec_sbv2_block_info_t *bi = &info[i];
        const uint8_t *b = data + body + (size_t)i * ESPSEC_SBV2_BLOCK_SIZE;
        memset(bi, 0, sizeof(*bi));
        if (block_wellformed(b, &bi->scheme, bi->problem, sizeof(bi->problem)) != 0) {
            continue;
        }
        bi->present = 1;
        bi->version = b[B_VERSION];
        bi->digest_len = bi->scheme == ESPSEC_SB_ECDSA384 ? 48 : 32;
        memcpy(bi->digest, b + B_DIGEST, bi->digest_len);
        const uint8_t *calc;
        if (bi->digest_len == 48) {
            if (!have384 && espsec_sha384(data, body, d384) == ESPSEC_OK) {
                have384 = 1;
            }
            calc = d384;
        } else {
            if (!have256 && espsec_sha256(data, body, d256) == ESPSEC_OK) {
                have256 = 1;
            }
            calc = d256;
        }
        bi->digest_matches = espsec_ct_compare(calc, bi->digest, bi->digest_len) == 0;
        size_t klen = 0;
        const uint8_t *kp = block_key_part(b, bi->scheme, &klen);
        espsec_sha256(kp, klen, bi->key_digest);
    }
    return ESPSEC_OK;
}

/* The block's own public key. */
static espsec_err_t block_pubkey(const uint8_t *b, espsec_sb_scheme_t scheme, EVP_PKEY **pk)
{
    if (scheme == ESPSEC_SB_RSA3072) {
        return sb_pubkey_from_rsa(b + B_RSA_N, get_le32(b + B_RSA_E), pk);
    }
    size_t cb = sb_curve_bytes(scheme), at = ec_curve_off(scheme) + 1;
    uint8_t x[48], y[48];
    reverse_copy(x, b + at, cb);
    reverse_copy(y, b + at + cb, cb);
    return sb_pubkey_from_point(scheme, x, y, pk);
}

/* Verify the signature field of a block over digest with pk. */
static espsec_err_t block_sig_verify(const uint8_t *b, espsec_sb_scheme_t scheme, EVP_PKEY *pk,
                                     const uint8_t *digest, size_t dlen)
{
    if (scheme == ESPSEC_SB_RSA3072) {
        uint8_t sig[RSA_BYTES];
        reverse_copy(sig, b + B_RSA_SIG, RSA_BYTES);
        return evp_verify_digest(pk, 1, digest, dlen, sig, RSA_BYTES);
    }
    size_t cb = sb_curve_bytes(scheme), at = ec_curve_off(scheme) + 1 + ec_field(scheme);
    uint8_t *der = NULL;
    size_t der_len = 0;
    if (rs_le_to_der(b + at, b + at + cb, cb, &der, &der_len) != 0) {
        return ESPSEC_ERR_VERIFY;
    }
    espsec_err_t rc = evp_verify_digest(pk, 0, digest, dlen, der, der_len);
    OPENSSL_free(der);
    return rc;
}

espsec_err_t espsec_sbv2_verify_block(const uint8_t block[ESPSEC_SBV2_BLOCK_SIZE], const uint8_t *image_digest,
                                      size_t digest_len, uint8_t key_digest[32], espsec_error_t *err)
{
    espsec_sb_scheme_t scheme;
    char why[160];
    if (block_wellformed(block, &scheme, why, sizeof(why)) != 0) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "signature block invalid: %s", why);
    }
    size_t dlen = scheme == ESPSEC_SB_ECDSA384 ? 48 : 32;
    size_t klen = 0;
    const uint8_t *kp = block_key_part(block, scheme, &klen);
    espsec_sha256(kp, klen, key_digest);
    if (dlen != digest_len || espsec_ct_compare(block + B_DIGEST, image_digest, dlen) != 0) {
        return espsec_fail(err, ESPSEC_ERR_VERIFY,
                           "image digest does not match the digest in the signature block (image modified)");
    }
    EVP_PKEY *pk = NULL;
    if (block_pubkey(block, scheme, &pk) != ESPSEC_OK) {
        return espsec_fail(err, ESPSEC_ERR_VERIFY, "the public key in the signature block is not a valid key");
    }
    espsec_err_t rc = block_sig_verify(block, scheme, pk, image_digest, dlen);
    EVP_PKEY_free(pk);
    if (rc != ESPSEC_OK) {
        return espsec_fail(err, ESPSEC_ERR_VERIFY, "signature in the block does not verify with the block's public key");
    }
    return ESPSEC_OK;
}

/* The verdict of one present block for key (want_key: the key's digest). */
static espsec_sbv2_verdict_t check_block(const uint8_t *b, const espsec_sbv2_block_info_t *bi,
                                         const espsec_sb_key_t *key, const uint8_t want_key[32])
{
    if (!bi->digest_matches) {
        return ESPSEC_SBV2_BLOCK_DIGEST_MISMATCH;
    }
    if (bi->scheme != key->scheme ||
        block_sig_verify(b, bi->scheme, key->pkey, bi->digest, bi->digest_len) != ESPSEC_OK) {
        return ESPSEC_SBV2_BLOCK_OTHER_KEY;
    }
    if (espsec_ct_compare(bi->key_digest, want_key, 32) != 0) {
        return ESPSEC_SBV2_BLOCK_KEY_MISMATCH;
    }
    return ESPSEC_SBV2_BLOCK_VERIFIED;
}

espsec_err_t espsec_sbv2_verify_report(const uint8_t *data, size_t len, const espsec_sb_key_t *key,
                                       int skip_padding, espsec_sbv2_block_check_t checks[ESPSEC_SBV2_MAX_BLOCKS],
                                       int *block, espsec_error_t *err)
{
    uint8_t want_key[32];
    espsec_err_t rc = espsec_sbv2_key_digest(key, want_key, err);
    if (rc != ESPSEC_OK) {
        return rc == ESPSEC_ERR_VERIFY ? ESPSEC_ERR_KEY : rc;
    }
    espsec_sbv2_block_info_t info[ESPSEC_SBV2_MAX_BLOCKS];
    rc = espsec_sbv2_info(data, len, skip_padding, info, err);
    if (rc != ESPSEC_OK) {
        return rc == ESPSEC_ERR_VERIFY ? ESPSEC_ERR_FORMAT : rc;
    }
    size_t body = len - ESPSEC_SBV2_SECTOR_SIZE;
    int verified = -1, key_mismatch = -1, digest_bad = -1, other_key = 0, any_present = 0;
    for (int i = 0; i < ESPSEC_SBV2_MAX_BLOCKS; i++) {
        espsec_sbv2_verdict_t v = ESPSEC_SBV2_BLOCK_ABSENT;
        if (info[i].present) {
            any_present = 1;
            v = check_block(data + body + (size_t)i * ESPSEC_SBV2_BLOCK_SIZE, &info[i], key, want_key);
        }
        if (v == ESPSEC_SBV2_BLOCK_VERIFIED && verified < 0) {
            verified = i;
        } else if (v == ESPSEC_SBV2_BLOCK_KEY_MISMATCH && key_mismatch < 0) {
            key_mismatch = i;
        } else if (v == ESPSEC_SBV2_BLOCK_DIGEST_MISMATCH) {
            digest_bad = i;
        } else if (v == ESPSEC_SBV2_BLOCK_OTHER_KEY) {
            other_key = 1;
        }
        if (checks != NULL) {
            checks[i].info = info[i];
            checks[i].verdict = v;
        }
    }
    if (verified >= 0) {
        if (block != NULL) {
            *block = verified;
        }
        return ESPSEC_OK;
    }
    if (key_mismatch >= 0) {
        return espsec_fail(err, ESPSEC_ERR_VERIFY,
                           "Signature block %d: the signature verifies with the supplied key but the "
                           "block carries a different public key (a device would reject it)",
                           key_mismatch);
    }
    if (!any_present) {
        return espsec_fail(err, ESPSEC_ERR_VERIFY,
                           "offset 0x%zx: no valid signature block in the signature sector (block 0: %s)", body,
                           info[0].problem);
    }
    if (digest_bad >= 0 && !other_key) {
        return espsec_fail(err, ESPSEC_ERR_VERIFY,
                           "Signature block %d image digest does not match the actual image digest "
                           "(the image was modified after signing)",
                           digest_bad);
    }
    return espsec_fail(err, ESPSEC_ERR_VERIFY,
                       "Checked all blocks. Signature could not be verified with the provided key.");
}

espsec_err_t espsec_sbv2_verify(const uint8_t *data, size_t len, const espsec_sb_key_t *key, int skip_padding,
                                int *block, espsec_error_t *err)
{
    return espsec_sbv2_verify_report(data, len, key, skip_padding, NULL, block, err);
}

espsec_err_t espsec_sbv2_sign(const uint8_t *data, size_t len, const espsec_sbv2_signer_t *signers, size_t nsigners,
                              const espsec_sbv2_sign_opts_t *opts, uint8_t **out, size_t *out_len,
                              int *blocks_total, espsec_error_t *err)
{
    uint8_t sector[ESPSEC_SBV2_SECTOR_SIZE];
    memset(sector, 0xFF, sizeof(sector));
    int existing = 0, detached = 0;
    size_t body = len, padded = len;
    for (size_t i = 0; i < nsigners; i++) {
        detached |= signers[i].signature != NULL;
    }
    if (nsigners == 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "no signing key given");
    }
    if (len % ESPSEC_SBV2_SECTOR_SIZE != 0) {
        if (detached) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                               "the data is %zu bytes: with a pre-calculated signature the data must "
                               "already be padded to a 4096-byte boundary",
                               len);
        }
        if (!opts->skip_padding) {
            padded = (len + ESPSEC_SBV2_SECTOR_SIZE - 1) / ESPSEC_SBV2_SECTOR_SIZE * ESPSEC_SBV2_SECTOR_SIZE;
        }
    } else if (opts->append && len >= ESPSEC_SBV2_SECTOR_SIZE) {
        const uint8_t *old = data + len - ESPSEC_SBV2_SECTOR_SIZE;
        for (; existing < ESPSEC_SBV2_MAX_BLOCKS; existing++) {
            espsec_sb_scheme_t sch;
            char why[160];
            const uint8_t *b = old + (size_t)existing * ESPSEC_SBV2_BLOCK_SIZE;
            if (block_wellformed(b, &sch, why, sizeof(why)) != 0) {
                break;
            }
            memcpy(sector + (size_t)existing * ESPSEC_SBV2_BLOCK_SIZE, b, ESPSEC_SBV2_BLOCK_SIZE);
        }
        if (existing == ESPSEC_SBV2_MAX_BLOCKS) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_STATE,
                               "the signature sector already holds 3 signature blocks, the maximum");
        }
        if (existing > 0) {
            body = padded = len - ESPSEC_SBV2_SECTOR_SIZE;
        }
    }
    if (nsigners > (size_t)(ESPSEC_SBV2_MAX_BLOCKS - existing)) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG,
                           "%zu signing keys but only %d free signature blocks", nsigners,
                           ESPSEC_SBV2_MAX_BLOCKS - existing);
    }
    uint8_t *buf = malloc(padded + ESPSEC_SBV2_SECTOR_SIZE);
    if (buf == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    memcpy(buf, data, body);
    memset(buf + body, 0xFF, padded - body);
    for (size_t i = 0; i < nsigners; i++) {
        uint8_t digest[48];
        size_t dlen = 0;
        espsec_sb_scheme_t scheme = signers[i].key->scheme;
        espsec_err_t rc = espsec_sbv2_image_digest(scheme, buf, padded, digest, &dlen);
        if (rc == ESPSEC_OK) {
            rc = espsec_sbv2_make_block(&signers[i], digest,
                                        sector + (size_t)(existing + (int)i) * ESPSEC_SBV2_BLOCK_SIZE, err);
        } else {
            espsec_fail(err, rc, "digest failed");
        }
        if (rc != ESPSEC_OK) {
            free(buf);
            return rc;
        }
    }
    memcpy(buf + padded, sector, ESPSEC_SBV2_SECTOR_SIZE);
    *out = buf;
    *out_len = padded + ESPSEC_SBV2_SECTOR_SIZE;
    if (blocks_total != NULL) {
        *blocks_total = existing + (int)nsigners;
    }
    return ESPSEC_OK;
}
