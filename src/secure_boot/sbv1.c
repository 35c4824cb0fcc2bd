/*
 * Secure Boot V1 (ESP32): deterministic ECDSA app signatures and the
 * AES/SHA-512 bootloader digest (espsec/secure_boot.h).
 *
 * OpenSSL 3.0 (Debian 12) has no deterministic ECDSA (it arrives in 3.2), so
 * the RFC 6979 nonce is derived here with HMAC-SHA-256 through EVP_MAC and
 * the signature computed with OpenSSL's EC_POINT/BIGNUM arithmetic, k kept
 * in constant-time BIGNUMs and wiped.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "espsec/image.h"
#include "espsec/secure_boot.h"
#include "espsec/util.h"
#include "secure_boot/sb_internal.h"
#include "util/bytes.h"

#define P256_BYTES 32

static espsec_err_t require_p256(const espsec_sb_key_t *key, espsec_error_t *err)
{
    if (key->scheme != ESPSEC_SB_ECDSA256) {
        return espsec_fail(err, ESPSEC_ERR_KEY,
                           "the key is %s: ESP32 Secure Boot V1 only supports ECDSA NIST P-256 "
                           "(openssl calls this curve 'prime256v1')",
                           espsec_sb_scheme_name(key->scheme));
    }
    return ESPSEC_OK;
}

/* HMAC-SHA-256 over the concatenation of up to 4 parts. */
static int hmac256(const uint8_t key[32], const uint8_t *p1, size_t l1, const uint8_t *p2, size_t l2,
                   const uint8_t *p3, size_t l3, const uint8_t *p4, size_t l4, uint8_t out[32])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                            OSSL_PARAM_construct_end()};
    size_t outl = 0;
    int ok = ctx != NULL && EVP_MAC_init(ctx, key, 32, params) == 1 && EVP_MAC_update(ctx, p1, l1) == 1 &&
             (p2 == NULL || EVP_MAC_update(ctx, p2, l2) == 1) && (p3 == NULL || EVP_MAC_update(ctx, p3, l3) == 1) &&
             (p4 == NULL || EVP_MAC_update(ctx, p4, l4) == 1) && EVP_MAC_final(ctx, out, &outl, 32) == 1;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? 0 : -1;
}

/*
 * RFC 6979 section 3.2 for P-256 with SHA-256 (qlen = hlen = 256), returning
 * successive candidates; `round` > 0 asks for the next after a rejected one.
 */
struct rfc6979 {
    uint8_t K[32], V[32];
};

static int rfc6979_init(struct rfc6979 *st, const uint8_t x[32], const uint8_t h1_mod_q[32])
{
    static const uint8_t zero = 0x00, one = 0x01;
    memset(st->V, 0x01, 32);
    memset(st->K, 0x00, 32);
    return hmac256(st->K, st->V, 32, &zero, 1, x, 32, h1_mod_q, 32, st->K) || hmac256(st->K, st->V, 32, NULL, 0, NULL, 0, NULL, 0, st->V) ||
           hmac256(st->K, st->V, 32, &one, 1, x, 32, h1_mod_q, 32, st->K) || hmac256(st->K, st->V, 32, NULL, 0, NULL, 0, NULL, 0, st->V);
}

static int rfc6979_next(struct rfc6979 *st, uint8_t t[32])
{
    if (hmac256(st->K, st->V, 32, NULL, 0, NULL, 0, NULL, 0, st->V) != 0) {
        return -1;
    }
    memcpy(t, st->V, 32);
    return 0;
}

static int rfc6979_reject(struct rfc6979 *st)
{
    static const uint8_t zero = 0x00;
    return hmac256(st->K, st->V, 32, &zero, 1, NULL, 0, NULL, 0, st->K) ||
           hmac256(st->K, st->V, 32, NULL, 0, NULL, 0, NULL, 0, st->V);
}

/* Deterministic ECDSA P-256 over SHA-256(data): r||s big-endian. */
static espsec_err_t sign_deterministic(const espsec_sb_key_t *key, const uint8_t *data, size_t len,
                                       uint8_t rs[64], espsec_error_t *err)
{
    espsec_err_t rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "ECDSA signing failed");
    uint8_t h1[32], x[32], h1q[32], t[32];
    struct rfc6979 st;
    BN_CTX *ctx = BN_CTX_secure_new();
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *R = group ? EC_POINT_new(group) : NULL;
    BIGNUM *d = NULL, *e = BN_new(), *k = BN_secure_new(), *kinv = BN_secure_new(), *r = BN_new(), *s = BN_new(),
           *rx = BN_new(), *tmp = BN_secure_new();
    const BIGNUM *q = group ? EC_GROUP_get0_order(group) : NULL;
    if (ctx == NULL || R == NULL || e == NULL || k == NULL || kinv == NULL || r == NULL || s == NULL || rx == NULL ||
        tmp == NULL || q == NULL) {
        goto done;
    }
    if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1) {
        goto done;
    }
    BN_set_flags(d, BN_FLG_CONSTTIME);
    BN_set_flags(k, BN_FLG_CONSTTIME);
    if (espsec_sha256(data, len, h1) != ESPSEC_OK || BN_bn2binpad(d, x, 32) != 32 ||
        BN_bin2bn(h1, 32, e) == NULL || BN_nnmod(tmp, e, q, ctx) != 1 || BN_bn2binpad(tmp, h1q, 32) != 32) {
        goto done;
    }
    if (rfc6979_init(&st, x, h1q) != 0) {
        goto done;
    }
    for (int guard = 0; guard < 64; guard++) {
        if (rfc6979_next(&st, t) != 0 || BN_bin2bn(t, 32, k) == NULL) {
            goto done;
        }
        if (BN_is_zero(k) || BN_cmp(k, q) >= 0) {
            if (rfc6979_reject(&st) != 0) {
                goto done;
            }
            continue;
        }
        /* r = (kG).x mod q;  s = k^-1 (e + r d) mod q */
        if (EC_POINT_mul(group, R, k, NULL, NULL, ctx) != 1 ||
            EC_POINT_get_affine_coordinates(group, R, rx, NULL, ctx) != 1 || BN_nnmod(r, rx, q, ctx) != 1 ||
            BN_mod_inverse(kinv, k, q, ctx) == NULL || BN_mod_mul(tmp, r, d, q, ctx) != 1 ||
            BN_mod_add(tmp, tmp, e, q, ctx) != 1 || BN_mod_mul(s, tmp, kinv, q, ctx) != 1) {
            goto done;
        }
        if (BN_is_zero(r) || BN_is_zero(s)) {
            if (rfc6979_reject(&st) != 0) {
                goto done;
            }
            continue;
        }
        if (BN_bn2binpad(r, rs, 32) == 32 && BN_bn2binpad(s, rs + 32, 32) == 32) {
            rc = ESPSEC_OK;
        }
        break;
    }
done:
    espsec_wipe(x, sizeof(x));
    espsec_wipe(t, sizeof(t));
    espsec_wipe(&st, sizeof(st));
    BN_clear_free(d);
    BN_clear_free(k);
    BN_clear_free(kinv);
    BN_clear_free(tmp);
    BN_free(e);
    BN_free(r);
    BN_free(s);
    BN_free(rx);
    EC_POINT_free(R);
    EC_GROUP_free(group);
    BN_CTX_free(ctx);
    return rc;
}

/* Verify raw r||s (big-endian) over SHA-256(data). */
static espsec_err_t verify_rs(const espsec_sb_key_t *key, const uint8_t *data, size_t len, const uint8_t rs[64])
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, 32, NULL), *s = BN_bin2bn(rs + 32, 32, NULL);
    unsigned char *der = NULL;
    int der_len = 0;
    espsec_err_t rc = ESPSEC_ERR_VERIFY;
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return ESPSEC_ERR_CRYPTO;
    }
    der_len = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (der_len > 0 && md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
        EVP_DigestVerify(md, der, (size_t)der_len, data, len) == 1) {
        rc = ESPSEC_OK;
    }
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    return rc;
}

static espsec_err_t append_block(const uint8_t *data, size_t len, const uint8_t rs[64], uint8_t **out, size_t *out_len,
                                 espsec_error_t *err)
{
    uint8_t *buf = malloc(len + ESPSEC_SBV1_SIG_BLOCK_LEN);
    if (buf == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    memcpy(buf, data, len);
    put_le32(buf + len, 0); /* signature block version */
    memcpy(buf + len + 4, rs, 64);
    *out = buf;
    *out_len = len + ESPSEC_SBV1_SIG_BLOCK_LEN;
    return ESPSEC_OK;
}

espsec_err_t espsec_sbv1_sign(const uint8_t *data, size_t len, const espsec_sb_key_t *key, uint8_t **out,
                              size_t *out_len, espsec_error_t *err)
{
    espsec_err_t rc = require_p256(key, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (!key->is_private) {
        return espsec_fail(err, ESPSEC_ERR_KEY, "signing needs the private key");
    }
    uint8_t rs[64];
    rc = sign_deterministic(key, data, len, rs, err);
    if (rc == ESPSEC_OK && verify_rs(key, data, len, rs) != ESPSEC_OK) {
        rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "the new signature does not verify (internal error)");
    }
    if (rc == ESPSEC_OK) {
        rc = append_block(data, len, rs, out, out_len, err);
    }
    return rc;
}

espsec_err_t espsec_sbv1_sign_detached(const uint8_t *data, size_t len, const espsec_sb_key_t *pub,
                                       const uint8_t rs[64], uint8_t **out, size_t *out_len, espsec_error_t *err)
{
    espsec_err_t rc = require_p256(pub, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (verify_rs(pub, data, len, rs) != ESPSEC_OK) {
        return espsec_fail(err, ESPSEC_ERR_VERIFY,
                           "the pre-calculated signature was not made with the given public key over this data");
    }
    return append_block(data, len, rs, out, out_len, err);
}

espsec_err_t espsec_sbv1_verify(const uint8_t *data, size_t len, const espsec_sb_key_t *key, espsec_error_t *err)
{
    espsec_err_t rc = require_p256(key, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (len < ESPSEC_SBV1_SIG_BLOCK_LEN) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "file is %zu bytes, shorter than the 68-byte signature block",
                           len);
    }
    size_t body = len - ESPSEC_SBV1_SIG_BLOCK_LEN;
    uint32_t version = get_le32(data + body);
    if (version != 0) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "offset 0x%zx: signature block version is %u, only version 0 exists", body, version);
    }
    if (verify_rs(key, data, body, data + body + 4) != ESPSEC_OK) {
        return espsec_fail(err, ESPSEC_ERR_VERIFY,
                           "Signature is not valid. (the signature at offset 0x%zx is not the supplied key's "
                           "over the %zu bytes before it)",
                           body + 4, body);
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_sbv1_key_load(const uint8_t *buf, size_t len, espsec_sb_key_t **key, espsec_error_t *err)
{
    if (len == 64 && memmem(buf, len, "-----", 5) == NULL) {
        EVP_PKEY *pk = NULL;
        if (sb_pubkey_from_point(ESPSEC_SB_ECDSA256, buf, buf + 32, &pk) != ESPSEC_OK) {
            return espsec_fail(err, ESPSEC_ERR_KEY, "the 64 raw bytes are not a point on NIST P-256");
        }
        espsec_err_t rc = espsec_sb_key_from_evp(pk, key, err);
        EVP_PKEY_free(pk);
        return rc;
    }
    espsec_err_t rc = espsec_sb_key_load_pem(buf, len, key, err);
    if (rc == ESPSEC_OK && (*key)->scheme != ESPSEC_SB_ECDSA256) {
        rc = require_p256(*key, err);
        espsec_sb_key_free(*key);
        *key = NULL;
    }
    return rc;
}

espsec_err_t espsec_sbv1_public_raw(const espsec_sb_key_t *key, uint8_t out[64], espsec_error_t *err)
{
    espsec_err_t rc = require_p256(key, err);
    if (rc == ESPSEC_OK && sb_ec_point(key, out, out + 32) != ESPSEC_OK) {
        rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "cannot read the public point");
    }
    return rc;
}

espsec_err_t espsec_sbv1_digest_private_key(const espsec_sb_key_t *key, int keylen_bits, uint8_t out[32],
                                            size_t *out_len, espsec_error_t *err)
{
    espsec_err_t rc = require_p256(key, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (keylen_bits != 192 && keylen_bits != 256) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "--keylen %d: 192 or 256 expected", keylen_bits);
    }
    BIGNUM *d = NULL;
    uint8_t raw[P256_BYTES];
    if (!key->is_private || EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1 ||
        BN_bn2binpad(d, raw, P256_BYTES) != P256_BYTES) {
        BN_clear_free(d);
        return espsec_fail(err, ESPSEC_ERR_KEY, "a private P-256 key is needed");
    }
    BN_clear_free(d);
    rc = espsec_sha256(raw, sizeof(raw), out);
    espsec_wipe(raw, sizeof(raw));
    *out_len = keylen_bits == 192 ? 24 : 32;
    return rc;
}

espsec_err_t espsec_expand_hw_key(const uint8_t *key, size_t len, uint8_t out[32], espsec_error_t *err)
{
    switch (len) {
    case 16:
        return espsec_sha256(key, 16, out);
    case 24:
        memcpy(out, key, 24);
        memcpy(out + 24, key + 8, 8);
        return ESPSEC_OK;
    case 32:
        memcpy(out, key, 32);
        return ESPSEC_OK;
    default:
        return espsec_fail(err, ESPSEC_ERR_KEY, "key is %zu bytes; 16, 24 or 32 expected", len);
    }
}

/* The secure boot engine's digest: AES-256-ECB with byte reversals, fed to SHA-512. */
static espsec_err_t bootloader_digest(const uint8_t key[32], const uint8_t *iv, size_t iv_len, const uint8_t *img,
                                      size_t img_len, uint8_t digest[64], espsec_error_t *err)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    espsec_err_t rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "AES/SHA-512 failed");
    int outl = 0;
    if (c == NULL || md == NULL || EVP_EncryptInit_ex(c, EVP_aes_256_ecb(), NULL, key, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(c, 0) != 1 || EVP_DigestInit_ex(md, EVP_sha512(), NULL) != 1) {
        goto done;
    }
    for (size_t off = 0; off < iv_len + img_len; off += 16) {
        const uint8_t *blk = off < iv_len ? iv + off : img + (off - iv_len);
        uint8_t in[16], ct[16], fed[16];
        reverse_copy(in, blk, 16);
        if (EVP_EncryptUpdate(c, ct, &outl, in, 16) != 1 || outl != 16) {
            goto done;
        }
        /* reverse the block, then each 4-byte word again: the words keep their
         * place order reversed and their bytes in the original order */
        uint8_t rev[16];
        reverse_copy(rev, ct, 16);
        for (int w = 0; w < 4; w++) {
            reverse_copy(fed + 4 * w, rev + 4 * w, 4);
        }
        if (EVP_DigestUpdate(md, fed, 16) != 1) {
            goto done;
        }
    }
    unsigned int dl = 0;
    if (EVP_DigestFinal_ex(md, digest, &dl) == 1) {
        rc = ESPSEC_OK;
    }
done:
    EVP_CIPHER_CTX_free(c);
    EVP_MD_CTX_free(md);
    return rc;
}

/* The part of a bootloader image the ROM digests, padded to 128 bytes (malloc'd). */
static espsec_err_t digestable_image(const uint8_t *image, size_t len, uint8_t **out, size_t *out_len,
                                     espsec_error_t *err)
{
    espsec_image_t img;
    espsec_err_t rc = espsec_image_parse(image, len, &img, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    size_t n = len;
    /* The ROM reads whole 128-byte blocks and does not look for the appended
     * SHA-256: drop a trailing partial block that holds only (part of) it. */
    if (img.hash_appended && n % 128 <= 32) {
        n -= n % 128;
    }
    size_t padded = (n + 127) / 128 * 128;
    uint8_t *buf = malloc(padded ? padded : 1);
    if (buf == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    memcpy(buf, image, n);
    memset(buf + n, 0xFF, padded - n);
    *out = buf;
    *out_len = padded;
    return ESPSEC_OK;
}

espsec_err_t espsec_sbv1_digest_bootloader(const uint8_t *image, size_t len, const uint8_t key[32],
                                           const uint8_t iv[128], uint8_t **out, size_t *out_len, espsec_error_t *err)
{
    return espsec_sbv1_digest_bootloader_iv(image, len, key, iv, 128, out, out_len, err);
}

espsec_err_t espsec_sbv1_digest_bootloader_iv(const uint8_t *image, size_t len, const uint8_t key[32],
                                              const uint8_t *iv, size_t iv_len, uint8_t **out, size_t *out_len,
                                              espsec_error_t *err)
{
    if (iv_len > 128 || iv_len % 16 != 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "IV of %zu bytes; up to 128 in 16-byte blocks expected",
                           iv_len);
    }
    uint8_t *img = NULL;
    size_t img_len = 0;
    espsec_err_t rc = digestable_image(image, len, &img, &img_len, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    uint8_t digest[64];
    rc = bootloader_digest(key, iv, iv_len, img, img_len, digest, err);
    if (rc != ESPSEC_OK) {
        free(img);
        return rc;
    }
    uint8_t *buf = malloc(0x1000 + img_len);
    if (buf == NULL) {
        free(img);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    memcpy(buf, iv, iv_len);
    for (int w = 0; w < 16; w++) {
        reverse_copy(buf + iv_len + 4 * w, digest + 4 * w, 4);
    }
    memset(buf + iv_len + 64, 0xFF, 0x1000 - iv_len - 64);
    memcpy(buf + 0x1000, img, img_len);
    free(img);
    *out = buf;
    *out_len = 0x1000 + img_len;
    return ESPSEC_OK;
}

espsec_err_t espsec_sbv1_check_bootloader_digest(const uint8_t *flash_at_0, size_t len, size_t image_len,
                                                 const uint8_t key[32], espsec_error_t *err)
{
    if (len < 0x1000 + image_len) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "flash too short for the bootloader digest check");
    }
    uint8_t *img = NULL;
    size_t img_len = 0;
    espsec_err_t rc = digestable_image(flash_at_0 + 0x1000, image_len, &img, &img_len, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    uint8_t digest[64], stored[64];
    rc = bootloader_digest(key, flash_at_0, 128, img, img_len, digest, err);
    free(img);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    for (int w = 0; w < 16; w++) {
        reverse_copy(stored + 4 * w, flash_at_0 + 128 + 4 * w, 4);
    }
    if (espsec_ct_compare(digest, stored, 64) != 0) {
        return espsec_fail(err, ESPSEC_ERR_VERIFY,
                           "offset 0x80: secure boot V1 bootloader digest does not match the bootloader "
                           "at 0x1000");
    }
    return ESPSEC_OK;
}
